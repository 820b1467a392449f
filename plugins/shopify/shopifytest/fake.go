// Package shopifytest is a fake Shopify GraphQL Admin API for tests: it
// answers the connector's queries with bodies shaped like Shopify's
// (testdata/), pages through its orders sorted by updatedAt the way
// Shopify's cursors do, and can throttle, fail and break on demand.
package shopifytest

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the access token the fake accepts.
const Token = "shpat_test"

// Server is a GraphQL Admin API that answers the connector's queries
// with bodies shaped like Shopify's (testdata/), paging through its orders
// sorted by updatedAt.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	orders []map[string]any // order nodes
	// Throttle answers the next n orders requests THROTTLED; Status429
	// the next n with HTTP 429; MalformedPage the k-th orders request
	// (from 1) with a body that is not JSON.
	Throttle, Status429, MalformedPage int
	// Available is the bucket after each request.
	Available float64
	requests  int // orders requests
	// Scopes are the access scopes the app has.
	Scopes []string
	// Queries are the search filters asked.
	Queries []string
	// OnRequest runs after the n-th orders request is answered.
	OnRequest func(n int)
}

// New starts a fake shop; it stops when the test ends.
func New(t testing.TB) *Server {
	f := &Server{t: t, Available: 1990, Scopes: []string{"read_orders", "read_products"}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Endpoint is the fake's GraphQL URL.
func (f *Server) Endpoint() string { return f.srv.URL + "/admin/api/2025-10/graphql.json" }

//go:embed testdata
var fixtures embed.FS

// Fixture returns a file of testdata/.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// AddOrders adds n orders made from the #1203 fixture, ids from first,
// updated one second apart from at.
func (f *Server) AddOrders(first, n int, at time.Time) { f.AddOrdersEvery(first, n, at, time.Second) }

// AddOrdersEvery is AddOrders with updates every apart.
func (f *Server) AddOrdersEvery(first, n int, at time.Time, every time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		var o map[string]any
		if err := json.Unmarshal(Fixture(f.t, "order-1203.json"), &o); err != nil {
			f.t.Fatal(err)
		}
		id := first + i
		o["id"] = fmt.Sprintf("gid://shopify/Order/%d", id)
		o["name"] = fmt.Sprintf("#%d", id)
		o["updatedAt"] = at.Add(time.Duration(i) * every).UTC().Format(time.RFC3339)
		f.orders = append(f.orders, o)
	}
}

// Touch sets an order's updatedAt, as an edit in the shop would.
func (f *Server) Touch(id int, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.orders {
		if o["id"] == fmt.Sprintf("gid://shopify/Order/%d", id) {
			o["updatedAt"] = at.UTC().Format(time.RFC3339)
		}
	}
}

var sinceFilter = regexp.MustCompile(`updated_at:>='([^']+)'`)

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Shopify-Access-Token") != Token {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(Fixture(f.t, "unauthorized.json"))
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(req.Query, "currentAppInstallation") {
		var shop map[string]any
		json.Unmarshal(Fixture(f.t, "shop.json"), &shop)
		var scopes []any
		for _, s := range f.Scopes {
			scopes = append(scopes, map[string]any{"handle": s})
		}
		shop["data"].(map[string]any)["currentAppInstallation"] = map[string]any{"accessScopes": scopes}
		json.NewEncoder(w).Encode(shop)
		return
	}

	if strings.Contains(req.Query, "query LineItems") {
		f.serveLineItems(w, req.Variables)
		return
	}
	f.mu.Lock()
	f.requests++
	n := f.requests
	hook := f.OnRequest
	if f.Throttle > 0 {
		f.Throttle--
		f.mu.Unlock()
		w.Write(Fixture(f.t, "throttled.json"))
		return
	}
	if f.Status429 > 0 {
		f.Status429--
		f.mu.Unlock()
		w.Header().Set("Retry-After", "2.0")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(Fixture(f.t, "throttled.json"))
		return
	}
	if n == f.MalformedPage {
		f.mu.Unlock()
		w.Write([]byte(`{"data": {"orders": {"edges": [{"cursor": "x", "node": {"id": 12`))
		return
	}
	filter, _ := req.Variables["query"].(string)
	f.Queries = append(f.Queries, filter)
	since := time.Time{}
	if m := sinceFilter.FindStringSubmatch(filter); m != nil {
		since, _ = time.Parse(time.RFC3339, m[1])
	}
	var matching []map[string]any
	for _, o := range f.orders {
		u, _ := time.Parse(time.RFC3339, o["updatedAt"].(string))
		if !u.Before(since) {
			matching = append(matching, o)
		}
	}
	// Like Shopify's, a cursor encodes the sort key of the last order
	// sent: the next page starts after that position, wherever the order
	// itself has moved since.
	key := func(o map[string]any) string {
		return o["updatedAt"].(string) + "|" + fmt.Sprintf("%020s", o["id"].(string))
	}
	sort.SliceStable(matching, func(i, j int) bool { return key(matching[i]) < key(matching[j]) })
	start := 0
	if after, ok := req.Variables["after"].(string); ok {
		pos := strings.TrimPrefix(after, "c:")
		for start < len(matching) && key(matching[start]) <= pos {
			start++
		}
	}
	first := int(req.Variables["first"].(float64))
	end := min(start+first, len(matching))
	edges := []any{}
	for _, o := range matching[start:end] {
		edges = append(edges, map[string]any{"cursor": "c:" + key(o), "node": firstLines(o)})
	}
	endCursor := any(nil)
	if end > start {
		endCursor = "c:" + key(matching[end-1])
	}
	available := f.Available
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{
		"data": map[string]any{"orders": map[string]any{
			"edges":    edges,
			"pageInfo": map[string]any{"hasNextPage": end < len(matching), "endCursor": endCursor},
		}},
		"extensions": map[string]any{"cost": map[string]any{
			"requestedQueryCost": 502, "actualQueryCost": 40,
			"throttleStatus": map[string]any{"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0},
		}},
	})
	if hook != nil {
		hook(n)
	}
}

// linePage is the number of line items per page, as in the connector's
// query.
const linePage = 250

// firstLines returns the order node with its first page of line items,
// as Shopify answers lineItems(first: 250).
func firstLines(o map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range o {
		out[k] = v
	}
	out["lineItems"] = linePageOf(o, 0)
	return out
}

func linePageOf(o map[string]any, start int) map[string]any {
	edges := o["lineItems"].(map[string]any)["edges"].([]any)
	end := min(start+linePage, len(edges))
	return map[string]any{
		"edges":    edges[start:end],
		"pageInfo": map[string]any{"hasNextPage": end < len(edges), "endCursor": fmt.Sprintf("l:%d", end)},
	}
}

func (f *Server) serveLineItems(w http.ResponseWriter, vars map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := 0
	if after, ok := vars["after"].(string); ok {
		fmt.Sscanf(after, "l:%d", &start)
	}
	var order any
	for _, o := range f.orders {
		if o["id"] == vars["id"] {
			order = map[string]any{"lineItems": linePageOf(o, start)}
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"order": order}})
}

// SetLines gives order id n line items of quantity 1.
func (f *Server) SetLines(id, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.orders {
		if o["id"] == fmt.Sprintf("gid://shopify/Order/%d", id) {
			var edges []any
			for i := range n {
				edges = append(edges, map[string]any{"node": map[string]any{"sku": fmt.Sprintf("S%04d", i), "title": "Part", "quantity": 1,
					"originalUnitPriceSet": map[string]any{"shopMoney": map[string]any{"amount": "1.00", "currencyCode": "USD"}}}})
			}
			o["lineItems"] = map[string]any{"edges": edges}
		}
	}
}
