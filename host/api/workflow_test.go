package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkflowEndpoints(t *testing.T) {
	dir := copyPolicies(t)
	h := newTestHost(t, dir)
	st := h.expect(h.do("GET", "/api/v1/workflow", h.admin, nil), http.StatusOK).json(t)
	rev := st["revision"].(string)
	if len(st["modules"].([]any)) < 4 || st["tests"].(float64) < 1 {
		t.Errorf("workflow status = %v", st)
	}

	// Dry run: a decision, nothing stored.
	dry := h.expect(h.do("POST", "/api/v1/workflow/evaluate", h.admin, map[string]any{
		"order": order(t, nil), "channel": map[string]any{"id": "shopify", "kind": "b2c"},
	}), http.StatusOK).json(t)
	d := dry["decision"].(map[string]any)
	if d["status"] != "on_hold" || d["revision"] != rev {
		t.Errorf("dry-run decision = %v", d)
	}
	if n := h.countOrders(); n != 0 {
		t.Errorf("dry run stored %d orders", n)
	}
	p := h.expect(h.do("POST", "/api/v1/workflow/evaluate", h.admin, map[string]any{"order": order(t, map[string]any{"currency": "??"})}), http.StatusUnprocessableEntity).json(t)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "order.currency" {
		t.Errorf("dry-run problem = %v", p)
	}

	// A broken policy is refused; the previous revision keeps serving.
	bad := filepath.Join(dir, "workflow", "broken.rego")
	os.WriteFile(bad, []byte("package ordergate.workflow.broken\ntags contains x if true\n"), 0o644)
	r := h.expect(h.do("POST", "/api/v1/workflow/reload", h.admin, nil), http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "broken.rego:2") {
		t.Errorf("refusal does not name the file and line: %s", r.body)
	}
	st = h.expect(h.do("GET", "/api/v1/workflow", h.admin, nil), http.StatusOK).json(t)
	if st["revision"] != rev || !strings.Contains(st["last_reload_error"].(string), "broken.rego") {
		t.Errorf("after refused reload: %v", st)
	}
	h.createChannel("shopify", "b2c")
	o := h.expect(h.do("POST", "/api/v1/orders", h.admin, order(t, map[string]any{"channel_id": "shopify"})), http.StatusCreated).json(t)
	if o["workflow"].(map[string]any)["revision"] != rev {
		t.Errorf("order decided by %v, want the previous revision %s", o["workflow"], rev)
	}

	// Fixing it and reloading takes the new revision.
	os.WriteFile(bad, []byte("package ordergate.workflow.broken\ntags contains \"Fixed\" if true\n"), 0o644)
	st = h.expect(h.do("POST", "/api/v1/workflow/reload", h.admin, nil), http.StatusOK).json(t)
	if st["revision"] == rev || st["last_reload_error"] != nil {
		t.Errorf("after good reload: %v", st)
	}
}

// TestPolicyErrorKeepsTheOrder: a workflow that cannot decide stores the
// order on hold with reason policy_error and the error text; re-evaluation
// after the policy is fixed opens it.
func TestPolicyErrorKeepsTheOrder(t *testing.T) {
	dir := t.TempDir()
	conflict := "package ordergate.workflow.a\nfields[\"shipping_method\"] := \"Express\" if true\n"
	os.WriteFile(filepath.Join(dir, "a.rego"), []byte(conflict), 0o644)
	os.WriteFile(filepath.Join(dir, "b.rego"), []byte("package ordergate.workflow.b\nfields[\"shipping_method\"] := \"Ground\" if true\n"), 0o644)
	h := newTestHost(t, dir)
	key := h.resellerKey("acme")
	o := h.expect(h.do("POST", "/api/v1/orders", key, order(t, nil)), http.StatusCreated).json(t)
	holds := o["holds"].([]any)
	if o["status"] != "on_hold" || len(holds) != 1 || holds[0].(map[string]any)["reason"] != "policy_error" ||
		!strings.Contains(holds[0].(map[string]any)["message"].(string), "policy conflict") {
		t.Fatalf("order = %v", o)
	}
	os.Remove(filepath.Join(dir, "b.rego"))
	h.expect(h.do("POST", "/api/v1/workflow/reload", h.admin, nil), http.StatusOK)
	re := h.expect(h.do("POST", "/api/v1/orders/"+o["id"].(string)+"/reevaluate", h.admin, nil), http.StatusOK).json(t)
	if re["status"] != "open" || re["shipping_method"] != "Express" {
		t.Errorf("after fix and re-evaluation: %v %v", re["status"], re["shipping_method"])
	}
}

// TestDecisionIsAppliedOnce: notes, edits and tags of the decision show on
// the order, and re-evaluating does not append the notes again.
func TestDecisionIsAppliedOnce(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	key := h.resellerKey("acme")
	big := order(t, map[string]any{"totals": map[string]any{"total": "2500.00"},
		"line_items": []any{map[string]any{"sku": "V789", "quantity": 30, "unit_price": "83.33"}}})
	o := h.expect(h.do("POST", "/api/v1/orders", key, big), http.StatusCreated).json(t)
	note := o["note"].(string)
	if !strings.HasPrefix(note, "Leave at the door\n") || !strings.Contains(note, "Sales team") {
		t.Errorf("note = %q", note)
	}
	if alerts := o["alerts"].([]any); len(alerts) != 1 || alerts[0].(map[string]any)["to"] != "sales" {
		t.Errorf("alerts = %v", o["alerts"])
	}
	tags, _ := json.Marshal(o["tags"])
	if !strings.Contains(string(tags), "High Priority") || !strings.Contains(string(tags), "Review Needed") {
		t.Errorf("both rules' tags must show: %s", tags)
	}
	id := o["id"].(string)
	for range 2 {
		h.expect(h.do("POST", "/api/v1/orders/"+id+"/reevaluate", h.admin, nil), http.StatusOK)
	}
	again := h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t)
	if again["note"] != note {
		t.Errorf("re-evaluation changed the note:\n%q\nwant\n%q", again["note"], note)
	}
}

func TestCancel(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	key := h.resellerKey("acme")
	id := h.expect(h.do("POST", "/api/v1/orders", key, order(t, nil)), http.StatusCreated).json(t)["id"].(string)
	c := h.expect(h.do("POST", "/api/v1/orders/"+id+"/cancel", h.admin, map[string]any{"reason": "customer called"}), http.StatusOK).json(t)
	if c["status"] != "canceled" || c["cancellation"].(map[string]any)["message"] != "customer called" {
		t.Errorf("canceled order = %v", c)
	}
	h.expect(h.do("POST", "/api/v1/orders/"+id+"/cancel", h.admin, nil), http.StatusConflict)
	h.expect(h.do("POST", "/api/v1/orders/"+id+"/release", h.admin, nil), http.StatusConflict)
	h.expect(h.do("POST", "/api/v1/orders/"+id+"/reevaluate", h.admin, nil), http.StatusConflict)
	h.expect(h.do("POST", "/api/v1/orders/nope/release", h.admin, nil), http.StatusNotFound)
}

func TestHealthAndOpenAPI(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.expect(h.do("GET", "/healthz", "", nil), http.StatusOK)
	if p := h.expect(h.do("PUT", "/api/v1/orders", h.admin, nil), http.StatusMethodNotAllowed).json(t); p["type"] != "urn:ordergate:problem:method_not_allowed" {
		t.Errorf("wrong method: %v", p)
	}
	h.expect(h.do("GET", "/api/v1/nothing-here", h.admin, nil), http.StatusNotFound)
	if r := h.expect(h.do("GET", "/readyz", "", nil), http.StatusOK).json(t); r["revision"] == "" {
		t.Errorf("readyz = %v", r)
	}
	var doc map[string]any
	if err := json.Unmarshal(h.expect(h.do("GET", "/openapi.json", h.admin, nil), http.StatusOK).body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/orders", "/api/v1/orders:batch", "/api/v1/orders/{id}/release", "/api/v1/workflow/evaluate", "/api/v1/keys/{id}"} {
		if paths[p] == nil {
			t.Errorf("path %s missing from the document", p)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	orderSchema, _ := json.Marshal(schemas["Order"])
	for _, field := range []string{"external_id", "line_items", "shipping_address", "placed_at"} {
		if !strings.Contains(string(orderSchema), `"`+field+`"`) {
			t.Errorf("Order schema lacks %s", field)
		}
	}
	// Every $ref must resolve.
	raw, _ := json.Marshal(doc)
	for _, part := range strings.Split(string(raw), `"$ref":"#/components/schemas/`)[1:] {
		name := part[:strings.Index(part, `"`)]
		if schemas[name] == nil {
			t.Errorf("dangling $ref to %s", name)
		}
	}
	h.expect(h.do("GET", "/nowhere", h.admin, nil), http.StatusNotFound)
}
