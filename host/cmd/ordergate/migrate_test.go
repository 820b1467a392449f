package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestMigrate copies a used bbolt store into PostgreSQL with `ordergate
// migrate` and serves it: every order reads back byte for byte, the keys
// work, the channel's cursor and runs, the catalog, stock, routing,
// settings, destination (with its secret) and alerts are there. A second
// run finds its copy and does nothing; a run into a database holding
// something else is refused.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	data, folder := t.TempDir(), t.TempDir()
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies, "--plugins", pluginDir)
	admin := h.AdminKey
	reseller := lastLine(t, string(mustDo(t, h, "POST", "/api/v1/keys", admin, map[string]any{"role": "reseller", "channel_id": "acme", "name": "Acme"}, 201)))
	var created map[string]any
	decodeInto(t, []byte(reseller), &created)
	resellerKey := created["secret"].(string)

	mustDo(t, h, "POST", "/api/v1/sources", admin, map[string]any{"id": "wh1", "name": "Warehouse 1"}, 201)
	mustDo(t, h, "POST", "/api/v1/catalog", admin, map[string]any{"items": []any{map[string]any{"sku": "V789", "title": "Vase"}}}, 200)
	mustDo(t, h, "POST", "/api/v1/inventory", admin, map[string]any{"levels": []any{map[string]any{"source_id": "wh1", "sku": "V789", "available": 40}}}, 200)
	mustDo(t, h, "POST", "/api/v1/routing-groups", admin, map[string]any{"id": "main", "name": "Main", "default": true, "sources": []any{map[string]any{"source_id": "wh1"}}}, 201)
	mustDo(t, h, "PATCH", "/api/v1/settings", admin, map[string]any{"duplicate_protection": map[string]any{"window": "48h"}}, 200)
	mustDo(t, h, "POST", "/api/v1/alert-destinations", admin, map[string]any{"name": "sales", "kind": "webhook", "url": "http://127.0.0.1:1/hook", "secret": "whsec_migrated"}, 201)

	// Orders: the tutorial held and approved, a large one raising an alert,
	// one posted with an Idempotency-Key, and a channel's import.
	mustDo(t, h, "POST", "/api/v1/channels", admin, map[string]any{"id": "shopify", "kind": "b2c"}, 201)
	held := decode(t, mustDo(t, h, "POST", "/api/v1/orders", admin, tutorialOrder(t), 201))
	mustDo(t, h, "POST", "/api/v1/orders/"+held["id"].(string)+"/release", admin, map[string]any{"note": "checked"}, 200)
	big := tutorialOrder(t)
	delete(big, "channel_id")
	big["external_id"], big["totals"] = "big-1", map[string]any{"total": "2500.00"}
	mustDo(t, h, "POST", "/api/v1/orders", resellerKey, big, 201)
	writeOrderFiles(t, folder, 2, 50)
	fileChannel(t, h, "shop", folder, nil)
	e2e.Eventually(t, 30*time.Second, func() error {
		if n := len(channelOrders(t, h, "shop")); n != 100 {
			return fmt.Errorf("%d of 100 orders imported", n)
		}
		return nil
	})
	mustDo(t, h, "PATCH", "/api/v1/channels/shop", admin, map[string]any{"enabled": false}, 200)
	before := storedOrders(t, h, admin)
	runsBefore := runsOf(t, h, "shop")
	alertsBefore := decode(t, mustDo(t, h, "GET", "/api/v1/alerts", admin, nil, 200))["alerts"].([]any)
	if code, err := h.Stop(30 * time.Second); err != nil || code != 0 {
		t.Fatalf("stopping the host: %d %v", code, err)
	}

	keyFile := filepath.Join(t.TempDir(), "key")
	writeFile(t, keyFile, e2e.TestSecretKey)
	dsn := postgresServer(t).NewDatabase(t)
	out := run(t, 0, "migrate", "--from", data, "--to", dsn, "--secret-key-file", keyFile)
	if !strings.Contains(out, "migrated") || !strings.Contains(out, fmt.Sprintf("orders              %d", len(before))) {
		t.Errorf("migrate said:\n%s", out)
	}
	if strings.Contains(out, "pg-Secret") {
		t.Errorf("migrate printed the database password:\n%s", out)
	}
	again := run(t, 0, "migrate", "--from", data, "--to", dsn, "--secret-key-file", keyFile)
	if !strings.Contains(again, "nothing to do") {
		t.Errorf("a second run said:\n%s", again)
	}
	other := postgresServer(t).NewDatabase(t)
	p := e2e.Start(t, bin, nil, "--store", other, "--policies", policies)
	p.Stop(30 * time.Second)
	refused := run(t, 1, "migrate", "--from", data, "--to", other, "--secret-key-file", keyFile)
	if !strings.Contains(refused, "not empty") {
		t.Errorf("a run into a database holding other data said:\n%s", refused)
	}

	pg := e2e.Start(t, bin, nil, "--store", dsn, "--policies", policies, "--plugins", pluginDir)
	if pg.AdminKey != "" {
		t.Error("the host on the copy printed a new admin key")
	}
	pg.AdminKey = admin
	after := storedOrders(t, pg, admin)
	if len(after) != len(before) {
		t.Fatalf("%d orders after the copy, %d before", len(after), len(before))
	}
	for ext, body := range before {
		if string(after[ext]) != string(body) {
			t.Errorf("order %s reads\n%s\nafter the copy, was\n%s", ext, after[ext], body)
		}
	}
	mustDo(t, pg, "GET", "/api/v1/orders?limit=1", resellerKey, nil, 200)
	if got := runsOf(t, pg, "shop"); len(got) != len(runsBefore) || got[0]["id"] != runsBefore[0]["id"] || got[0]["imported"] != runsBefore[0]["imported"] {
		t.Errorf("runs after the copy: %v, before: %v", got, runsBefore)
	}
	if got := decode(t, mustDo(t, pg, "GET", "/api/v1/alerts", admin, nil, 200))["alerts"].([]any); len(got) != len(alertsBefore) {
		t.Errorf("%d alerts after the copy, %d before", len(got), len(alertsBefore))
	}
	stock := decode(t, mustDo(t, pg, "GET", "/api/v1/inventory?source_id=wh1", admin, nil, 200))
	if levels := stock["levels"].([]any); len(levels) != 1 || levels[0].(map[string]any)["available"] != float64(40) {
		t.Errorf("stock after the copy: %v", stock)
	}
	dest := decode(t, mustDo(t, pg, "GET", "/api/v1/alert-destinations/sales", admin, nil, 200))
	if dest["url"] != "http://127.0.0.1:1/hook" {
		t.Errorf("destination after the copy: %v", dest)
	}
	settings := decode(t, mustDo(t, pg, "GET", "/api/v1/settings", admin, nil, 200))
	if settings["duplicate_protection"].(map[string]any)["window"] != "48h0m0s" && settings["duplicate_protection"].(map[string]any)["window"] != "48h" {
		t.Errorf("settings after the copy: %v", settings)
	}
	mustDo(t, pg, "GET", "/api/v1/routing-groups/main", admin, nil, 200)
	_ = ctx
}
