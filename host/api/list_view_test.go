package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// basicFields are the fields of an order in a list of view=basic.
var basicFields = []string{"id", "channel_id", "external_id", "number", "placed_at", "currency", "customer", "totals", "tags",
	"status", "holds", "cancellation", "canceled_at", "cancel_reason", "imported_at", "updated_at"}

// TestListBasicView lists order #1203 on hold with view=basic: the
// fields a list shows, each as the whole order has it, and none of the
// rest; after the approval the basic view is the open order.
func TestListBasicView(t *testing.T) {
	for store, start := range map[string]func(*testing.T) *testHost{
		"bolt":     func(t *testing.T) *testHost { return newTestHost(t, shippedPolicies) },
		"postgres": func(t *testing.T) *testHost { return newHostsOnPostgres(t, 1)[0] },
	} {
		t.Run(store, func(t *testing.T) {
			h := start(t)
			h.createChannel("shopify", "b2c")
			o := order(t, map[string]any{"channel_id": "shopify"})
			o["customer"] = map[string]any{"name": "Dana Whitfield", "email": "dana@example.com", "phone": "+1 555 0100"}
			id := h.expect(h.do("POST", "/api/v1/orders", h.admin, o), http.StatusCreated).json(t)["id"].(string)

			wantBasic := func(query, status string) {
				t.Helper()
				whole := h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t)
				list := h.expect(h.do("GET", "/api/v1/orders?view=basic&"+query, h.admin, nil), http.StatusOK).json(t)["orders"].([]any)
				if len(list) != 1 {
					t.Fatalf("%s: %d orders, want #1203", query, len(list))
				}
				got := list[0].(map[string]any)
				if got["status"] != status {
					t.Errorf("%s: status %v, want %s", query, got["status"], status)
				}
				for _, k := range basicFields {
					if k == "customer" {
						continue
					}
					if a, b := js(got[k]), js(whole[k]); a != b {
						t.Errorf("%s: %s is %s in the basic view, %s in the order", query, k, a, b)
					}
				}
				if c := got["customer"].(map[string]any); c["name"] != "Dana Whitfield" || c["email"] != "dana@example.com" || c["phone"] != nil {
					t.Errorf("%s: customer = %v, want the name and email only", query, c)
				}
				for k, v := range got {
					if !slices.Contains(basicFields, k) && k != "shipping_address" && v != nil {
						t.Errorf("%s: the basic view has %s: %s", query, k, js(v))
					}
				}
				if a := got["shipping_address"].(map[string]any); a["address1"] != nil {
					t.Errorf("%s: the basic view has the address %v", query, a)
				}
			}
			wantBasic("status=on_hold", "on_hold")
			wantBasic("sort=-held_at&tag=Review+Needed", "on_hold")
			h.expect(h.do("POST", "/api/v1/orders/"+id+"/release", h.admin, map[string]any{"note": "customer confirmed 5 valves"}), http.StatusOK)
			wantBasic("status=open", "open")
			wantBasic("sku=V789", "open")

			r := h.expect(h.do("GET", "/api/v1/orders?view=brief", h.admin, nil), http.StatusUnprocessableEntity)
			if errs := problemFields(t, r); len(errs) != 1 || errs[0]["field"] != "view" {
				t.Errorf("view=brief: errors %v, want one naming view", errs)
			}
		})
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
