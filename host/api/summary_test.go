package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestQueueSummary: the summary counts the hold queue by reason, channel
// and age, names the oldest order per reason, and takes the list filters.
func TestQueueSummary(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(3)
	h.createChannel("acme", "b2b")
	h.expect(h.do("POST", "/api/v1/orders", h.admin, order(t, map[string]any{"channel_id": "acme", "external_id": "a-1",
		"line_items": []any{map[string]any{"sku": "V789", "quantity": 1, "unit_price": "19.99"}}})), http.StatusCreated)
	sum := h.expect(h.do("GET", "/api/v1/orders/summary", h.admin, nil), http.StatusOK).json(t)
	want := map[string]any{
		"total":      float64(3),
		"by_reason":  map[string]any{"custom_rule": float64(3)},
		"by_channel": map[string]any{"shopify": float64(3)},
		"by_age":     map[string]any{"<1h": float64(3), "1h-24h": float64(0), "1d-7d": float64(0), ">7d": float64(0)},
	}
	for k, v := range want {
		if !equalJSON(sum[k], v) {
			t.Errorf("%s = %v, want %v", k, sum[k], v)
		}
	}
	oldest := sum["oldest"].(map[string]any)["custom_rule"].(map[string]any)
	if oldest["id"] != ids[0] || oldest["number"] != "#1203" || oldest["held_at"] == nil {
		t.Errorf("oldest custom_rule = %v, want the first order held", oldest)
	}
	if s := h.expect(h.do("GET", "/api/v1/orders/summary?channel_id=acme", h.admin, nil), http.StatusOK).json(t); s["total"] != float64(0) {
		t.Errorf("acme's queue = %v", s)
	}
	if s := h.expect(h.do("GET", "/api/v1/orders/summary?status=open", h.admin, nil), http.StatusOK).json(t); s["total"] != float64(1) || !equalJSON(s["by_channel"], map[string]any{"acme": float64(1)}) {
		t.Errorf("open orders = %v", s)
	}
	h.expect(h.do("GET", "/api/v1/orders/summary", h.resellerKey("acme"), nil), http.StatusForbidden)
	if p := h.expect(h.do("GET", "/api/v1/orders/summary?status=late", h.admin, nil), http.StatusUnprocessableEntity).json(t); !problemNames(p, "status") {
		t.Errorf("problem %v does not name status", p)
	}
}

// equalJSON compares two decoded JSON values.
func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestSortedQueue: the hold queue oldest first, page by page, and newest
// first; held_before keeps the orders held longer than since a time.
func TestSortedQueue(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(3)
	list := func(query string) ([]string, string) {
		t.Helper()
		page := h.expect(h.do("GET", "/api/v1/orders"+query, h.admin, nil), http.StatusOK).json(t)
		var got []string
		for _, o := range page["orders"].([]any) {
			got = append(got, o.(map[string]any)["id"].(string))
		}
		next, _ := page["next_cursor"].(string)
		return got, next
	}
	first, next := list("?sort=held_at&limit=2")
	rest, end := list("?sort=held_at&limit=2&cursor=" + next)
	if got := append(first, rest...); !equalJSON(got, ids) || end != "" {
		t.Errorf("sort=held_at, 2 a page: %v (end %q), want %v, oldest first", got, end, ids)
	}
	if got, _ := list("?sort=-held_at"); !equalJSON(got, []string{ids[2], ids[1], ids[0]}) {
		t.Errorf("sort=-held_at: %v", got)
	}
	if got, _ := list("?held_before=2000-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("held before 2000: %v", got)
	}
	for _, tc := range []struct{ query, field string }{{"?sort=age", "sort"}, {"?sort=held_at&cursor=bad", "cursor"}} {
		if p := h.expect(h.do("GET", "/api/v1/orders"+tc.query, h.admin, nil), http.StatusUnprocessableEntity).json(t); !problemNames(p, tc.field) {
			t.Errorf("%s: problem %v does not name %s", tc.query, p, tc.field)
		}
	}
}
