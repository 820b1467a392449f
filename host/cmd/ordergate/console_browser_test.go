package main_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// chromiumPath is where Debian's chromium package installs the browser
// (.ci/run installs it).
const chromiumPath = "/usr/bin/chromium"

// browserContext starts a headless Chromium for the test.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("ORDERGATE_SKIP_BROWSER") == "1" {
			t.Skip("ORDERGATE_SKIP_BROWSER=1 and no Chromium at " + chromiumPath)
		}
		t.Fatalf("the console's browser tests need Chromium at %s (Debian: apt-get install chromium; ORDERGATE_SKIP_BROWSER=1 skips them): %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.Headless, chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if _, err := chromedp.Run(bctx, chromedp.Location()); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return bctx
}

// do runs browser steps, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action and returns its value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type css = chromedp.CSS

// screenshot saves a page as a test artifact and, when
// ORDERGATE_SCREENSHOTS names a directory (docs/console refreshes the
// committed ones), there too.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{t.ArtifactDir()}
	if d := os.Getenv("ORDERGATE_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// consoleHost starts the real binary on a data directory with an
// operator account (ada) and an admin account (root), a Shopify channel,
// a catalog with stock, and orders held for a custom rule and for
// insufficient quantity.
func consoleHost(t *testing.T) (*e2e.Host, map[string]string) {
	t.Helper()
	data := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "correct horse battery staple\n")
	run(t, 0, "users", "create", "--username", "ada", "--role", "operator", "--password-file", pw, "--data", data)
	run(t, 0, "users", "create", "--username", "root", "--role", "admin", "--password-file", pw, "--data", data)
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies, "--plugins", pluginDir)
	key := h.AdminKey
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "shopify", "name": "Shopify", "kind": "b2c"}, 201)
	mustDo(t, h, "POST", "/api/v1/catalog", key, map[string]any{"items": []any{map[string]any{"sku": "V789", "title": "Valve V789"}, map[string]any{"sku": "H100", "title": "Hose H100"}}}, 200)
	mustDo(t, h, "POST", "/api/v1/sources", key, map[string]any{"id": "austin", "name": "Austin DC"}, 201)
	mustDo(t, h, "POST", "/api/v1/routing-groups", key, map[string]any{"id": "all", "name": "All", "default": true, "sources": []any{map[string]any{"source_id": "austin"}}}, 201)
	mustDo(t, h, "POST", "/api/v1/inventory", key, map[string]any{"levels": []any{map[string]any{"source_id": "austin", "sku": "V789", "available": 1000}, map[string]any{"source_id": "austin", "sku": "H100", "available": 0}}}, 200)
	ids := map[string]string{}
	post := func(number, sku string, qty int) {
		o := tutorialOrder(t)
		o["number"], o["external_id"] = number, "ext"+number
		o["shipping_address"].(map[string]any)["address1"] = number + " Main St"
		o["line_items"] = []any{map[string]any{"sku": sku, "title": sku, "quantity": qty, "unit_price": "19.99"}}
		got := decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, o, 201))
		if got["status"] != "on_hold" {
			t.Fatalf("order %s is %v, want on_hold", number, got["status"])
		}
		ids[number] = got["id"].(string)
	}
	post("#1203", "V789", 5)
	post("#2001", "V789", 6)
	post("#2002", "V789", 7)
	post("#1400", "H100", 1)
	return h, ids
}

func signInAs(t *testing.T, ctx context.Context, h *e2e.Host, username string) {
	t.Helper()
	do(t, ctx, "signing in as "+username,
		chromedp.Navigate(h.URL+"/login"),
		chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), username),
		chromedp.SendKeys(css("#password"), "correct horse battery staple"),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#held-total")))
}

// TestConsoleInBrowser works the hold queue in Chromium against the real
// host: sign in, #1203 on hold with "Review Needed", filter by reason,
// bulk-release two orders with a note, an order's timeline, stock that
// clears an insufficient-quantity hold while the queue's count drops by
// itself, a dry run, and a failed channel. It saves a screenshot of
// each page.
func TestConsoleInBrowser(t *testing.T) {
	h, ids := consoleHost(t)
	ctx := browserContext(t)

	do(t, ctx, "opening the console signed out", chromedp.Navigate(h.URL+"/"), chromedp.WaitVisible(css("#username")))
	if loc := get(t, ctx, chromedp.Location()); loc != h.URL+"/login" {
		t.Fatalf("signed out, / went to %s", loc)
	}
	do(t, ctx, "a wrong password shows an error",
		chromedp.SendKeys(css("#username"), "ada"),
		chromedp.SendKeys(css("#password"), "not the password"),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#login-error")))
	screenshot(t, ctx, "login")

	signInAs(t, ctx, h, "ada")
	text := get(t, ctx, chromedp.Text(css("main")))
	if !strings.Contains(text, "#1203") || !strings.Contains(text, "Review Needed") || !strings.Contains(text, "Insufficient quantity") {
		t.Fatalf("the queue does not show #1203 with Review Needed:\n%s", text)
	}
	screenshot(t, ctx, "queue")

	// Filter by reason: a click on its count.
	do(t, ctx, "filtering by reason",
		chromedp.Click(css(`a[data-reason="insufficient_quantity"]`)),
		chromedp.WaitVisible(css(`a[data-reason="insufficient_quantity"][aria-current]`)))
	loc := get(t, ctx, chromedp.Location())
	text = get(t, ctx, chromedp.Text(css("table.orders tbody")))
	if !strings.HasSuffix(loc, "/?reason=insufficient_quantity") || !strings.Contains(text, "#1400") || strings.Contains(text, "#1203") {
		t.Fatalf("filtered by reason: %s lists\n%s", loc, text)
	}

	// Bulk release two orders with a note, after the dry run's count.
	do(t, ctx, "a bulk release's dry run",
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(css("#held-total")),
		chromedp.Click(css(`input[aria-label="Select order #2001"]`)),
		chromedp.Click(css(`input[aria-label="Select order #2002"]`)),
		chromedp.SendKeys(css("#bulk-note"), "stock checked by phone"),
		chromedp.Click(css(`button[value="release"]`)),
		chromedp.WaitVisible(css("#bulk-dry-run")))
	if text = get(t, ctx, chromedp.Text(css("#bulk-dry-run"))); !strings.Contains(text, "This will release 2 orders") {
		t.Fatalf("the dry run says %q", text)
	}
	screenshot(t, ctx, "bulk")
	do(t, ctx, "confirming the bulk release", chromedp.Click(css("#bulk-confirm")), chromedp.WaitVisible(css("#bulk-outcome")))
	for _, n := range []string{"#2001", "#2002"} {
		o := decode(t, mustDo(t, h, "GET", "/api/v1/orders/"+ids[n], h.AdminKey, nil, 200))
		events := fmt.Sprint(o["events"])
		if o["status"] != "open" || !strings.Contains(events, "stock checked by phone") || !strings.Contains(events, "user:ada") {
			t.Fatalf("%s after the bulk release: %v %s", n, o["status"], events)
		}
	}

	// An order's page and its timeline.
	do(t, ctx, "opening an order", chromedp.Navigate(h.URL+"/orders/"+ids["#1400"]), chromedp.WaitVisible(css("#timeline")))
	text = get(t, ctx, chromedp.Text(css("main")))
	for _, want := range []string{"Insufficient quantity", "Austin DC: 0", "imported by channel:shopify", "decision by workflow", "The last decision"} {
		if !strings.Contains(text, want) {
			t.Errorf("the order page lacks %q:\n%s", want, text)
		}
	}
	screenshot(t, ctx, "order")

	// Stock comes: the hold clears and the queue's count drops without a
	// reload (the page refreshes its counts).
	do(t, ctx, "opening the queue", chromedp.Navigate(h.URL+"/"), chromedp.WaitVisible(css(`[data-count="insufficient_quantity"]`)))
	if text = get(t, ctx, chromedp.Text(css(`[data-count="insufficient_quantity"]`))); text != "1" {
		t.Fatalf("insufficient quantity count %q, want 1", text)
	}
	mustDo(t, h, "POST", "/api/v1/inventory", h.AdminKey, map[string]any{"levels": []any{map[string]any{"source_id": "austin", "sku": "H100", "available": 10}}}, 200)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-count="insufficient_quantity"]').textContent === "0"`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the count did not drop on the page: %v", err)
	}

	// A dry run of #1203 on the workflow page.
	do(t, ctx, "a dry run",
		chromedp.Navigate(h.URL+"/workflow"),
		chromedp.WaitVisible(css("#order_id")),
		chromedp.SendKeys(css("#order_id"), ids["#1203"]),
		chromedp.Click(css("#dry-run")),
		chromedp.WaitVisible(css("#dry-run-result")))
	if text = get(t, ctx, chromedp.Text(css("#dry-run-result"))); !strings.Contains(text, "on_hold") || !strings.Contains(text, "tag: Review Needed") {
		t.Fatalf("the dry run shows:\n%s", text)
	}
	screenshot(t, ctx, "workflow")

	// A channel whose imports fail: its folder is gone.
	folder := filepath.Join(t.TempDir(), "drop")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "webshop", "name": "Web shop", "kind": "b2c", "connector": "file",
		"config": map[string]any{"folder": folder}, "poll_interval": "1h"}, 201)
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "importing a channel now",
		chromedp.Navigate(h.URL+"/channels"),
		chromedp.WaitVisible(css("#channel-webshop")),
		chromedp.Click(css(`#channel-webshop form[action="/channels/webshop/import"] button`)),
		chromedp.WaitVisible(css("#channel-webshop")))
	e2e.Eventually(t, 30*time.Second, func() error {
		if err := chromedp.Do(ctx, chromedp.Navigate(h.URL+"/channels"), chromedp.WaitVisible(css("#channel-webshop"))); err != nil {
			return err
		}
		text, err := chromedp.Run(ctx, chromedp.Text(css("#channel-webshop")))
		if err != nil {
			return err
		}
		if !strings.Contains(text, "failed") || strings.Contains(text, " 0 failures in a row") {
			return fmt.Errorf("no failed run yet:\n%s", text)
		}
		return nil
	})
	screenshot(t, ctx, "channels")
	do(t, ctx, "opening the alerts", chromedp.Navigate(h.URL+"/alerts"), chromedp.WaitVisible(css("h1")))
	screenshot(t, ctx, "alerts")

	// An operator reaches no admin page.
	do(t, ctx, "opening an admin page", chromedp.Navigate(h.URL+"/users"), chromedp.WaitVisible(css("#error-message")))
	if status := get(t, ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].responseStatus`)); status != http.StatusForbidden {
		t.Fatalf("an operator's /users answered %d", status)
	}
}

// TestConsoleHostileData: orders whose every text field carries script
// are shown in the browser as text, and nothing of them runs.
func TestConsoleHostileData(t *testing.T) {
	h, _ := consoleHost(t)
	payloads := []string{`<script>window.__pwned=1</script>`, `"><img src=x onerror="window.__pwned=1">`, `javascript:window.__pwned=1`, `'-alert(1)-'`}
	var ids []string
	for i, p := range payloads {
		o := map[string]any{"channel_id": "shopify", "external_id": fmt.Sprint("hostile-", i), "number": p, "placed_at": "2026-11-28T09:30:00Z", "currency": "USD",
			"customer":         map[string]any{"name": p, "email": "x@example.com", "phone": p},
			"shipping_address": map[string]any{"name": p, "company": p, "address1": p, "address2": p, "city": p, "region": p, "postal_code": p, "country": "US"},
			"shipping_method":  p, "note": p, "tags": []string{p}, "custom_fields": map[string]string{"gift": p},
			"line_items": []any{map[string]any{"sku": "V789", "title": p, "quantity": 5, "unit_price": "1"}}, "totals": map[string]any{"total": "5"}}
		got := decode(t, mustDo(t, h, "POST", "/api/v1/orders", h.AdminKey, o, 201))
		ids = append(ids, got["id"].(string))
	}
	ctx := browserContext(t)
	// A dialog (alert) would be a script that ran.
	dialogs := make(chan string, 10)
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs <- d.Message
		}
	}); err != nil {
		t.Fatal(err)
	}
	signInAs(t, ctx, h, "ada")
	pages := []string{"/", "/?q=" + payloads[0]}
	for _, id := range ids {
		pages = append(pages, "/orders/"+id)
	}
	for _, path := range pages {
		do(t, ctx, "opening "+path, chromedp.Navigate(h.URL+path), chromedp.WaitReady(css("main")))
		if get(t, ctx, chromedp.Evaluate[bool](`window.__pwned !== undefined`)) {
			t.Fatalf("%s: a payload ran", path)
		}
		if text := get(t, ctx, chromedp.Text(css("main"))); strings.HasPrefix(path, "/orders/") && !strings.Contains(text, "window.__pwned=1") && !strings.Contains(text, "alert(1)") {
			t.Errorf("%s does not show the payload as text:\n%s", path, text)
		}
	}
	do(t, ctx, "opening the first hostile order", chromedp.Navigate(h.URL+"/orders/"+ids[0]), chromedp.WaitReady(css("main")))
	if text := get(t, ctx, chromedp.Text(css("main"))); !strings.Contains(text, payloads[0]) {
		t.Fatalf("the order page does not show %q literally:\n%s", payloads[0], text)
	}
	select {
	case d := <-dialogs:
		t.Fatalf("a payload opened a dialog: %s", d)
	default:
	}
}
