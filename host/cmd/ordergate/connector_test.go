package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// connectorProc is how a connector process shows in /proc (the command
// name is cut at 15 characters).
const connectorProc = "ordergate-conne"

// fileChannel creates b2c channel id imported by the file connector from
// folder, polled every second.
func fileChannel(t *testing.T, h *e2e.Host, id, folder string, extra map[string]any) {
	t.Helper()
	cfg := map[string]any{"folder": folder}
	for k, v := range extra {
		cfg[k] = v
	}
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{
		"id": id, "kind": "b2c", "connector": "file", "config": cfg, "poll_interval": "1s",
	}, 201)
}

// dropTutorialOrder writes the tutorial order, as the file connector reads
// it (no channel_id), to a file of the folder.
func dropTutorialOrder(t *testing.T, folder, name string) {
	t.Helper()
	o := tutorialOrder(t)
	delete(o, "channel_id")
	data, _ := json.Marshal([]any{o})
	writeFile(t, filepath.Join(folder, name), string(data))
}

// channelOrders lists every order of the channel.
func channelOrders(t *testing.T, h *e2e.Host, channel string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		page := decode(t, mustDo(t, h, "GET", "/api/v1/orders?limit=500&channel_id="+channel+"&cursor="+cursor, h.AdminKey, nil, 200))
		for _, o := range page["orders"].([]any) {
			out = append(out, o.(map[string]any))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func runsOf(t *testing.T, h *e2e.Host, channel string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range decode(t, mustDo(t, h, "GET", "/api/v1/channels/"+channel+"/runs", h.AdminKey, nil, 200))["runs"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// TestFileConnectorImportsDroppedFiles is the B2C path end to end: the
// real host runs the real file connector, which imports a dropped file;
// the tutorial order arrives held with "Review Needed", the file moves to
// processed/, and a malformed file is set aside with its error on the run.
func TestFileConnectorImportsDroppedFiles(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir)
	folder := t.TempDir()

	list := decode(t, mustDo(t, h, "GET", "/api/v1/connectors", h.AdminKey, nil, 200))
	var names []string
	for _, c := range list["connectors"].([]any) {
		if c.(map[string]any)["version"] == "" {
			t.Errorf("connector without a version: %v", c)
		}
		names = append(names, c.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"file", "shopify"}) {
		t.Fatalf("connectors = %v", names)
	}
	// A bad configuration names the field.
	bad := decode(t, mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{
		"id": "shop", "kind": "b2c", "connector": "file", "config": map[string]any{"folder": folder, "page_size": "big"},
	}, 422))
	if f := bad["errors"].([]any)[0].(map[string]any)["field"]; f != "config.page_size" {
		t.Errorf("problem = %v", bad)
	}

	fileChannel(t, h, "shop", folder, nil)
	test := decode(t, mustDo(t, h, "POST", "/api/v1/channels/shop/test", h.AdminKey, nil, 200))
	if test["ok"] != true || !strings.Contains(test["detail"].(string), folder) {
		t.Errorf("connection test = %v", test)
	}

	dropTutorialOrder(t, folder, "orders-1.json")
	writeFile(t, filepath.Join(folder, "broken.json"), `[{"external_id": "x", "line_items": [`)

	var got map[string]any
	e2e.Eventually(t, 30*time.Second, func() error {
		orders := channelOrders(t, h, "shop")
		if len(orders) != 1 {
			return fmt.Errorf("%d orders imported, want 1", len(orders))
		}
		got = orders[0]
		return nil
	})
	if got["status"] != "on_hold" || !slices.Contains(strs(got["tags"]), "Review Needed") || got["external_id"] != "shopify-5531203" {
		t.Errorf("imported order: status %v tags %v external_id %v", got["status"], got["tags"], got["external_id"])
	}

	// The next run confirms the file and moves it; the broken one is aside.
	e2e.Eventually(t, 30*time.Second, func() error {
		if _, err := os.Stat(filepath.Join(folder, "processed", "orders-1.json")); err != nil {
			return err
		}
		_, err := os.Stat(filepath.Join(folder, "failed", "broken.json.error.txt"))
		return err
	})
	// The run that met the broken file says so: partial, with it counted
	// and named (issue 13: a bad file is a channel failure).
	var sawProblem, sawImport bool
	for _, r := range runsOf(t, h, "shop") {
		errs, _ := r["errors"].([]any)
		for _, e := range errs {
			sawProblem = sawProblem || (strings.Contains(e.(string), "broken.json") && r["status"] != "succeeded" && r["problems"] == 1.0)
		}
		sawImport = sawImport || (r["imported"] == 1.0 && r["held"] == 1.0)
	}
	if !sawProblem || !sawImport {
		t.Errorf("runs do not show the import and the broken file: %v", runsOf(t, h, "shop"))
	}
	if n := len(channelOrders(t, h, "shop")); n != 1 {
		t.Errorf("%d orders after more runs, want 1", n)
	}
	// The connector's own log line reaches the host's log under its name.
	h.WaitLog(t, `"@message":"file set aside","@module":"connector.file"`, 1, 10*time.Second)

	// A channel created without a poll interval shows the one in force.
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "quiet", "kind": "b2c", "connector": "file", "config": map[string]any{"folder": folder}, "enabled": false}, 201)
	if got := decode(t, mustDo(t, h, "GET", "/api/v1/channels/quiet", h.AdminKey, nil, 200)); got["poll_interval"] != "5m" {
		t.Errorf("a channel without poll_interval shows %v, want the default 5m", got["poll_interval"])
	}
	// The connection test names a bad setting as the create and patch do:
	// config.<name>.
	mustDo(t, h, "PATCH", "/api/v1/channels/quiet", h.AdminKey, map[string]any{"config": map[string]any{"folder": folder, "format": "xml"}}, 200)
	test = decode(t, mustDo(t, h, "POST", "/api/v1/channels/quiet/test", h.AdminKey, nil, 200))
	if fields, _ := test["fields"].([]any); len(fields) != 1 || fields[0].(map[string]any)["field"] != "config.format" {
		t.Errorf("connection test of a bad format = %v, want the field config.format", test)
	}
}

// TestConnectorKilledMidImport kills the connector process while it
// streams 6,000 orders: the next run resumes from the saved cursor and
// every order is stored exactly once.
func TestConnectorKilledMidImport(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir)
	folder := t.TempDir()
	const files, perFile = 12, 500
	writeOrderFiles(t, folder, files, perFile)
	fileChannel(t, h, "shop", folder, map[string]any{"page_size": 50})

	// Once some pages are stored, kill the connector.
	e2e.Eventually(t, 60*time.Second, func() error {
		for _, r := range runsOf(t, h, "shop") {
			if r["status"] == "running" && r["imported"].(float64) >= 200 {
				return nil
			}
		}
		return fmt.Errorf("no run has imported 200 orders yet: %v", runsOf(t, h, "shop"))
	})
	pids := e2e.Children(h.PID(), connectorProc)
	if len(pids) != 1 {
		t.Fatalf("connector processes under the host: %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	e2e.Eventually(t, 120*time.Second, func() error {
		if n := len(channelOrders(t, h, "shop")); n != files*perFile {
			return fmt.Errorf("%d of %d orders stored", n, files*perFile)
		}
		return nil
	})
	seen := map[string]bool{}
	for _, o := range channelOrders(t, h, "shop") {
		id := o["external_id"].(string)
		if seen[id] {
			t.Errorf("order %s stored twice", id)
		}
		seen[id] = true
	}
	var failed, after bool
	for _, r := range runsOf(t, h, "shop") { // newest first
		if r["status"] == "failed" {
			failed = true
		}
		if !failed && r["status"] == "succeeded" {
			after = true
		}
	}
	if !failed || !after {
		t.Errorf("runs should show the failed run and a later successful one: %v", runsOf(t, h, "shop"))
	}
	t.Logf("%d orders stored once each after the connector was killed mid-import", len(seen))
}

// orderFileName and orderFileExternalID name writeOrderFiles' file f and
// its order i.
func orderFileName(f int) string          { return fmt.Sprintf("batch-%04d.ndjson", f) }
func orderFileExternalID(f, i int) string { return fmt.Sprintf("f%04d-%04d", f, i) }

// writeOrderFiles writes files NDJSON files (orderFileName) of perFile
// distinct copies of the tutorial order each, with external ids from
// orderFileExternalID, so a test can tell which file an order came from.
func writeOrderFiles(t *testing.T, folder string, files, perFile int) {
	t.Helper()
	for f := range files {
		var lines []string
		for i := range perFile {
			o := tutorialOrder(t)
			delete(o, "channel_id")
			o["external_id"] = orderFileExternalID(f, i)
			o["number"] = o["external_id"]
			o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d Main St", f*perFile+i), "city": "Austin", "country": "US"}
			data, _ := json.Marshal(o)
			lines = append(lines, string(data))
		}
		writeFile(t, filepath.Join(folder, orderFileName(f)), strings.Join(lines, "\n"))
	}
}

// TestPinnedChecksum refuses a connector binary that does not match its
// pin and accepts one that does.
func TestPinnedChecksum(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(pluginDir, "ordergate-connector-file"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	for _, tc := range []struct {
		name, pin string
		status    int
	}{
		{"mismatch", strings.Repeat("ab", 32), 422},
		{"match", hex.EncodeToString(sum[:]), 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pins := filepath.Join(t.TempDir(), "SHA256SUMS")
			writeFile(t, pins, tc.pin+"  ordergate-connector-file\n")
			h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir, "--plugin-checksums", pins)
			body := mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{
				"id": "shop", "kind": "b2c", "connector": "file", "config": map[string]any{"folder": t.TempDir()},
			}, tc.status)
			if tc.status == 422 && !strings.Contains(string(body), "does not match its pinned SHA-256") {
				t.Errorf("refusal does not say why: %s", body)
			}
		})
	}
}

// TestMissingPinFile: a pin file named on the command line must exist, so
// pinning cannot switch itself off.
func TestMissingPinFile(t *testing.T) {
	out := run(t, 1, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--policies", policies,
		"--plugins", pluginDir, "--plugin-checksums", filepath.Join(t.TempDir(), "no-such-file"))
	if !strings.Contains(out, "--plugin-checksums") {
		t.Errorf("the error does not name the flag: %s", out)
	}
}

// TestNoOrphanConnectors: connectors end with their host, whether it stops
// cleanly or is killed.
func TestNoOrphanConnectors(t *testing.T) {
	for _, kill := range []bool{false, true} {
		t.Run(fmt.Sprintf("killed=%v", kill), func(t *testing.T) {
			h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir)
			fileChannel(t, h, "shop", t.TempDir(), nil)
			pids := e2e.Children(h.PID(), connectorProc)
			if len(pids) != 1 {
				t.Fatalf("connector processes: %v", pids)
			}
			if kill {
				h.Kill()
			} else if code, err := h.Stop(30 * time.Second); err != nil || code != 0 {
				t.Fatalf("stop: %d %v", code, err)
			}
			e2e.Eventually(t, 15*time.Second, func() error {
				if e2e.Alive(pids[0]) {
					return fmt.Errorf("connector %d still runs after its host ended", pids[0])
				}
				return nil
			})
		})
	}
}

var _ = context.Background

// TestLargePage streams one page of more than gRPC's default 4 MiB
// message limit through the real processes.
func TestLargePage(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir)
	folder := t.TempDir()
	const n = 2000
	note := strings.Repeat("Please leave the parcel with the neighbour. ", 60) // about 2.6 KB
	var lines []string
	for i := range n {
		o := tutorialOrder(t)
		delete(o, "channel_id")
		o["external_id"], o["number"], o["note"] = fmt.Sprintf("big-%04d", i), fmt.Sprintf("big-%04d", i), note
		o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d Main St", i), "city": "Austin", "country": "US"}
		data, _ := json.Marshal(o)
		lines = append(lines, string(data))
	}
	body := strings.Join(lines, "\n")
	if len(body) < 5<<20 {
		t.Fatalf("the page is only %d bytes", len(body))
	}
	writeFile(t, filepath.Join(folder, "big.ndjson"), body)
	fileChannel(t, h, "shop", folder, map[string]any{"page_size": n})
	e2e.Eventually(t, 120*time.Second, func() error {
		for _, r := range runsOf(t, h, "shop") {
			if r["status"] == "failed" {
				return fmt.Errorf("run failed: %v", r["errors"])
			}
			if r["imported"] == float64(n) && r["pages"] == 1.0 {
				return nil
			}
		}
		return fmt.Errorf("no run has imported the page yet")
	})
}
