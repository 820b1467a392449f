package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEventFeed: the feed lists each change in commit order with its
// cursor; reading after a cursor goes on; types filter; a reseller key
// reads its own channel's events only; bad cursors and types are 422s
// naming the parameter.
func TestEventFeed(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(2) // channel shopify: imported and held, each
	h.createChannel("acme", "b2b")
	acme := h.expect(h.do("POST", "/api/v1/orders", h.admin, order(t, map[string]any{"channel_id": "acme", "external_id": "a-1",
		"line_items": []any{map[string]any{"sku": "V789", "quantity": 1, "unit_price": "19.99"}}})), http.StatusCreated).json(t)
	h.expect(h.do("POST", "/api/v1/orders/"+ids[0]+"/release", h.admin, map[string]any{"note": "ok"}), http.StatusOK)

	type ev struct{ typ, order, cursor string }
	read := func(key, query string) ([]ev, string) {
		t.Helper()
		page := h.expect(h.do("GET", "/api/v1/events"+query, key, nil), http.StatusOK).json(t)
		var out []ev
		for _, e := range page["events"].([]any) {
			m := e.(map[string]any)
			out = append(out, ev{m["type"].(string), m["order_id"].(string), m["cursor"].(string)})
		}
		next, _ := page["next_cursor"].(string)
		return out, next
	}
	all, next := read(h.admin, "")
	var types []string
	for _, e := range all {
		types = append(types, e.typ+" "+e.order)
	}
	want := []string{"order.imported " + ids[0], "order.held " + ids[0], "order.imported " + ids[1], "order.held " + ids[1],
		"order.imported " + acme["id"].(string), "order.released " + ids[0]}
	if strings.Join(types, ",") != strings.Join(want, ",") || next != "" {
		t.Fatalf("feed = %v, next %q; want %v and no next_cursor (the end)", types, next, want)
	}
	page, next := read(h.admin, "?limit=2&after="+all[1].cursor)
	if len(page) != 2 || page[0] != all[2] || next != all[3].cursor {
		t.Errorf("after the second event, 2 at a time: %v, next %q", page, next)
	}
	if got, _ := read(h.admin, "?types=order.released,order.canceled"); len(got) != 1 || got[0].typ != "order.released" {
		t.Errorf("types=order.released,order.canceled: %v", got)
	}
	if got, _ := read(h.resellerKey("acme"), ""); len(got) != 1 || got[0].order != acme["id"] {
		t.Errorf("a reseller of acme reads %v, want its one order's event", got)
	}
	// Past the retention, the events go; a cursor before them is 410.
	for {
		if _, more, err := h.store.FanOutEvents(context.Background(), time.Now(), 1000); err != nil || !more {
			break
		}
	}
	if n, err := h.store.PruneEvents(context.Background(), time.Now().Add(time.Hour), 3); err != nil || n != 3 {
		t.Fatalf("pruned %d (%v)", n, err)
	}
	if p := h.expect(h.do("GET", "/api/v1/events?after="+all[0].cursor, h.admin, nil), http.StatusGone).json(t); !strings.Contains(p["detail"].(string), "updated_after") {
		t.Errorf("410 problem = %v, want it to say how to resynchronize", p)
	}
	if rest, _ := read(h.admin, "?after="+all[2].cursor); len(rest) != 3 {
		t.Errorf("after a kept cursor: %v", rest)
	}
	for _, tc := range []struct{ query, field string }{
		{"?after=nonsense", "after"},
		{"?types=order.shipped", "types"},
		{"?limit=0", "limit"},
	} {
		p := h.expect(h.do("GET", "/api/v1/events"+tc.query, h.admin, nil), http.StatusUnprocessableEntity).json(t)
		if !problemNames(p, tc.field) {
			t.Errorf("%s: problem %v does not name %s", tc.query, p, tc.field)
		}
	}
}
