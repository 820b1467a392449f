package main_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestPolicyBacktest: `ordergate policy backtest` replays a candidate
// that raises the review limit, on a running host (--host, --key) and on
// a stopped host's data directory (--data), and both say the same: the
// #1203 look-alike of quantity 5 stops being held, that of 9 does not.
// On the stopped host the database file is byte-identical afterwards.
// `policy stats` prints the rule's hits.
func TestPolicyBacktest(t *testing.T) {
	data := t.TempDir()
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "shopify", "name": "Shopify", "kind": "b2c"}, 201)
	ids := map[int]string{}
	for _, q := range []int{2, 5, 9} {
		o := tutorialOrder(t)
		o["external_id"], o["number"] = fmt.Sprintf("bt-%d", q), fmt.Sprintf("#%d", 1200+q)
		o["customer"] = map[string]any{"name": "Customer", "email": fmt.Sprintf("c%d@example.com", q)}
		o["line_items"] = []any{map[string]any{"sku": "V789", "title": "Valve V789", "quantity": q, "unit_price": "19.99"}}
		ids[q] = decode(t, mustDo(t, h, "POST", "/api/v1/orders", h.AdminKey, o, 201))["id"].(string)
	}
	candidate := t.TempDir()
	if err := os.CopyFS(candidate, os.DirFS(policies)); err != nil {
		t.Fatal(err)
	}
	dataFile := filepath.Join(candidate, "data.yaml")
	b, _ := os.ReadFile(dataFile)
	writeFile(t, dataFile, strings.Replace(string(b), "max_line_quantity: 4", "max_line_quantity: 6", 1))
	os.Remove(filepath.Join(candidate, "workflow", "review_test.rego"))
	os.Remove(filepath.Join(candidate, "workflow", "workflow_test.rego"))

	type result struct {
		OrdersEvaluated int `json:"orders_evaluated"`
		OrdersChanged   int `json:"orders_changed"`
		Changes         []struct {
			OrderID string `json:"order_id"`
			Status  struct {
				From, To string
			} `json:"status"`
			TagsRemoved []string `json:"tags_removed"`
		} `json:"changes"`
	}
	check := func(how, out string) {
		t.Helper()
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: stdout is not the JSON result: %v\n%s", how, err, out)
		}
		if r.OrdersEvaluated != 3 || r.OrdersChanged != 1 || len(r.Changes) != 1 || r.Changes[0].OrderID != ids[5] ||
			r.Changes[0].Status.From != "on_hold" || r.Changes[0].Status.To != "open" || !slices.Equal(r.Changes[0].TagsRemoved, []string{"Review Needed"}) {
			t.Errorf("%s: result %+v, want only order %s (quantity 5) to open", how, r, ids[5])
		}
	}
	stdout, stderr := runSplit(t, 0, "policy", "backtest", "--policies", candidate, "--host", h.URL, "--key", h.AdminKey, "--format", "json")
	check("--host", stdout)
	if !strings.Contains(stderr, "3 of 3 orders replayed") {
		t.Errorf("--host: no progress on stderr: %q", stderr)
	}
	table, _ := runSplit(t, 0, "policy", "backtest", "--policies", candidate, "--host", h.URL, "--key", h.AdminKey, "--since", "24h")
	for _, want := range []string{"3 orders replayed, 1 would change", "ordergate.workflow.review.hold_large_quantity", ids[5], "on_hold -> open", "-tag Review Needed"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	stats, _ := runSplit(t, 0, "policy", "stats", "--host", h.URL, "--key", h.AdminKey)
	if !lineWith(stats, "review", "hold_large_quantity", " 2 ") {
		t.Errorf("policy stats does not count 2 hits of hold_large_quantity:\n%s", stats)
	}
	if out := run(t, 1, "policy", "backtest", "--policies", candidate, "--host", h.URL, "--key", h.AdminKey, "--status", "held"); !strings.Contains(out, "status") {
		t.Errorf("a bad --status is not named: %s", out)
	}
	if code, err := h.Stop(30 * time.Second); err != nil || code != 0 {
		t.Fatalf("stop: %d %v", code, err)
	}

	db := filepath.Join(data, "ordergate.db")
	before := digest(t, db)
	stdout, _ = runSplit(t, 0, "policy", "backtest", "--policies", candidate, "--data", data, "--format", "json")
	check("--data", stdout)
	if digest(t, db) != before {
		t.Error("a backtest on the stopped host's data changed its database file")
	}
}

// lineWith reports whether a line of s holds every one of parts.
func lineWith(s string, parts ...string) bool {
	for _, l := range strings.Split(s, "\n") {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(l+" ", p) }) {
			return true
		}
	}
	return false
}

func digest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// runSplit runs the binary, checks its exit code and returns stdout and
// stderr apart.
func runSplit(t *testing.T, wantCode int, args ...string) (string, string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, ".", args...)
	if code != wantCode {
		t.Fatalf("ordergate %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	return stdout, stderr
}
