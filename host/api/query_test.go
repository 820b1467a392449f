package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/api"
)

// operation is an operation of the served OpenAPI document.
type operation struct {
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

// operations returns the served document's operations by "METHOD path".
func (h *testHost) operations() map[string]operation {
	h.t.Helper()
	var doc struct {
		Paths map[string]map[string]operation `json:"paths"`
	}
	if err := json.Unmarshal(h.expect(h.do("GET", "/openapi.json", h.admin, nil), http.StatusOK).body, &doc); err != nil {
		h.t.Fatal(err)
	}
	ops := map[string]operation{}
	for path, byMethod := range doc.Paths {
		for method, op := range byMethod {
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

func (op operation) query() []string {
	var names []string
	for _, p := range op.Parameters {
		if p.In == "query" {
			names = append(names, p.Name)
		}
	}
	return names
}

// documents reports whether the operation declares the status.
func (op operation) documents(status int) bool {
	_, ok := op.Responses[strconv.Itoa(status)]
	return ok
}

// fingerprint is a hash of the whole database: a consistent copy changes
// with every write transaction committed.
func (h *testHost) fingerprint() [32]byte {
	h.t.Helper()
	var buf bytes.Buffer
	if _, err := h.db.Backup(&buf); err != nil {
		h.t.Fatal(err)
	}
	return sha256.Sum256(buf.Bytes())
}

// problemFields returns the errors of a problem+json response, failing
// the test if the response is not a problem document of its status.
func problemFields(t *testing.T, r response) []map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.body)
	}
	var p struct {
		Status int              `json:"status"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != r.status {
		t.Fatalf("not a problem document of status %d (%v): %s", r.status, err, r.body)
	}
	return p.Errors
}

// queryFixtures fills the store with one of each thing a route names, so
// that a request the query check let through would change something, and
// returns the path and body to send to each route.
type queryFixtures struct {
	ids    map[string]string // path prefix -> the id to put after it
	bodies map[string]any    // "METHOD path" -> body
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

func (f queryFixtures) path(p string) string {
	return pathParam.ReplaceAllStringFunc(p, func(m string) string {
		i := strings.Index(p, m)
		if id, ok := f.ids[p[:i]]; ok {
			return url.PathEscape(id)
		}
		return "x"
	})
}

func (f queryFixtures) body(method, path string) any {
	if b, ok := f.bodies[method+" "+path]; ok {
		return b
	}
	return "{}"
}

func (h *testHost) queryFixtures(t *testing.T) queryFixtures {
	t.Helper()
	h.createChannel("acme", "b2b")
	held := h.heldFor(order(t, map[string]any{"channel_id": "acme"}), "custom_rule")
	h.stockSetup()
	h.expect(h.do("POST", "/api/v1/catalog", h.admin, map[string]any{"items": []any{map[string]any{"sku": "V789"}}}), http.StatusOK)
	h.expect(h.do("POST", "/api/v1/alert-destinations", h.admin, map[string]any{"name": "ops", "kind": "log"}), http.StatusCreated)
	key := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "reseller", "channel_id": "acme"}), http.StatusCreated).json(t)
	newOrder := order(t, map[string]any{"channel_id": "acme", "external_id": "q-1"})
	// Fan out the fixtures' events now, so that the host's fan-out does
	// not write while a check compares fingerprints.
	for {
		if _, more, err := h.store.FanOutEvents(context.Background(), time.Now(), 1000); err != nil || !more {
			break
		}
	}
	return queryFixtures{
		ids: map[string]string{
			"/api/v1/orders/": held, "/api/v1/catalog/": "V789", "/api/v1/sources/": "austin", "/api/v1/routing-groups/": "main",
			"/api/v1/channels/": "acme", "/api/v1/alert-destinations/": "ops", "/api/v1/keys/": key["key"].(map[string]any)["id"].(string),
		},
		bodies: map[string]any{
			"POST /api/v1/orders":                         newOrder,
			"POST /api/v1/orders:batch":                   map[string]any{"orders": []any{newOrder}},
			"PATCH /api/v1/orders/{id}":                   map[string]any{"add_tags": []string{"edited"}},
			"POST /api/v1/catalog":                        map[string]any{"items": []any{map[string]any{"sku": "B2"}}},
			"POST /api/v1/sources":                        map[string]any{"id": "houston", "name": "Houston DC"},
			"PATCH /api/v1/sources/{id}":                  map[string]any{"enabled": false},
			"POST /api/v1/inventory":                      map[string]any{"levels": []any{map[string]any{"source_id": "austin", "sku": "V789", "available": 9}}},
			"POST /api/v1/routing-groups":                 map[string]any{"id": "second", "name": "Second", "sources": []any{map[string]any{"source_id": "austin"}}},
			"PUT /api/v1/routing-groups/{id}":             map[string]any{"name": "Renamed", "default": true, "sources": []any{map[string]any{"source_id": "dallas"}}},
			"PATCH /api/v1/settings":                      map[string]any{"reevaluate_on_inventory_change": false},
			"POST /api/v1/alert-destinations":             map[string]any{"name": "ops2", "kind": "log"},
			"PATCH /api/v1/alert-destinations/{name}":     map[string]any{"max_concurrency": 2},
			"POST /api/v1/channels":                       map[string]any{"id": "globex", "kind": "b2b"},
			"PATCH /api/v1/channels/{id}":                 map[string]any{"name": "ACME Supply"},
			"POST /api/v1/keys":                           map[string]any{"role": "reseller", "channel_id": "acme"},
			"PUT /api/v1/channels/{id}/shipping-mappings": map[string]any{"methods": map[string]string{}},
		},
	}
}

// typo misspells a parameter's name.
func typo(name string) string {
	if strings.Contains(name, "_") {
		return strings.ReplaceAll(name, "_", "")
	}
	return name + "s"
}

// TestQueryParameters sends every route of the table (so a new route is
// covered the moment it exists) queries it must refuse before its handler
// runs: a parameter it does not declare (alone and next to good ones),
// one given twice, a value its declaration refuses, a query string that
// cannot be decoded. Each is a problem+json naming the parameter, with a
// status the document declares, and the store does not change. Then it
// sends each route all its parameters with values they take, which must
// pass the check. The document lists exactly the declared parameters.
func TestQueryParameters(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	fx := h.queryFixtures(t)
	ops := h.operations()
	routes := api.Routes()
	if len(routes) != len(ops) {
		t.Errorf("the route table has %d routes, the document %d operations", len(routes), len(ops))
	}
	type refusal struct {
		name, query string
		key         string
		status      int
		field       string // the parameter named, "" for none
		detail      string // in the field's detail
	}
	for _, rt := range routes {
		op, ok := ops[rt.Method+" "+rt.Path]
		if !ok {
			t.Errorf("%s %s is not in the document", rt.Method, rt.Path)
			continue
		}
		var names []string
		for _, p := range rt.Query {
			names = append(names, p.Name)
		}
		if got := op.query(); !slices.Equal(got, names) {
			t.Errorf("%s %s: the document lists query parameters %v, the route declares %v", rt.Method, rt.Path, got, names)
		}
		takes := "it takes no query parameters"
		unknown := "chanel_id"
		var good url.Values
		if len(names) > 0 {
			takes = "it takes " + strings.Join(names, ", ")
			unknown = typo(names[0])
			good = url.Values{rt.Query[0].Name: {rt.Query[0].Good}}
		}
		notParam := "is not a parameter of " + rt.Method + " " + rt.Path + "; " + takes
		cases := []refusal{
			{name: "unknown parameter", query: unknown + "=x", key: h.admin, status: 422, field: unknown, detail: notParam},
			{name: "undecodable", query: "%zz=1", key: h.admin, status: 400, field: "%zz", detail: "not a well-formed"},
			{name: "semicolon", query: "a=1;b=2", key: h.admin, status: 400, field: "a", detail: "';'"},
		}
		if good != nil {
			cases = append(cases, refusal{name: "unknown parameter after a good one", query: good.Encode() + "&" + unknown + "=x", key: h.admin, status: 422, field: unknown, detail: notParam})
		}
		if rt.Role != "" {
			// The key is checked first: a caller without one learns nothing.
			cases = append(cases, refusal{name: "unknown parameter without a key", query: unknown + "=x", status: 401})
		}
		for _, p := range rt.Query {
			twice := url.Values{p.Name: {p.Good, p.Good}}.Encode()
			cases = append(cases, refusal{name: "repeated " + p.Name, query: twice, key: h.admin, status: 422, field: p.Name, detail: "is given 2 times"})
			for _, bad := range p.Bad {
				cases = append(cases, refusal{name: p.Name + "=" + bad, query: url.Values{p.Name: {bad}}.Encode(), key: h.admin, status: 422, field: p.Name, detail: "must be"})
			}
		}
		path, body := fx.path(rt.Path), fx.body(rt.Method, rt.Path)
		for _, c := range cases {
			t.Run(rt.Method+" "+rt.Path+" "+c.name, func(t *testing.T) {
				before := h.fingerprint()
				r := h.do(rt.Method, path+"?"+c.query, c.key, body)
				if r.status != c.status {
					t.Fatalf("?%s: status %d, want %d: %s", c.query, r.status, c.status, r.body)
				}
				if !op.documents(r.status) {
					t.Errorf("status %d is not in the document's responses", r.status)
				}
				fields := problemFields(t, r)
				if c.field != "" {
					if len(fields) != 1 || fields[0]["field"] != c.field || !strings.Contains(fields[0]["detail"].(string), c.detail) {
						t.Errorf("?%s: errors %v, want %q alone, with %q", c.query, fields, c.field, c.detail)
					}
				}
				if h.fingerprint() != before {
					t.Errorf("?%s: the store changed", c.query)
				}
			})
		}
	}
	// Every declared parameter with a value it takes passes the check (the
	// handler may still refuse the request for its own reasons, not for a
	// parameter). This pass may change the store, so it comes last.
	for _, rt := range routes {
		if len(rt.Query) == 0 {
			continue
		}
		t.Run(rt.Method+" "+rt.Path+" declared values", func(t *testing.T) {
			q := url.Values{}
			for _, p := range rt.Query {
				q.Set(p.Name, p.Good)
			}
			r := h.do(rt.Method, fx.path(rt.Path)+"?"+q.Encode(), h.admin, fx.body(rt.Method, rt.Path))
			if r.status >= 500 || !ops[rt.Method+" "+rt.Path].documents(r.status) {
				t.Fatalf("?%s: status %d: %s", q.Encode(), r.status, r.body)
			}
			if r.status == http.StatusBadRequest || r.status == http.StatusUnprocessableEntity {
				for _, f := range problemFields(t, r) {
					if q.Has(f["field"].(string)) {
						t.Errorf("?%s: refused %v", q.Encode(), f)
					}
				}
			}
		})
	}
}

// TestReevaluateWithATypoReevaluatesNothing is the case: a
// misspelt filter used to select every held order. Spelt right, the same
// request re-evaluates the order.
func TestReevaluateWithATypoReevaluatesNothing(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("acme", "b2b")
	id := h.heldFor(order(t, map[string]any{"channel_id": "acme"}), "custom_rule")
	events := func() int {
		return len(h.expect(h.do("GET", "/api/v1/orders/"+id, h.admin, nil), http.StatusOK).json(t)["events"].([]any))
	}
	before := events()
	for _, q := range []string{"holdreason=custom_rule", "hold_reason=custom_rule&stauts=on_hold", "hold_reason=custom_rule&hold_reason=custom_rule", "hold_reason=custom-rule", "hold_reason=custom_rule&limit=1"} {
		r := h.expect(h.do("POST", "/api/v1/orders:reevaluate?"+q, h.admin, nil), http.StatusUnprocessableEntity)
		if fields := problemFields(t, r); len(fields) != 1 {
			t.Errorf("?%s: errors %v, want one", q, fields)
		}
		if n := events(); n != before {
			t.Fatalf("?%s re-evaluated the order: %d events, were %d", q, n, before)
		}
	}
	sum := h.expect(h.do("POST", "/api/v1/orders:reevaluate?hold_reason=custom_rule", h.admin, nil), http.StatusOK).json(t)
	if sum["matched"] != 1.0 || events() == before {
		t.Errorf("spelt right: summary %v, %d events (were %d)", sum, events(), before)
	}
	// And the list: a misspelt channel filter no longer lists every order.
	r := h.expect(h.do("GET", "/api/v1/orders?chanel_id=globex", h.admin, nil), http.StatusUnprocessableEntity)
	if fields := problemFields(t, r); len(fields) != 1 || fields[0]["field"] != "chanel_id" || !strings.Contains(fields[0]["detail"].(string), "channel_id") {
		t.Errorf("errors %v, want chanel_id named, and channel_id among the parameters taken", fields)
	}
}
