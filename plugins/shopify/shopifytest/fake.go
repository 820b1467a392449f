// Package shopifytest is a fake Shopify GraphQL Admin API for tests.
//
// It reads each query as Shopify would: it parses it, checks its fields
// against the part of the 2026-10 schema the connector uses (schema.go),
// refusing unknown fields and also, unlike Shopify, deprecated ones, so a
// connector that selects one fails its tests; it computes the query's
// requested cost by Shopify's documented rules and refuses one over the
// single-query limit with MAX_COST_EXCEEDED; it keeps the app's leaky
// bucket on its Clock (taking the requested cost, refunding down to the
// actual cost, answering THROTTLED when the bucket holds less than a query
// asks); and it answers only the fields asked for, in bodies shaped like
// Shopify's (testdata/). It pages through its orders sorted by updatedAt
// the way Shopify's cursors do, answers with the X-Shopify-API-Version
// that Shopify would, and can throttle, fail and break on demand.
package shopifytest

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the access token the fake accepts.
const Token = "shpat_test"

// APIVersion is the GraphQL Admin API version whose schema the fake
// follows, the one Endpoint asks for.
const APIVersion = "2026-10"

// MaxQueryCost is Shopify's single-query limit: a query whose requested
// cost is higher is refused before it runs.
const MaxQueryCost = 1000

// Request is one request the fake answered, as tests inspect them.
type Request struct {
	At time.Time
	// Root is the query's root field: "orders", "order" (more line
	// items of one order) or "shop".
	Root string
	Vars map[string]any
	// Requested is the query's requested cost; Available what the bucket
	// held when the request came.
	Requested, Available float64
	// Outcome is "ok", "THROTTLED", "MAX_COST_EXCEEDED", "429",
	// "malformed" or "invalid" (refused by the schema).
	Outcome   string
	UserAgent string
	// Version is the API version of the request's URL.
	Version string
}

// Server is a fake GraphQL Admin API; see the package documentation.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	orders []map[string]any // order nodes
	// Throttle answers the next n orders requests THROTTLED, whatever the
	// bucket holds; Status429 the next n with HTTP 429; MalformedPage the
	// k-th orders request (from 1) with a body that is not JSON.
	Throttle, Status429, MalformedPage int
	// Clock is the fake's time, by which its bucket refills (time.Now
	// unless set); a test shares it with the connector it drives.
	Clock func() time.Time
	// Scopes are the access scopes the app has.
	Scopes []string
	// Supported are the stable API versions Shopify supports (on
	// 2026-12-01, the last four quarters'): a request for an older one is
	// served by the oldest, as Shopify falls forward.
	Supported []string
	// DeprecatedReason, when set, is sent as X-Shopify-API-Deprecated-Reason
	// with every answer.
	DeprecatedReason string
	// Queries are the search filters asked.
	Queries []string
	// OnRequest runs after the n-th orders request is answered.
	OnRequest func(n int)

	maxCost  float64
	bucket   bucket
	requests int // orders requests
	log      []Request
}

// bucket is the app's leaky bucket.
type bucket struct {
	max, rate, level float64
	at               time.Time
}

// New starts a fake shop with a full bucket of 2,000 points restoring 100
// a second (a Standard plan's rate); it stops when the test ends.
func New(t testing.TB) *Server {
	f := &Server{t: t, Scopes: []string{"read_orders", "read_products"}, maxCost: MaxQueryCost,
		Supported: []string{"2026-01", "2026-04", "2026-07", "2026-10"},
		bucket:    bucket{max: 2000, rate: 100, level: 2000}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Endpoint is the fake's GraphQL URL for APIVersion.
func (f *Server) Endpoint() string { return f.EndpointFor(APIVersion) }

// EndpointFor is the fake's GraphQL URL for an API version.
func (f *Server) EndpointFor(version string) string {
	return f.srv.URL + "/admin/api/" + version + "/graphql.json"
}

// SetBucket sets the bucket's size, restore rate (points a second) and
// what it holds now.
func (f *Server) SetBucket(maximum, restoreRate, available float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bucket = bucket{max: maximum, rate: restoreRate, level: available, at: f.now()}
}

// SetMaxCost sets the single-query limit (MaxQueryCost unless set), as
// when Shopify lowers its limits to protect the platform.
func (f *Server) SetMaxCost(limit float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxCost = limit
}

// Requests returns the requests answered so far.
func (f *Server) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

func (f *Server) now() time.Time {
	if f.Clock != nil {
		return f.Clock()
	}
	return time.Now()
}

// fill refills the bucket up to now and returns what it holds.
func (b *bucket) fill(now time.Time) float64 {
	if b.at.IsZero() {
		b.at = now
	}
	if now.After(b.at) {
		b.level = min(b.max, b.level+b.rate*now.Sub(b.at).Seconds())
		b.at = now
	}
	return b.level
}

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

func (f *Server) fixtureMap(name string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(Fixture(f.t, name), &m); err != nil {
		f.t.Fatalf("fixture %s: %v", name, err)
	}
	return m
}

// AddOrders adds n orders made from the #1203 fixture, ids from first,
// updated one second apart from at.
func (f *Server) AddOrders(first, n int, at time.Time) { f.AddOrdersEvery(first, n, at, time.Second) }

// AddOrdersEvery is AddOrders with updates every apart.
func (f *Server) AddOrdersEvery(first, n int, at time.Time, every time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		o := f.fixtureMap("order-1203.json")
		id := first + i
		o["id"] = gid(id)
		o["name"] = fmt.Sprintf("#%d", id)
		o["updatedAt"] = at.Add(time.Duration(i) * every).UTC().Format(time.RFC3339)
		f.orders = append(f.orders, o)
	}
}

func gid(id int) string { return fmt.Sprintf("gid://shopify/Order/%d", id) }

// Edit changes order id as an edit in the shop's admin would: edit (when
// not nil) changes its node, JSON-decoded, and updatedAt moves to at.
func (f *Server) Edit(id int, at time.Time, edit func(o map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.orders {
		if o["id"] == gid(id) {
			if edit != nil {
				edit(o)
			}
			o["updatedAt"] = at.UTC().Format(time.RFC3339)
			return
		}
	}
	f.t.Fatalf("the fake has no order %d", id)
}

// Touch sets an order's updatedAt, as an edit in the shop would.
func (f *Server) Touch(id int, at time.Time) { f.Edit(id, at, nil) }

// Cancel cancels order id at, as the shop's admin would: cancelledAt is
// at, cancelReason the OrderCancelReason given ("CUSTOMER", "DECLINED",
// "FRAUD", "INVENTORY", "OTHER", "STAFF"; "" leaves it null) and
// updatedAt moves to at.
func (f *Server) Cancel(id int, at time.Time, reason string) {
	f.Edit(id, at, func(o map[string]any) {
		o["cancelledAt"] = at.UTC().Format(time.RFC3339)
		o["cancelReason"] = nil
		if reason != "" {
			o["cancelReason"] = reason
		}
	})
}

// SetLines gives order id n line items of quantity 1.
func (f *Server) SetLines(id, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.orders {
		if o["id"] == gid(id) {
			var edges []any
			for i := range n {
				edges = append(edges, map[string]any{"node": map[string]any{"sku": fmt.Sprintf("S%04d", i), "title": "Part", "quantity": 1,
					"originalUnitPriceSet": map[string]any{"shopMoney": map[string]any{"amount": "1.00", "currencyCode": "USD"}}}})
			}
			o["lineItems"] = map[string]any{"edges": edges}
		}
	}
}

var (
	sinceFilter = regexp.MustCompile(`updated_at:>='([^']+)'`)
	versionPath = regexp.MustCompile(`^/admin/api/([^/]+)/graphql\.json$`)
)

// answered is the API version Shopify serves a request for asked with.
func (f *Server) answered(asked string) string {
	if len(f.Supported) > 0 && asked != "unstable" && !slices.Contains(f.Supported, asked) && asked < f.Supported[0] {
		return f.Supported[0]
	}
	return asked
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := versionPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
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
	w.Header().Set("X-Shopify-API-Version", f.answered(m[1]))
	if f.DeprecatedReason != "" {
		w.Header().Set("X-Shopify-API-Deprecated-Reason", f.DeprecatedReason)
	}
	rec := Request{Vars: req.Variables, UserAgent: r.Header.Get("User-Agent"), Version: m[1], Outcome: "invalid"}
	root, err := parseQuery(req.Query, req.Variables)
	if err != nil {
		f.record(rec)
		writeJSON(w, map[string]any{"errors": []gqlError{{Message: "syntax error: " + err.Error()}}})
		return
	}
	if len(root.sub) == 0 {
		f.record(rec)
		writeJSON(w, map[string]any{"errors": []gqlError{{Message: "the query selects nothing"}}})
		return
	}
	rec.Root = root.sub[0].name
	if errs := validate("QueryRoot", root.sub); len(errs) > 0 {
		f.record(rec)
		writeJSON(w, map[string]any{"errors": errs})
		return
	}
	rec.Requested = requestedCost("QueryRoot", root.sub)

	f.mu.Lock()
	now := f.now()
	rec.At, rec.Available = now, f.bucket.fill(now)
	n := 0
	if rec.Root == "orders" {
		f.requests++
		n = f.requests
		switch {
		case f.Throttle > 0:
			f.Throttle--
			rec.Outcome = "THROTTLED"
			body := f.throttledBody(rec.Requested, rec.Available)
			f.log = append(f.log, rec)
			f.mu.Unlock()
			writeJSON(w, body)
			return
		case f.Status429 > 0:
			f.Status429--
			rec.Outcome = "429"
			body := f.throttledBody(rec.Requested, rec.Available)
			f.log = append(f.log, rec)
			f.mu.Unlock()
			w.Header().Set("Retry-After", "2.0")
			w.WriteHeader(http.StatusTooManyRequests)
			writeJSON(w, body)
			return
		case n == f.MalformedPage:
			rec.Outcome = "malformed"
			f.log = append(f.log, rec)
			f.mu.Unlock()
			w.Write([]byte(`{"data": {"orders": {"edges": [{"cursor": "x", "node": {"id": 12`))
			return
		}
	}
	if rec.Requested > f.maxCost {
		rec.Outcome = "MAX_COST_EXCEEDED"
		body := f.fixtureMap("max-cost-exceeded.json")
		e := body["errors"].([]any)[0].(map[string]any)
		e["message"] = strings.Replace(strings.Replace(e["message"].(string), "1066", fmt.Sprint(rec.Requested), 1), "(1000)", fmt.Sprintf("(%v)", f.maxCost), 1)
		ext := e["extensions"].(map[string]any)
		ext["cost"], ext["maxCost"] = rec.Requested, f.maxCost
		f.log = append(f.log, rec)
		f.mu.Unlock()
		writeJSON(w, body)
		return
	}
	if rec.Available < rec.Requested-1e-9 {
		rec.Outcome = "THROTTLED"
		body := f.throttledBody(rec.Requested, rec.Available)
		f.log = append(f.log, rec)
		f.mu.Unlock()
		writeJSON(w, body)
		return
	}
	data := map[string]any{}
	for _, sel := range root.sub {
		switch sel.name {
		case "orders":
			data["orders"] = f.ordersPage(sel)
		case "order":
			data["order"] = f.order(sel)
		case "shop", "currentAppInstallation":
			data[sel.name] = f.shopData()[sel.name]
		}
	}
	answer := project("QueryRoot", root.sub, data)
	actual := actualCost("QueryRoot", root.sub, answer)
	f.bucket.level = rec.Available - actual
	rec.Outcome = "ok"
	f.log = append(f.log, rec)
	hook := f.OnRequest
	ext := f.costExtension(rec.Requested, actual, f.bucket.level)
	f.mu.Unlock()
	writeJSON(w, map[string]any{"data": answer, "extensions": ext})
	if hook != nil && n > 0 {
		hook(n)
	}
}

func (f *Server) record(r Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.At = f.now()
	f.log = append(f.log, r)
}

func writeJSON(w http.ResponseWriter, v any) {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(err) // only fixture-made maps are encoded
	}
}

func (f *Server) costExtension(requested float64, actual any, available float64) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": actual,
		"throttleStatus": map[string]any{"maximumAvailable": f.bucket.max, "currentlyAvailable": available, "restoreRate": f.bucket.rate},
	}}
}

// throttledBody is testdata/throttled.json with the bucket's figures.
func (f *Server) throttledBody(requested, available float64) map[string]any {
	body := f.fixtureMap("throttled.json")
	body["extensions"] = f.costExtension(requested, nil, available)
	return body
}

// ordersPage answers orders(first:, after:, query:) with each order's first
// page of lineItems(first:).
func (f *Server) ordersPage(sel *selection) map[string]any {
	filter, _ := sel.args["query"].(string)
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
	if after, ok := sel.args["after"].(string); ok {
		pos := strings.TrimPrefix(after, "c:")
		for start < len(matching) && key(matching[start]) <= pos {
			start++
		}
	}
	first, _ := sel.args["first"].(float64)
	lines := 0
	if edges := sel.child("edges"); edges != nil {
		if node := edges.child("node"); node != nil {
			if li := node.child("lineItems"); li != nil {
				n, _ := li.args["first"].(float64)
				lines = int(n)
			}
		}
	}
	end := min(start+int(first), len(matching))
	edges := []any{}
	for _, o := range matching[start:end] {
		node := map[string]any{}
		for k, v := range o {
			node[k] = v
		}
		node["lineItems"] = linePageOf(o, 0, lines)
		edges = append(edges, map[string]any{"cursor": "c:" + key(o), "node": node})
	}
	endCursor := any(nil)
	if end > start {
		endCursor = "c:" + key(matching[end-1])
	}
	return map[string]any{
		"edges":    edges,
		"pageInfo": map[string]any{"hasNextPage": end < len(matching), "endCursor": endCursor},
	}
}

func linePageOf(o map[string]any, start, n int) map[string]any {
	all, _ := o["lineItems"].(map[string]any)
	edges, _ := all["edges"].([]any)
	start = min(start, len(edges))
	end := min(start+n, len(edges))
	return map[string]any{
		"edges":    edges[start:end],
		"pageInfo": map[string]any{"hasNextPage": end < len(edges), "endCursor": fmt.Sprintf("l:%d", end)},
	}
}

// order answers order(id:) { lineItems(first:, after:) }: the order, or
// nil.
func (f *Server) order(sel *selection) any {
	var order any
	li := sel.child("lineItems")
	for _, o := range f.orders {
		if o["id"] != sel.args["id"] {
			continue
		}
		node := map[string]any{}
		for k, v := range o {
			node[k] = v
		}
		if li != nil {
			start := 0
			if after, ok := li.args["after"].(string); ok {
				fmt.Sscanf(after, "l:%d", &start)
			}
			n, _ := li.args["first"].(float64)
			node["lineItems"] = linePageOf(o, start, int(n))
		}
		order = node
	}
	return order
}

// shopData answers shop and currentAppInstallation from testdata/shop.json
// and the fake's scopes.
func (f *Server) shopData() map[string]any {
	data := f.fixtureMap("shop.json")["data"].(map[string]any)
	var scopes []any
	for _, s := range f.Scopes {
		scopes = append(scopes, map[string]any{"handle": s})
	}
	data["currentAppInstallation"] = map[string]any{"accessScopes": scopes}
	return data
}
