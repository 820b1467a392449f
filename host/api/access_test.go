package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestAccessMatrix checks every route of the OpenAPI document (which is
// generated from the route table, so a new route is covered the moment it
// exists) against every kind of caller, and that each status it answers
// is one the document declares for the route.
func TestAccessMatrix(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	reseller := h.resellerKey("acme")
	metricsKey := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "metrics"}), http.StatusCreated).json(t)["secret"].(string)
	operator := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "operator"}), http.StatusCreated).json(t)["secret"].(string)
	revoked := h.resellerKey("acme")
	// Keys list oldest first: the last one is the key to revoke.
	list := h.expect(h.do("GET", "/api/v1/keys", h.admin, nil), http.StatusOK).json(t)["keys"].([]any)
	revokedID := list[len(list)-1].(map[string]any)["id"].(string)
	h.expect(h.do("DELETE", "/api/v1/keys/"+revokedID, h.admin, nil), http.StatusNoContent)

	var doc struct {
		Paths map[string]map[string]struct {
			Role      string                     `json:"x-ordergate-role"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(h.expect(h.do("GET", "/openapi.json", h.admin, nil), http.StatusOK).body, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) < 10 {
		t.Fatalf("only %d paths documented", len(doc.Paths))
	}
	callers := []struct{ name, key string }{
		{"no key", ""}, {"malformed key", "not-a-key"}, {"unknown key", "ogk_0000000000000000000000000000000000000000"},
		{"revoked key", revoked}, {"reseller", reseller}, {"metrics", metricsKey}, {"operator", operator}, {"admin", h.admin},
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			url := strings.ReplaceAll(strings.ReplaceAll(path, "{id}", "x"), "{", "")
			for _, c := range callers {
				t.Run(strings.ToUpper(method)+" "+path+" as "+c.name, func(t *testing.T) {
					r := h.do(strings.ToUpper(method), url, c.key, "{}")
					if _, ok := op.Responses[strconv.Itoa(r.status)]; !ok {
						t.Errorf("status %d is not in the document's responses: %s", r.status, r.body)
					}
					var want string
					switch {
					case op.Role == "public":
						want = "allowed"
					case c.name == "admin":
						want = "allowed"
					case c.name == "reseller" && op.Role == "reseller", c.name == "metrics" && op.Role == "metrics":
						want = "allowed"
					case c.name == "operator" && (op.Role == "operator" || op.Role == "reseller"):
						want = "allowed"
						if method == "post" && (path == "/api/v1/orders" || path == "/api/v1/orders:batch") {
							want = "refused by the route" // operators work orders, they do not post them: TestOperatorKeys
						}
					case c.name == "reseller", c.name == "metrics", c.name == "operator":
						want = "forbidden"
					default:
						want = "unauthorized"
					}
					switch want {
					case "allowed":
						if r.status == 401 || r.status == 403 || r.status >= 500 {
							t.Errorf("status %d, want the route to serve: %s", r.status, r.body)
						}
					case "refused by the route":
						if r.status != 403 && r.status != 422 {
							t.Errorf("status %d, want 403 (or 422 for a body the route refuses first)", r.status)
						}
					case "forbidden":
						if r.status != 403 {
							t.Errorf("status %d, want 403", r.status)
						}
					case "unauthorized":
						if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
							t.Errorf("status %d (WWW-Authenticate %q), want 401", r.status, r.header.Get("WWW-Authenticate"))
						}
					}
				})
			}
		}
	}
}

// TestResellerSeesOnlyItsChannel: a reseller key reads its own channel's
// orders and nothing else; another channel's order is "not found".
func TestResellerSeesOnlyItsChannel(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	acme, globex := h.resellerKey("acme"), h.resellerKey("globex")
	a := h.expect(h.do("POST", "/api/v1/orders", acme, order(t, map[string]any{"external_id": "a1"})), http.StatusCreated).json(t)
	g := h.expect(h.do("POST", "/api/v1/orders", globex, order(t, map[string]any{"external_id": "g1"})), http.StatusCreated).json(t)

	h.expect(h.do("GET", "/api/v1/orders/"+a["id"].(string), acme, nil), http.StatusOK)
	h.expect(h.do("GET", "/api/v1/orders/"+g["id"].(string), acme, nil), http.StatusNotFound)
	list := h.expect(h.do("GET", "/api/v1/orders", acme, nil), http.StatusOK).json(t)["orders"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != a["id"] {
		t.Errorf("acme's list = %v", list)
	}
	h.expect(h.do("GET", "/api/v1/orders?channel_id=globex", acme, nil), http.StatusForbidden)
	// The same external id on two channels is two orders.
	h.expect(h.do("POST", "/api/v1/orders", globex, order(t, map[string]any{"external_id": "a1"})), http.StatusCreated)
	// Admin sees all.
	if all := h.expect(h.do("GET", "/api/v1/orders", h.admin, nil), http.StatusOK).json(t)["orders"].([]any); len(all) != 3 {
		t.Errorf("admin sees %d orders, want 3", len(all))
	}
}

// TestKeysAreShownOnce: the secret is in the create response only; the
// list has ids and roles and no hash or secret.
func TestKeysAreShownOnce(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	created := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "reseller", "channel_id": "acme", "name": "Acme ERP"}), http.StatusCreated)
	secret := created.json(t)["secret"].(string)
	if !strings.HasPrefix(secret, "ogk_") || len(secret) != 44 {
		t.Errorf("secret %q lacks the recognisable prefix or length", secret)
	}
	list := h.expect(h.do("GET", "/api/v1/keys", h.admin, nil), http.StatusOK)
	if strings.Contains(string(list.body), secret) || strings.Contains(string(list.body), "hash") {
		t.Errorf("key list leaks secrets: %s", list.body)
	}
	// Creating the reseller key created its B2B channel.
	ch := h.expect(h.do("GET", "/api/v1/channels/acme", h.admin, nil), http.StatusOK).json(t)
	if ch["kind"] != "b2b" {
		t.Errorf("channel = %v", ch)
	}
	for _, bad := range []map[string]any{{"role": "root"}, {"role": "reseller"}, {"role": "admin", "channel_id": "acme"}, {"role": "reseller", "channel_id": "Bad Id"}} {
		h.expect(h.do("POST", "/api/v1/keys", h.admin, bad), http.StatusUnprocessableEntity)
	}
}

// TestOperatorKeys: an operator key works the queue (reads every
// channel's orders, releases, uploads stock, reads channels and alerts)
// but does not post orders or manage keys, destinations or settings.
func TestOperatorKeys(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	ids := h.heldOrders(2)
	op := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "operator", "name": "Dana (ops)"}), http.StatusCreated).json(t)["secret"].(string)
	if h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "operator", "channel_id": "acme"}), http.StatusUnprocessableEntity).json(t)["errors"] == nil {
		t.Error("an operator key bound to a channel was not refused")
	}
	if list := h.expect(h.do("GET", "/api/v1/orders?status=on_hold", op, nil), http.StatusOK).json(t)["orders"].([]any); len(list) != 2 {
		t.Errorf("the operator sees %d held orders, want 2", len(list))
	}
	h.expect(h.do("GET", "/api/v1/orders/"+ids[0], op, nil), http.StatusOK)
	released := h.expect(h.do("POST", "/api/v1/orders/"+ids[0]+"/release", op, map[string]any{"note": "checked"}), http.StatusOK).json(t)
	events := released["events"].([]any)
	if last := events[len(events)-1].(map[string]any); released["status"] != "open" || !strings.HasPrefix(last["actor"].(string), "key:") {
		t.Errorf("released by the operator: %v, last event %v", released["status"], last)
	}
	h.expect(h.do("POST", "/api/v1/orders:release?tag=Review+Needed&dry_run=true", op, map[string]any{"note": "x"}), http.StatusOK)
	h.expect(h.do("GET", "/api/v1/orders/summary", op, nil), http.StatusOK)
	h.expect(h.do("GET", "/api/v1/channels", op, nil), http.StatusOK)
	h.expect(h.do("GET", "/api/v1/alerts", op, nil), http.StatusOK)
	p := h.expect(h.do("POST", "/api/v1/orders", op, order(t, map[string]any{"channel_id": "shopify", "external_id": "op-1"})), http.StatusForbidden).json(t)
	if !strings.Contains(p["detail"].(string), "operator") {
		t.Errorf("posting as an operator: %v", p)
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/keys"}, {"POST", "/api/v1/alert-destinations"}, {"PATCH", "/api/v1/settings"}, {"POST", "/api/v1/channels"}, {"POST", "/api/v1/catalog"},
	} {
		h.expect(h.do(r.method, r.path, op, map[string]any{}), http.StatusForbidden)
	}
}
