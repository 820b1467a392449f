package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The standard hold reasons end to end: set up the data, import an order,
// see the hold with its explanation, fix the cause, re-evaluate, see it
// open.

// small is the tutorial order with a quantity the review rule lets pass,
// so only the hold under test applies.
func small(t *testing.T, changes map[string]any) map[string]any {
	o := order(t, map[string]any{"channel_id": "shopify", "line_items": []any{
		map[string]any{"sku": "V789", "title": "Valve V789", "quantity": 3, "unit_price": "19.99"},
	}})
	for k, v := range changes {
		o[k] = v
	}
	return o
}

// holdsOf returns the order's holds as reason -> message.
func holdsOf(t testing.TB, o map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, _ := o["holds"].([]any)
	for _, h := range list {
		m := h.(map[string]any)
		out[m["reason"].(string)] = m["message"].(string)
	}
	return out
}

// heldFor imports o and checks it is on hold for reason alone, with a
// message containing each of want; it returns the order id.
func (h *testHost) heldFor(o map[string]any, reason string, want ...string) string {
	h.t.Helper()
	got := h.expect(h.do("POST", "/api/v1/orders", h.admin, o), http.StatusCreated).json(h.t)
	h.wantHold(got, reason, want...)
	return got["id"].(string)
}

func (h *testHost) wantHold(got map[string]any, reason string, want ...string) {
	h.t.Helper()
	holds := holdsOf(h.t, got)
	if got["status"] != "on_hold" || len(holds) != 1 || holds[reason] == "" {
		h.t.Fatalf("status %v holds %v, want on_hold for %s alone", got["status"], holds, reason)
	}
	for _, w := range want {
		if !strings.Contains(holds[reason], w) {
			h.t.Errorf("%s hold %q does not say %q", reason, holds[reason], w)
		}
	}
}

func (h *testHost) wantOpen(path string) map[string]any {
	h.t.Helper()
	got := h.expect(h.do("GET", path, h.admin, nil), http.StatusOK).json(h.t)
	if got["status"] != "open" {
		h.t.Fatalf("%s is %v with holds %v, want open", path, got["status"], holdsOf(h.t, got))
	}
	return got
}

func (h *testHost) reevaluate(id string) map[string]any {
	h.t.Helper()
	return h.expect(h.do("POST", "/api/v1/orders/"+id+"/reevaluate", h.admin, nil), http.StatusOK).json(h.t)
}

func (h *testHost) upload(contentType, body string, query string) map[string]any {
	h.t.Helper()
	return h.expect(h.do("POST", "/api/v1/inventory"+query, h.admin, body, "Content-Type", contentType), http.StatusOK).json(h.t)
}

// stockSetup creates sources austin and dallas and a default routing group
// with austin enabled and dallas switched off in the group.
func (h *testHost) stockSetup() {
	h.t.Helper()
	h.expect(h.do("POST", "/api/v1/sources", h.admin, map[string]any{"id": "austin", "name": "Austin DC"}), http.StatusCreated)
	h.expect(h.do("POST", "/api/v1/sources", h.admin, map[string]any{"id": "dallas", "name": "Dallas DC"}), http.StatusCreated)
	h.expect(h.do("POST", "/api/v1/routing-groups", h.admin, map[string]any{
		"id": "main", "name": "Main", "default": true,
		"sources": []any{map[string]any{"source_id": "austin"}, map[string]any{"source_id": "dallas", "enabled": false}},
	}), http.StatusCreated)
}

func TestNotManagedItem(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.expect(h.do("POST", "/api/v1/catalog", h.admin, map[string]any{"items": []any{
		map[string]any{"sku": "A1", "title": "Anchor"},
		map[string]any{"sku": "V789", "title": "Valve", "managed": false},
	}}), http.StatusOK)

	id := h.heldFor(small(t, nil), "not_managed_item", "V789 is not managed")
	q := h.expect(h.do("GET", "/api/v1/orders?status=on_hold&hold_reason=not_managed_item", h.admin, nil), http.StatusOK).json(t)
	if list := q["orders"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("hold queue = %v", q)
	}

	other := small(t, map[string]any{"external_id": "x-2", "line_items": []any{
		map[string]any{"sku": "B2", "title": "Bolt", "quantity": 1, "unit_price": "1.00"},
		map[string]any{"title": "Gift wrap", "quantity": 1, "unit_price": "0.00"},
	}})
	h.heldFor(other, "not_managed_item", "B2 is not in the catalog", "line #2 has no SKU")

	// Fix the catalog and re-evaluate.
	h.expect(h.do("POST", "/api/v1/catalog", h.admin, map[string]any{"items": []any{map[string]any{"sku": "V789", "title": "Valve"}}}), http.StatusOK)
	if got := h.reevaluate(id); got["status"] != "open" {
		t.Fatalf("after managing V789: %v %v", got["status"], holdsOf(t, got))
	}

	// A SKU with a slash is reachable escaped.
	h.expect(h.do("POST", "/api/v1/catalog", h.admin, map[string]any{"items": []any{map[string]any{"sku": "AB/12"}}}), http.StatusOK)
	if it := h.expect(h.do("GET", "/api/v1/catalog/AB%2F12", h.admin, nil), http.StatusOK).json(t); it["sku"] != "AB/12" || it["managed"] != true {
		t.Errorf("catalog item = %v", it)
	}
}

func TestInsufficientQuantityClearsOnInventoryUpload(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.stockSetup()
	h.upload("text/csv", "source_id,sku,available\naustin,V789,2\n", "")

	id := h.heldFor(small(t, nil), "insufficient_quantity", "V789 wanted 3, available 2", "routing group main")

	// A bad row rejects the whole file, names its line, and changes nothing.
	bad := h.expect(h.do("POST", "/api/v1/inventory", h.admin, "source_id,sku,available\naustin,V789,10\naustin,A1,-4\n", "Content-Type", "text/csv"), http.StatusUnprocessableEntity).json(t)
	if errs := bad["errors"].([]any); errs[0].(map[string]any)["field"] != "line 3: available" {
		t.Errorf("problem = %v", bad)
	}
	lv := h.expect(h.do("GET", "/api/v1/inventory?sku=V789", h.admin, nil), http.StatusOK).json(t)
	if levels := lv["levels"].([]any); len(levels) != 1 || levels[0].(map[string]any)["available"] != 2.0 {
		t.Fatalf("inventory after a rejected file = %v", lv)
	}
	h.wantHold(h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t), "insufficient_quantity")

	// Stock arrives: the held order is re-evaluated by itself.
	res := h.upload("application/json", `{"levels": [{"source_id": "austin", "sku": "V789", "available": 10}]}`, "")
	if ev := res["reevaluation"].(map[string]any); ev["matched"] != 1.0 || ev["opened"] != 1.0 || res["changed"] != 1.0 {
		t.Errorf("upload response = %v", res)
	}
	got := h.wantOpen("/api/v1/orders/" + id)
	last := got["events"].([]any)[len(got["events"].([]any))-1].(map[string]any)
	if last["type"] != "reevaluated" || last["actor"] != "system:inventory" {
		t.Errorf("last event = %v", last)
	}
}

func TestInsufficientQuantityWithoutAutomaticReevaluation(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.stockSetup()
	h.expect(h.do("PATCH", "/api/v1/settings", h.admin, map[string]any{"reevaluate_on_inventory_change": false}), http.StatusOK)
	id := h.heldFor(small(t, nil), "insufficient_quantity", "available 0")

	res := h.upload("text/csv", "sku,available\nV789,3\n", "?source_id=austin")
	if res["reevaluation"].(map[string]any)["matched"] != 0.0 {
		t.Errorf("re-evaluated although switched off: %v", res)
	}
	h.wantHold(h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t), "insufficient_quantity")

	// The operator re-evaluates the queue by hand.
	sum := h.expect(h.do("POST", "/api/v1/orders:reevaluate?hold_reason=insufficient_quantity", h.admin, nil), http.StatusOK).json(t)
	if sum["matched"] != 1.0 || sum["opened"] != 1.0 {
		t.Errorf("bulk re-evaluation = %v", sum)
	}
	h.wantOpen("/api/v1/orders/" + id)
}

func TestDisabledSource(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.stockSetup()
	h.upload("text/csv", "source_id,sku,available\naustin,V789,1\ndallas,V789,9\n", "")

	id := h.heldFor(small(t, nil), "disabled_source", "dallas has 9 but is disabled in the routing group")

	// Switching dallas on in the group and re-evaluating clears it.
	h.expect(h.do("PUT", "/api/v1/routing-groups/main", h.admin, map[string]any{
		"name": "Main", "default": true,
		"sources": []any{map[string]any{"source_id": "austin"}, map[string]any{"source_id": "dallas"}},
	}), http.StatusOK)
	sum := h.expect(h.do("POST", "/api/v1/orders:reevaluate?hold_reason=disabled_source", h.admin, nil), http.StatusOK).json(t)
	if sum["opened"] != 1.0 {
		t.Errorf("bulk re-evaluation = %v", sum)
	}
	h.wantOpen("/api/v1/orders/" + id)

	// A source disabled as a whole is named as such.
	h.expect(h.do("PATCH", "/api/v1/sources/dallas", h.admin, map[string]any{"enabled": false}), http.StatusOK)
	elsewhere := map[string]any{"address1": "9 Elm St", "city": "Reno", "country": "US"}
	h.heldFor(small(t, map[string]any{"external_id": "x-2", "shipping_address": elsewhere}), "disabled_source", "dallas has 9 but is disabled as a source")
}

func TestUnmappedShippingPolicy(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.expect(h.do("PUT", "/api/v1/channels/shopify/shipping-mappings", h.admin, map[string]any{"methods": map[string]any{"Express": "air"}}), http.StatusOK)

	id := h.heldFor(small(t, nil), "unmapped_shipping_policy", `shipping method "Standard"`, "channel shopify")

	// Fix by mapping the method, then re-evaluate.
	h.expect(h.do("PUT", "/api/v1/channels/shopify/shipping-mappings", h.admin, map[string]any{"methods": map[string]any{"Express": "air", "Standard": "ground"}}), http.StatusOK)
	h.reevaluate(id)
	h.wantOpen("/api/v1/orders/" + id)

	// Or fix the order: an edited shipping method is re-evaluated at once
	// and kept on later re-evaluations.
	elsewhere := map[string]any{"address1": "9 Elm St", "city": "Reno", "country": "US"}
	id2 := h.heldFor(small(t, map[string]any{"external_id": "x-2", "shipping_method": "Drone", "shipping_address": elsewhere}), "unmapped_shipping_policy", `"Drone"`)
	got := h.expect(h.do("PATCH", "/api/v1/orders/"+id2, h.admin, map[string]any{"fields": map[string]any{"shipping_method": "Express"}, "note": "customer chose Express"}), http.StatusOK).json(t)
	if got["status"] != "open" || got["shipping_method"] != "Express" {
		t.Fatalf("after the edit: %v %v", got["status"], got["shipping_method"])
	}
	if again := h.reevaluate(id2); again["status"] != "open" || again["shipping_method"] != "Express" {
		t.Errorf("after re-evaluation: %v %v", again["status"], again["shipping_method"])
	}
}

func TestDuplicateOrder(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.createChannel("acme", "b2b")

	first := small(t, map[string]any{"channel_id": "acme", "external_id": "PO-77", "number": "77"})
	firstID := h.expect(h.do("POST", "/api/v1/orders", h.admin, first), http.StatusCreated).json(t)["id"].(string)
	// The same channel order again is idempotent, not a duplicate.
	if again := h.expect(h.do("POST", "/api/v1/orders", h.admin, first), http.StatusOK).json(t); again["id"] != firstID || again["status"] != "open" {
		t.Fatalf("re-import = %v", again)
	}

	// Another number, another channel, the address spelt differently, the
	// items split over two lines, placed two hours later: a duplicate.
	dup := small(t, map[string]any{
		"placed_at":        "2026-11-28T11:30:00Z",
		"shipping_address": map[string]any{"name": "A. Lovelace", "address1": "1  main st", "city": "AUSTIN", "region": "TX", "postal_code": "78701", "country": "US"},
		"line_items": []any{
			map[string]any{"sku": "V789", "title": "Valve", "quantity": 1, "unit_price": "19.99"},
			map[string]any{"sku": "V789", "title": "Valve", "quantity": 2, "unit_price": "19.99"},
		},
	})
	dupID := h.heldFor(dup, "duplicate_order", firstID, "77 from acme", "within 24h")

	// Placed outside the window, or with other quantities: not a duplicate.
	later := small(t, map[string]any{"external_id": "x-3", "placed_at": "2026-11-29T12:00:00Z"})
	if got := h.expect(h.do("POST", "/api/v1/orders", h.admin, later), http.StatusCreated).json(t); got["status"] != "open" {
		t.Errorf("an order 26h later: %v %v", got["status"], holdsOf(t, got))
	}

	// The operator approves it; an unrelated re-evaluation keeps it open.
	h.expect(h.do("POST", "/api/v1/orders/"+dupID+"/release", h.admin, map[string]any{"note": "customer ordered twice on purpose"}), http.StatusOK)
	if got := h.reevaluate(dupID); got["status"] != "open" {
		t.Fatalf("a released duplicate is %v after re-evaluation", got["status"])
	}
	// The original is never a duplicate of the later order.
	if got := h.reevaluate(firstID); got["status"] != "open" {
		t.Errorf("the original became %v: %v", got["status"], holdsOf(t, got))
	}

	// Two look-alikes in one batch: the second is held.
	batch := map[string]any{"orders": []any{
		small(t, map[string]any{"external_id": "b-1", "shipping_address": map[string]any{"address1": "9 Elm St", "city": "Reno", "country": "US"}}),
		small(t, map[string]any{"external_id": "b-2", "shipping_address": map[string]any{"address1": "9 Elm St", "city": "Reno", "country": "US"}}),
	}}
	res := h.expect(h.do("POST", "/api/v1/orders:batch", h.admin, batch), http.StatusOK).json(t)
	statuses := []string{}
	for _, r := range res["results"].([]any) {
		statuses = append(statuses, r.(map[string]any)["status"].(string))
	}
	if !slices.Equal(statuses, []string{"open", "on_hold"}) {
		t.Errorf("batch statuses = %v", statuses)
	}
	// Look-alikes among other orders, which are decided in parallel: each
	// later look-alike is held, the first and the others are not.
	addr := func(street string) map[string]any {
		return map[string]any{"address1": street, "city": "Reno", "country": "US"}
	}
	mixed := map[string]any{"orders": []any{
		small(t, map[string]any{"external_id": "m-1", "shipping_address": addr("1 Oak St")}),
		small(t, map[string]any{"external_id": "m-2", "shipping_address": addr("2 Oak St")}),
		small(t, map[string]any{"external_id": "m-3", "shipping_address": addr("1 Oak St")}),
		small(t, map[string]any{"external_id": "m-4", "shipping_address": addr("3 Oak St")}),
		small(t, map[string]any{"external_id": "m-5", "shipping_address": addr("1 Oak St")}),
		small(t, map[string]any{"external_id": "m-6", "shipping_address": addr("2 Oak St")}),
	}}
	res = h.expect(h.do("POST", "/api/v1/orders:batch", h.admin, mixed), http.StatusOK).json(t)
	statuses = statuses[:0]
	for _, r := range res["results"].([]any) {
		statuses = append(statuses, r.(map[string]any)["status"].(string))
	}
	if want := []string{"open", "open", "on_hold", "open", "on_hold", "on_hold"}; !slices.Equal(statuses, want) {
		t.Errorf("mixed batch statuses = %v, want %v", statuses, want)
	}

	// Switched off in the settings: no duplicate hold.
	h.expect(h.do("PATCH", "/api/v1/settings", h.admin, map[string]any{"duplicate_protection": map[string]any{"enabled": false}}), http.StatusOK)
	off := small(t, map[string]any{"external_id": "x-4", "number": "#9"})
	if got := h.expect(h.do("POST", "/api/v1/orders", h.admin, off), http.StatusCreated).json(t); got["status"] != "open" {
		t.Errorf("with duplicate protection off: %v %v", got["status"], holdsOf(t, got))
	}
}

// TestReleaseSurvivesUntilTheFactsChange: an approved insufficient-stock
// hold stays released on re-evaluation while the stock is the same, and
// comes back when the stock picture changes and is still short.
func TestReleaseSurvivesUntilTheFactsChange(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	h.stockSetup()
	h.upload("text/csv", "source_id,sku,available\naustin,V789,1\n", "")
	id := h.heldFor(small(t, nil), "insufficient_quantity", "available 1")
	h.expect(h.do("POST", "/api/v1/orders/"+id+"/release", h.admin, map[string]any{"note": "backorder accepted"}), http.StatusOK)

	if got := h.reevaluate(id); got["status"] != "open" {
		t.Fatalf("re-evaluation with the same stock put the hold back: %v", holdsOf(t, got))
	}
	h.expect(h.do("PATCH", "/api/v1/settings", h.admin, map[string]any{"reevaluate_on_inventory_change": false}), http.StatusOK)
	h.upload("text/csv", "source_id,sku,available\naustin,V789,2\n", "")
	h.wantHold(h.reevaluate(id), "insufficient_quantity", "available 2")
}

// TestReevaluationKeepsManualWorkAndAddsNothingTwice: operator tags and
// edits survive re-evaluation, and rule notes are not appended again.
func TestReevaluationKeepsManualWorkAndAddsNothingTwice(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	big := small(t, map[string]any{"totals": map[string]any{"subtotal": "1500.00", "total": "1500.00"}})
	got := h.expect(h.do("POST", "/api/v1/orders", h.admin, big), http.StatusCreated).json(t)
	id := got["id"].(string)
	note := got["note"].(string)
	if !strings.Contains(note, "Leave at the door\n") {
		t.Fatalf("the sales rule's note is missing: %q", note)
	}

	edited := h.expect(h.do("PATCH", "/api/v1/orders/"+id, h.admin, map[string]any{
		"add_tags": []any{"VIP"}, "remove_tags": []any{"web"}, "fields": map[string]any{"custom_fields.gift": "yes"},
	}), http.StatusOK).json(t)
	for range 2 {
		edited = h.reevaluate(id)
	}
	tags := strs(edited["tags"])
	if !slices.Contains(tags, "VIP") || slices.Contains(tags, "web") {
		t.Errorf("tags after re-evaluation = %v", tags)
	}
	if edited["note"] != note {
		t.Errorf("note after re-evaluation = %q, want %q", edited["note"], note)
	}
	if edited["custom_fields"].(map[string]any)["gift"] != "yes" {
		t.Errorf("custom_fields = %v", edited["custom_fields"])
	}

	bad := h.expect(h.do("PATCH", "/api/v1/orders/"+id, h.admin, map[string]any{"fields": map[string]any{"totals.total": "1.00"}}), http.StatusUnprocessableEntity).json(t)
	if bad["errors"].([]any)[0].(map[string]any)["field"] != "fields.totals.total" {
		t.Errorf("problem = %v", bad)
	}
}

// TestCatalogDataIsValidated: bad catalog data gets a problem naming the
// field and stores nothing.
func TestCatalogDataIsValidated(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("shopify", "b2c")
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/api/v1/catalog", map[string]any{"items": []any{map[string]any{"sku": "A1"}, map[string]any{"sku": ""}}}, 422, "items[1].sku"},
		{"POST", "/api/v1/catalog", map[string]any{"items": []any{map[string]any{"sku": "A1"}, map[string]any{"sku": "A1"}}}, 422, "items[1].sku"},
		{"POST", "/api/v1/catalog", map[string]any{"items": []any{map[string]any{"sku": "A1"}, map[string]any{"sku": "B2", "managed": "yes"}}}, 422, "items[1].managed"},
		{"POST", "/api/v1/sources", map[string]any{"id": "Austin DC", "name": "x"}, 422, "id"},
		{"POST", "/api/v1/sources", map[string]any{"id": "austin"}, 422, "name"},
		{"POST", "/api/v1/routing-groups", map[string]any{"id": "g", "name": "G", "sources": []any{map[string]any{"source_id": "nowhere"}}}, 422, "sources[0].source_id"},
		{"POST", "/api/v1/routing-groups", map[string]any{"id": "g", "name": "G", "sources": []any{}, "channels": []any{"nope"}}, 422, "channels[0]"},
		{"PUT", "/api/v1/channels/shopify/shipping-mappings", map[string]any{"methods": map[string]any{"": "ground"}}, 422, `methods[""]`},
		{"PATCH", "/api/v1/settings", map[string]any{"duplicate_protection": map[string]any{"window": "forever"}}, 422, "duplicate_protection.window"},
		{"POST", "/api/v1/inventory", `{"levels": [{"source_id": "nowhere", "sku": "A1", "available": 1}]}`, 422, ""},
	} {
		r := h.expect(h.do(tc.method, tc.path, h.admin, tc.body), tc.status).json(t)
		if tc.field != "" {
			errs, _ := r["errors"].([]any)
			if len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
				t.Errorf("%s %s: problem %v, want field %s", tc.method, tc.path, r, tc.field)
			}
		}
	}
	if list := h.expect(h.do("GET", "/api/v1/catalog", h.admin, nil), http.StatusOK).json(t)["items"].([]any); len(list) != 0 {
		t.Errorf("catalog = %v, want empty", list)
	}
	if list := h.expect(h.do("GET", "/api/v1/routing-groups", h.admin, nil), http.StatusOK).json(t)["routing_groups"].([]any); len(list) != 0 {
		t.Errorf("routing groups = %v, want none", list)
	}
	h.expect(h.do("POST", "/api/v1/inventory", h.admin, "x", "Content-Type", "text/plain"), http.StatusUnsupportedMediaType)
}

// TestLargeInventoryUpload applies tens of thousands of rows in one
// request, and a file whose last row is bad changes none of them.
func TestLargeInventoryUpload(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.expect(h.do("POST", "/api/v1/sources", h.admin, map[string]any{"id": "austin", "name": "Austin DC"}), http.StatusCreated)
	const rows = 50_000
	var b strings.Builder
	b.WriteString("source_id,sku,available\n")
	for i := range rows {
		fmt.Fprintf(&b, "austin,SKU-%06d,%d\n", i, i%97)
	}
	res := h.upload("text/csv", b.String(), "")
	if res["rows"] != float64(rows) || res["changed"] != float64(rows) {
		t.Fatalf("upload = %v", res)
	}
	lv := h.expect(h.do("GET", "/api/v1/inventory?sku=SKU-049999", h.admin, nil), http.StatusOK).json(t)
	if levels := lv["levels"].([]any); len(levels) != 1 || levels[0].(map[string]any)["available"] != float64(49999%97) {
		t.Fatalf("SKU-049999 = %v", lv)
	}

	bad := strings.Replace(b.String(), "austin,SKU-000000,0", "austin,SKU-000000,1000", 1) + "austin,SKU-X,-1\n"
	p := h.expect(h.do("POST", "/api/v1/inventory", h.admin, bad, "Content-Type", "text/csv"), http.StatusUnprocessableEntity).json(t)
	if f := p["errors"].([]any)[0].(map[string]any)["field"]; f != fmt.Sprintf("line %d: available", rows+2) {
		t.Errorf("problem names %v", f)
	}
	lv = h.expect(h.do("GET", "/api/v1/inventory?sku=SKU-000000", h.admin, nil), http.StatusOK).json(t)
	if lv["levels"].([]any)[0].(map[string]any)["available"] != 0.0 {
		t.Errorf("a rejected file changed SKU-000000: %v", lv)
	}
}
