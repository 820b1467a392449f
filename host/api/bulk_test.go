package api_test

import (
	"fmt"
	"net/http"
	"testing"
)

// heldOrders imports n reference orders (held for review), each shipped
// to its own address, and returns their ids.
func (h *testHost) heldOrders(n int) []string {
	h.t.Helper()
	h.createChannel("shopify", "b2c")
	var ids []string
	for i := range n {
		o := order(h.t.(*testing.T), map[string]any{"channel_id": "shopify", "external_id": fmt.Sprintf("bulk-%d", i),
			"shipping_address": map[string]any{"address1": fmt.Sprintf("%d Bulk St", i), "city": "Austin", "country": "US"}})
		got := h.expect(h.do("POST", "/api/v1/orders", h.admin, o), http.StatusCreated).json(h.t)
		if got["status"] != "on_hold" {
			h.t.Fatalf("order %d is %v", i, got["status"])
		}
		ids = append(ids, got["id"].(string))
	}
	return ids
}

// TestBulkReleaseByFilter: a dry run counts what would change and
// changes nothing; the release changes each held order once, with the
// note on its timeline; repeated, it changes nothing more.
func TestBulkReleaseByFilter(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(3)
	dry := h.expect(h.do("POST", "/api/v1/orders:release?tag=Review+Needed&dry_run=true", h.admin, map[string]any{"note": "checked stock"}), http.StatusOK).json(t)
	if dry["matched"] != float64(3) || dry["changed"] != float64(0) {
		t.Errorf("dry run = %v, want matched 3, changed 0", dry)
	}
	if n := len(h.expect(h.do("GET", "/api/v1/orders?status=on_hold", h.admin, nil), http.StatusOK).json(t)["orders"].([]any)); n != 3 {
		t.Fatalf("the dry run changed orders: %d on hold", n)
	}
	res := h.expect(h.do("POST", "/api/v1/orders:release?tag=Review+Needed", h.admin, map[string]any{"note": "checked stock"}), http.StatusOK).json(t)
	if res["matched"] != float64(3) || res["changed"] != float64(3) || len(res["skipped"].([]any)) != 0 || len(res["failed"].([]any)) != 0 {
		t.Errorf("release = %v", res)
	}
	for _, id := range ids {
		o := h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t)
		events := o["events"].([]any)
		last := events[len(events)-1].(map[string]any)
		if o["status"] != "open" || last["type"] != "released" || last["message"] != "checked stock" {
			t.Errorf("order %s: %v, last event %v", id, o["status"], last)
		}
	}
	// Repeated: the status filter (default on_hold) selects nothing now.
	again := h.expect(h.do("POST", "/api/v1/orders:release?tag=Review+Needed", h.admin, map[string]any{"note": "checked stock"}), http.StatusOK).json(t)
	if again["matched"] != float64(0) || again["changed"] != float64(0) {
		t.Errorf("repeated release = %v, want nothing", again)
	}
}

// TestBulkCancelByIDs: ids select the orders; one already canceled is
// skipped with why, so a repeated call changes nothing more.
func TestBulkCancelByIDs(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(2)
	h.expect(h.do("POST", "/api/v1/orders/"+ids[0]+"/cancel", h.admin, map[string]any{"reason": "fraud"}), http.StatusOK)
	res := h.expect(h.do("POST", "/api/v1/orders:cancel", h.admin, map[string]any{"note": "customer asked", "ids": ids}), http.StatusOK).json(t)
	skipped := res["skipped"].([]any)
	if res["matched"] != float64(2) || res["changed"] != float64(1) || len(skipped) != 1 || skipped[0].(map[string]any)["id"] != ids[0] {
		t.Errorf("cancel = %v, want one changed and %s skipped", res, ids[0])
	}
	again := h.expect(h.do("POST", "/api/v1/orders:cancel", h.admin, map[string]any{"note": "customer asked", "ids": ids}), http.StatusOK).json(t)
	if again["changed"] != float64(0) || len(again["skipped"].([]any)) != 2 {
		t.Errorf("repeated cancel = %v, want both skipped", again)
	}
}

// TestBulkRefusals: a bulk action with no note, with neither ids nor
// filters, with both, with an unknown id or from a reseller key is
// refused naming the field, and changes nothing.
func TestBulkRefusals(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(1)
	h.createChannel("acme", "b2b")
	for _, tc := range []struct {
		name, path, key string
		body            map[string]any
		status          int
		field           string
	}{
		{"no note", "/api/v1/orders:release", h.admin, map[string]any{"ids": ids}, 422, "note"},
		{"neither ids nor filters", "/api/v1/orders:release", h.admin, map[string]any{"note": "x"}, 422, "ids"},
		{"only dry_run is no filter", "/api/v1/orders:cancel?dry_run=true", h.admin, map[string]any{"note": "x"}, 422, "ids"},
		{"ids and filters", "/api/v1/orders:release?tag=x", h.admin, map[string]any{"note": "x", "ids": ids}, 422, "ids"},
		{"unknown id", "/api/v1/orders:cancel", h.admin, map[string]any{"note": "x", "ids": []string{ids[0], "01NOSUCHORDER0000000000000"}}, 422, "ids[1]"},
		{"bad dry_run", "/api/v1/orders:release?dry_run=yes", h.admin, map[string]any{"note": "x", "ids": ids}, 422, "dry_run"},
		{"reseller key", "/api/v1/orders:release", h.resellerKey("acme"), map[string]any{"note": "x", "ids": ids}, 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := h.expect(h.do("POST", tc.path, tc.key, tc.body), tc.status).json(t)
			if tc.field != "" && !problemNames(p, tc.field) {
				t.Errorf("problem %v does not name %s", p, tc.field)
			}
		})
	}
	if o := h.expect(h.do("GET", "/api/v1/orders/"+ids[0], h.admin, nil), http.StatusOK).json(t); o["status"] != "on_hold" {
		t.Errorf("a refused bulk action changed the order: %v", o["status"])
	}
}

func problemNames(p map[string]any, field string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}
