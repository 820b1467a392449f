package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestBadInputChangesNothing: every bad order gets an RFC 9457 problem
// naming the field at fault, and the store stays empty.
func TestBadInputChangesNothing(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	reseller := h.resellerKey("acme")
	h.createChannel("shopify", "b2c")
	valid, _ := json.Marshal(order(t, nil))
	tests := []struct {
		name   string
		key    string // "" means the reseller key
		body   any
		status int
		field  string
	}{
		{"not JSON", "", "hello", 400, "$"},
		{"truncated JSON", "", string(valid[:len(valid)/2]), 400, "$"},
		{"empty body", "", "", 400, "$"},
		{"trailing data", "", string(valid) + "{}", 400, "$"},
		{"invalid UTF-8", "", strings.Replace(string(valid), "Leave", "Le\xffve", 1), 400, "$"},
		{"array, not object", "", "[1,2]", 422, "$"},
		{"unknown field", "", order(t, map[string]any{"discount": "5"}), 422, "discount"},
		{"quantity as string", "", order(t, map[string]any{"line_items": []any{map[string]any{"sku": "V789", "quantity": "5", "unit_price": "1.00"}}}), 422, "line_items[0].quantity"},
		{"fractional quantity", "", order(t, map[string]any{"line_items": []any{map[string]any{"sku": "V789", "quantity": 1.5, "unit_price": "1.00"}}}), 422, "line_items[0].quantity"},
		{"zero quantity", "", order(t, map[string]any{"line_items": []any{map[string]any{"sku": "V789", "quantity": 0, "unit_price": "1.00"}}}), 422, "line_items[0].quantity"},
		{"negative quantity", "", order(t, map[string]any{"line_items": []any{map[string]any{"sku": "V789", "quantity": -2, "unit_price": "1.00"}}}), 422, "line_items[0].quantity"},
		{"money as number", "", order(t, map[string]any{"totals": map[string]any{"total": 113.2}}), 422, "totals.total"},
		{"invalid money", "", order(t, map[string]any{"totals": map[string]any{"total": "1,13"}}), 422, "totals.total"},
		{"invalid currency", "", order(t, map[string]any{"currency": "XYZ"}), 422, "currency"},
		{"invalid country", "", order(t, map[string]any{"shipping_address": map[string]any{"country": "ZZ"}}), 422, "shipping_address.country"},
		{"deep nesting", "", order(t, map[string]any{"custom_fields": map[string]any{"a": map[string]any{"b": map[string]any{"c": 1}}}}), 422, "custom_fields.a"},
		{"nesting 20,000 deep", "", `{"note": ` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 400, "$"},
		{"bad time", "", order(t, map[string]any{"placed_at": "yesterday"}), 422, "placed_at"},
		{"missing fields", "", map[string]any{"number": "#1"}, 422, "external_id"},
		{"host-owned field", "", order(t, map[string]any{"status": "open"}), 422, "status"},
		{"too many line items", "", order(t, map[string]any{"line_items": manyLines(1001)}), 422, "line_items"},
		{"oversize body", "", order(t, map[string]any{"note": strings.Repeat("x", 70<<10)}), 413, ""},
		{"reseller posting to another channel", "", order(t, map[string]any{"channel_id": "shopify"}), 403, "channel_id"},
		{"admin without channel", h.admin, order(t, nil), 422, "channel_id"},
		{"admin with unknown channel", h.admin, order(t, map[string]any{"channel_id": "nope"}), 422, "channel_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == "" {
				key = reseller
			}
			r := h.do("POST", "/api/v1/orders", key, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			p := r.json(t)
			if p["status"] != float64(tc.status) || p["type"] == "" || p["title"] == "" || p["detail"] == "" {
				t.Errorf("not a complete problem document: %s", r.body)
			}
			if tc.field != "" {
				var fields []string
				for _, e := range p["errors"].([]any) {
					fields = append(fields, e.(map[string]any)["field"].(string))
				}
				if !slices.Contains(fields, tc.field) {
					t.Errorf("fields at fault = %v, want %s", fields, tc.field)
				}
			}
			if n := h.countOrders(); n != 0 {
				t.Fatalf("bad input stored %d orders", n)
			}
		})
	}
}

func manyLines(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"sku": fmt.Sprint("S", i), "quantity": 1, "unit_price": "1.00"}
	}
	return out
}

func TestIdempotencyKeyHeader(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	key := h.resellerKey("acme")
	o := order(t, nil)
	first := h.expect(h.do("POST", "/api/v1/orders", key, o, "Idempotency-Key", "req-1"), http.StatusCreated).json(t)
	again := h.expect(h.do("POST", "/api/v1/orders", key, o, "Idempotency-Key", "req-1"), http.StatusOK).json(t)
	if again["id"] != first["id"] {
		t.Errorf("replay returned %v, want %v", again["id"], first["id"])
	}
	other := order(t, map[string]any{"external_id": "another"})
	r := h.expect(h.do("POST", "/api/v1/orders", key, other, "Idempotency-Key", "req-1"), http.StatusConflict)
	if !strings.Contains(string(r.body), "Idempotency-Key") {
		t.Errorf("conflict does not explain itself: %s", r.body)
	}
	if n := h.countOrders(); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

func TestBatch(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	key := h.resellerKey("acme")
	h.expect(h.do("POST", "/api/v1/orders", key, order(t, map[string]any{"external_id": "old"})), http.StatusCreated)

	batch := map[string]any{"orders": []any{
		order(t, map[string]any{"external_id": "b1"}),
		order(t, map[string]any{"external_id": "b2", "currency": "NOPE"}),
		order(t, map[string]any{"external_id": "old"}),
		order(t, map[string]any{"external_id": "b3", "line_items": []any{map[string]any{"sku": "A1", "quantity": 1, "unit_price": "2.00"}}}),
	}}
	res := h.expect(h.do("POST", "/api/v1/orders:batch", key, batch), http.StatusOK).json(t)
	var outcomes []string
	for _, r := range res["results"].([]any) {
		outcomes = append(outcomes, r.(map[string]any)["outcome"].(string))
	}
	if strings.Join(outcomes, ",") != "created,rejected,existing,created" {
		t.Errorf("outcomes = %v", outcomes)
	}
	rejected := res["results"].([]any)[1].(map[string]any)["problem"].(map[string]any)
	if rejected["errors"].([]any)[0].(map[string]any)["field"] != "orders[1].currency" {
		t.Errorf("rejected item's problem = %v", rejected)
	}
	if third := res["results"].([]any)[3].(map[string]any); third["status"] != "open" {
		t.Errorf("b3 has quantity 1 and should be open: %v", third)
	}
	if res["created"] != 2.0 || res["existing"] != 1.0 || res["rejected"] != 1.0 {
		t.Errorf("counts = %v %v %v", res["created"], res["existing"], res["rejected"])
	}
	if n := h.countOrders(); n != 3 {
		t.Errorf("%d orders, want 3", n)
	}

	// Duplicate external ids inside one batch reject the whole batch.
	dup := map[string]any{"orders": []any{order(t, map[string]any{"external_id": "d"}), order(t, map[string]any{"external_id": "d"})}}
	p := h.expect(h.do("POST", "/api/v1/orders:batch", key, dup), http.StatusUnprocessableEntity).json(t)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "orders[1].external_id" {
		t.Errorf("problem = %v", p)
	}
	// Over the batch size.
	big := make([]any, 1001)
	for i := range big {
		big[i] = map[string]any{}
	}
	h.expect(h.do("POST", "/api/v1/orders:batch", key, map[string]any{"orders": big}), http.StatusUnprocessableEntity)
	h.expect(h.do("POST", "/api/v1/orders:batch", key, map[string]any{}), http.StatusUnprocessableEntity)
	if n := h.countOrders(); n != 3 {
		t.Errorf("rejected batches stored orders: %d", n)
	}
}

func TestListQueryValidation(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	for _, q := range []string{"status=lost", "limit=0", "limit=501", "limit=x", "imported_after=monday"} {
		r := h.expect(h.do("GET", "/api/v1/orders?"+q, h.admin, nil), http.StatusUnprocessableEntity)
		if len(r.json(t)["errors"].([]any)) == 0 {
			t.Errorf("%s: no field named", q)
		}
	}
}
