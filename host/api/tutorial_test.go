package api_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestTutorial is the README's tutorial, the reference scenario: order
// #1203 from Shopify with V789 x 5 is held by the shipped rule "hold
// orders with any line quantity over 4" with the tag "Review Needed"; an
// operator approves it and it becomes open.
func TestTutorial(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")

	o := order(t, map[string]any{"channel_id": "shopify"})
	r := h.expect(h.do("POST", "/api/v1/orders", h.admin, o), http.StatusCreated)
	got := r.json(t)
	id := got["id"].(string)
	if r.header.Get("Location") != "/api/v1/orders/"+id {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	if got["status"] != "on_hold" {
		t.Fatalf("status = %v, want on_hold", got["status"])
	}
	if tags := strs(got["tags"]); !slices.Contains(tags, "Review Needed") || !slices.Contains(tags, "web") {
		t.Errorf("tags = %v, want the order's own tag and Review Needed", tags)
	}
	holds := got["holds"].([]any)
	if len(holds) != 1 || holds[0].(map[string]any)["reason"] != "custom_rule" || holds[0].(map[string]any)["rule"] != "hold_large_quantity" {
		t.Errorf("holds = %v", holds)
	}
	li := got["line_items"].([]any)[0].(map[string]any)
	if li["sku"] != "V789" || li["quantity"] != 5.0 {
		t.Errorf("line item = %v", li)
	}

	// The hold queue shows it.
	q := h.expect(h.do("GET", "/api/v1/orders?status=on_hold&hold_reason=custom_rule", h.admin, nil), http.StatusOK).json(t)
	if list := q["orders"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("hold queue = %v", q)
	}

	// The operator approves it.
	rel := h.expect(h.do("POST", "/api/v1/orders/"+id+"/release", h.admin, map[string]any{"note": "customer confirmed 5 valves"}), http.StatusOK).json(t)
	if rel["status"] != "open" || rel["holds"] != nil {
		t.Fatalf("after release: status %v holds %v", rel["status"], rel["holds"])
	}
	if tags := strs(rel["tags"]); !slices.Contains(tags, "Review Needed") {
		t.Errorf("the tag stays after approval; tags = %v", tags)
	}

	// The timeline says who did what.
	got = h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t)
	var types []string
	for _, e := range got["events"].([]any) {
		ev := e.(map[string]any)
		types = append(types, ev["type"].(string))
		if ev["type"] == "released" && (ev["message"] != "customer confirmed 5 valves" || ev["actor"] == "") {
			t.Errorf("release event = %v", ev)
		}
	}
	if !slices.Equal(types, []string{"imported", "decision", "released"}) {
		t.Errorf("timeline = %v", types)
	}

	// Importing the same Shopify order again creates nothing and keeps the approval.
	again := h.expect(h.do("POST", "/api/v1/orders", h.admin, o), http.StatusOK).json(t)
	if again["id"] != id || again["status"] != "open" {
		t.Errorf("re-import = %v %v", again["id"], again["status"])
	}
	// Re-evaluating does not put the approved hold back.
	re := h.expect(h.do("POST", "/api/v1/orders/"+id+"/reevaluate", h.admin, nil), http.StatusOK).json(t)
	if re["status"] != "open" {
		t.Errorf("after re-evaluation status = %v, want open (the release stands)", re["status"])
	}
	if n := h.countOrders(); n != 1 {
		t.Errorf("%d orders stored, want 1", n)
	}
}
