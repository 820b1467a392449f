package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/plugins/shopify/shopifytest"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/sdktest"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// testClock is the time of a test: it moves only when the connector
// sleeps, by as long as it sleeps, and the fake's bucket refills by it.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *testClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// testConnector is the connector on a test clock.
type testConnector struct {
	*Connector
	clock *testClock
}

func newTestConnector() *testConnector {
	tc := &testConnector{Connector: New(), clock: &testClock{now: t0.Add(24 * time.Hour)}}
	tc.Now, tc.Sleep = tc.clock.Now, tc.clock.Sleep
	return tc
}

// shop is a fake Shopify on c's clock.
func (c *testConnector) shop(t *testing.T) *shopifytest.Server {
	f := shopifytest.New(t)
	f.Clock = c.clock.Now
	return f
}

func config(f *shopifytest.Server, extra ...any) sdk.Config {
	cfg := sdk.Config{"shop": "valve-supply.myshopify.com", "access_token": shopifytest.Token, "endpoint": f.Endpoint(),
		"start_date": "2026-11-01", "page_size": 10, "overlap": "5m", "api_version": DefaultAPIVersion}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i].(string)] = extra[i+1]
	}
	return cfg
}

type sink struct {
	pages    [][]sdk.Order
	cursor   []string
	problems [][]sdk.Problem
}

func (s *sink) Send(orders []sdk.Order, cursor string, problems ...sdk.Problem) error {
	s.pages = append(s.pages, orders)
	s.cursor = append(s.cursor, cursor)
	s.problems = append(s.problems, problems)
	return nil
}

func (s *sink) ids() []string {
	var out []string
	for _, p := range s.pages {
		for _, o := range p {
			out = append(out, o.ExternalID)
		}
	}
	return out
}

func (s *sink) order(id string) *sdk.Order {
	for _, p := range s.pages {
		for i := range p {
			if p[i].ExternalID == id {
				return &p[i]
			}
		}
	}
	return nil
}

func (s *sink) last() string { return s.cursor[len(s.cursor)-1] }

// outcomes lists the fake's answers, e.g. "orders:ok".
func outcomes(f *shopifytest.Server) []string {
	var out []string
	for _, r := range f.Requests() {
		out = append(out, r.Root+":"+r.Outcome)
	}
	return out
}

func TestConformance(t *testing.T) {
	c := newTestConnector()
	sdktest.Run(t, sdktest.Suite{
		Connector: c,
		// The overlap window sends the last 5 minutes of orders again.
		ResendsRecent: true,
		Fixture: func(t *testing.T) sdk.Config {
			f := c.shop(t)
			f.AddOrdersEvery(1000, 25, t0, time.Minute)
			return config(f)
		},
	})
}

func TestMapping(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(5531203, 1, t0)
	var s sink
	if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	o := s.pages[0][0]
	if err := o.Validate(); err != nil {
		t.Fatalf("mapped order is not valid: %v", err)
	}
	want := map[string]string{
		"external_id": "5531203", "number": "#5531203", "placed_at": "2026-11-28T09:30:00Z", "currency": "USD",
		"customer": "Ada Lovelace ada@example.com +15125550100", "ship": "1 Main St Austin TX 78701 US", "method": "Standard",
		"lines": "V789 Valve V789 5 19.99|Gift note 1 0.0", "totals": "99.95 5.0 8.25 113.2",
		"custom": "gift=no paid unfulfilled", "note": "Leave at the door", "tags": "web", "canceled": "<nil> ",
	}
	got := map[string]string{
		"external_id": o.ExternalID, "number": o.Number, "placed_at": o.PlacedAt.Format(time.RFC3339), "currency": o.Currency,
		"customer": o.Customer.Name + " " + o.Customer.Email + " " + o.Customer.Phone,
		"ship":     strings.Join([]string{o.ShippingAddress.Address1, o.ShippingAddress.City, o.ShippingAddress.Region, o.ShippingAddress.PostalCode, o.ShippingAddress.Country}, " "),
		"method":   o.ShippingMethod,
		"lines": fmt.Sprintf("%s %s %d %s|%s %d %s", o.LineItems[0].SKU, o.LineItems[0].Title, o.LineItems[0].Quantity, o.LineItems[0].UnitPrice,
			o.LineItems[1].Title, o.LineItems[1].Quantity, o.LineItems[1].UnitPrice),
		"totals": fmt.Sprintf("%s %s %s %s", o.Totals.Subtotal, o.Totals.Shipping, o.Totals.Tax, o.Totals.Total),
		"custom": "gift=" + o.CustomFields["gift"] + " " + o.CustomFields["shopify_financial_status"] + " " + o.CustomFields["shopify_fulfillment_status"],
		"note":   o.Note, "tags": strings.Join(o.Tags, ","),
		"canceled": fmt.Sprint(o.CanceledAt) + " " + o.CancelReason,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if o.LineItems[1].SKU != "" || o.BillingAddress == nil {
		t.Errorf("a line without SKU keeps its line with an empty SKU: %+v; billing %v", o.LineItems[1], o.BillingAddress)
	}
}

// TestMultiPageAndIncremental: 25 orders in pages of 10, then only what
// changed since (with the overlap window) on the next import.
func TestMultiPageAndIncremental(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrdersEvery(1000, 25, t0, time.Minute)
	var s sink
	if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	if len(s.pages) != 3 || len(s.ids()) != 25 {
		t.Fatalf("%d pages, %d orders", len(s.pages), len(s.ids()))
	}
	if !strings.Contains(f.Queries[0], "updated_at:>='2026-10-31T23:55:00Z'") {
		t.Errorf("first query filter = %q (start_date minus the overlap)", f.Queries[0])
	}

	// Later: three new orders; the next import sends them and the few in
	// the overlap window, not all 25.
	f.AddOrders(2000, 3, t0.Add(time.Hour))
	var next sink
	if err := c.GetOrders(context.Background(), config(f), s.last(), &next); err != nil {
		t.Fatal(err)
	}
	ids := next.ids()
	if len(ids) != 3+6 || !slices.Contains(ids, "2000") || !slices.Contains(ids, "2002") {
		t.Fatalf("incremental import = %v", ids)
	}
	if slices.Contains(ids, "1000") {
		t.Errorf("an order updated long before the last import came again: %v", ids)
	}
	// The overlap: orders updated in the 5 minutes up to the last one seen
	// (1019 to 1024) come again (the host recognises them), so one changed
	// in the same second as the cursor is never skipped.
	if !slices.Contains(ids, "1024") || !slices.Contains(ids, "1019") || slices.Contains(ids, "1018") {
		t.Errorf("the overlap window did not send the last order again: %v", ids)
	}
}

// TestChangedAfterImport: an order canceled or edited in the shop after
// it was imported comes again on the next import (Shopify moves its
// updatedAt), with the change: a cancellation as canceled_at and
// cancel_reason, which the host turns into the order's cancellation.
func TestChangedAfterImport(t *testing.T) {
	changedAt := t0.Add(3 * time.Hour)
	for _, tc := range []struct {
		name   string
		change func(f *shopifytest.Server)
		check  func(t *testing.T, o *sdk.Order)
	}{
		{"canceled with a reason", func(f *shopifytest.Server) { f.Cancel(1003, changedAt, "CUSTOMER") }, func(t *testing.T, o *sdk.Order) {
			if o.CanceledAt == nil || !o.CanceledAt.Equal(changedAt) || o.CancelReason != "customer" {
				t.Errorf("canceled_at %v, cancel_reason %q; want %v, customer", o.CanceledAt, o.CancelReason, changedAt)
			}
		}},
		{"canceled for fraud", func(f *shopifytest.Server) { f.Cancel(1003, changedAt, "FRAUD") }, func(t *testing.T, o *sdk.Order) {
			if o.CanceledAt == nil || o.CancelReason != "fraud" {
				t.Errorf("canceled_at %v, cancel_reason %q; want fraud", o.CanceledAt, o.CancelReason)
			}
		}},
		{"canceled without a reason", func(f *shopifytest.Server) { f.Cancel(1003, changedAt, "") }, func(t *testing.T, o *sdk.Order) {
			if o.CanceledAt == nil || !o.CanceledAt.Equal(changedAt) || o.CancelReason != "" {
				t.Errorf("canceled_at %v, cancel_reason %q; want %v and none", o.CanceledAt, o.CancelReason, changedAt)
			}
		}},
		{"address edited", func(f *shopifytest.Server) {
			f.Edit(1003, changedAt, func(o map[string]any) { o["shippingAddress"].(map[string]any)["address1"] = "9 Side St" })
		}, func(t *testing.T, o *sdk.Order) {
			if o.ShippingAddress.Address1 != "9 Side St" || o.CanceledAt != nil {
				t.Errorf("address1 %q, canceled_at %v; want the edit and no cancellation", o.ShippingAddress.Address1, o.CanceledAt)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestConnector()
			f := c.shop(t)
			f.AddOrdersEvery(1000, 25, t0, time.Minute)
			var first sink
			if err := c.GetOrders(context.Background(), config(f), "", &first); err != nil {
				t.Fatal(err)
			}
			if o := first.order("1003"); o == nil || o.CanceledAt != nil {
				t.Fatalf("first import: order 1003 = %+v", o)
			}
			tc.change(f)
			var next sink
			if err := c.GetOrders(context.Background(), config(f), first.last(), &next); err != nil {
				t.Fatal(err)
			}
			o := next.order("1003")
			if o == nil {
				t.Fatalf("the changed order did not come again: %v", next.ids())
			}
			if err := o.Validate(); err != nil {
				t.Errorf("the changed order is not valid: %v", err)
			}
			tc.check(t, o)
			// Only it and the overlap window's orders come again.
			if ids := next.ids(); len(ids) != 1+6 || slices.Contains(ids, "1004") {
				t.Errorf("next import = %v, want 1003 and 1019-1024", ids)
			}
		})
	}
}

// TestResumeFromSavedCursor: an import stopped after its first page
// resumes from that page's cursor with the rest.
func TestResumeFromSavedCursor(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(1000, 25, t0)
	var full sink
	if err := c.GetOrders(context.Background(), config(f), "", &full); err != nil {
		t.Fatal(err)
	}
	var rest sink
	if err := c.GetOrders(context.Background(), config(f), full.cursor[0], &rest); err != nil {
		t.Fatal(err)
	}
	if got := rest.ids(); len(got) != 15 || got[0] != "1010" {
		t.Fatalf("resumed import = %v", got)
	}
}

// TestOrdersUpdatedDuringImport: an order edited while the import pages
// moves behind the cursor and is sent again in the same import; nothing
// is skipped.
func TestOrdersUpdatedDuringImport(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(1000, 25, t0)
	f.OnRequest = func(n int) {
		if n == 1 {
			f.Touch(1003, t0.Add(time.Hour))               // already sent: comes again
			f.Cancel(1015, t0.Add(time.Hour), "INVENTORY") // not sent yet: moves to the end
		}
	}
	var s sink
	if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, id := range s.ids() {
		seen[id]++
	}
	for i := range 25 {
		if seen[fmt.Sprint(1000+i)] == 0 {
			t.Errorf("order %d was skipped", 1000+i)
		}
	}
	if seen["1003"] != 2 {
		t.Errorf("the order edited after it was sent came %d times, want 2", seen["1003"])
	}
	if o := s.order("1015"); o.CanceledAt == nil || o.CancelReason != "inventory" {
		t.Errorf("the order canceled during the import came without its cancellation: %v %q", o.CanceledAt, o.CancelReason)
	}
}

// TestThrottling: THROTTLED responses and HTTP 429 are retried after the
// wait the bucket needs or Shopify asks for.
func TestThrottling(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *shopifytest.Server)
		// want are the fake's first answers.
		want []string
		// minWait is the least the first wait must be.
		minWait time.Duration
	}{
		{"THROTTLED twice", func(f *shopifytest.Server) { f.Throttle = 2 },
			[]string{"orders:THROTTLED", "orders:THROTTLED", "orders:ok"}, 500 * time.Millisecond},
		{"HTTP 429 with Retry-After", func(f *shopifytest.Server) { f.Status429 = 1 },
			[]string{"orders:429", "orders:ok"}, 2 * time.Second},
		// Another app drained the bucket before the import's first request,
		// which cannot know: the THROTTLED answer says what the query costs
		// (992) and what is left (2); the retry waits (992-2)/100 s.
		{"bucket drained before the import", func(f *shopifytest.Server) { f.SetBucket(2000, 100, 2) },
			[]string{"orders:THROTTLED", "orders:ok"}, 9900 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestConnector()
			f := c.shop(t)
			f.AddOrders(1000, 15, t0)
			tc.setup(f)
			var s sink
			if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
				t.Fatal(err)
			}
			if len(s.ids()) != 15 {
				t.Fatalf("%d orders", len(s.ids()))
			}
			if got := outcomes(f); len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("answers = %v, want them to start %v", got, tc.want)
			}
			sleeps := c.clock.Sleeps()
			if len(sleeps) == 0 || sleeps[0] < tc.minWait {
				t.Fatalf("sleeps = %v, want the first at least %v", sleeps, tc.minWait)
			}
			for _, d := range sleeps {
				if d > 30*time.Second {
					t.Errorf("a wait of %v is over the cap", d)
				}
			}
		})
	}
}

// TestPacesByNextQueryCost: with a small bucket, the connector waits
// before each query until the bucket holds that query's cost, estimated
// from the last requested cost of the same kind of query: after three
// expensive LineItems queries drain it, the next orders page (992 points)
// waits for 992, not for the 753 the last query cost. No request is
// throttled, and none waits longer than it must.
func TestPacesByNextQueryCost(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(1000, 25, t0)
	f.SetLines(1001, 600)
	f.SetBucket(1000, 50, 1000)
	var s sink
	if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	if o := s.order("1001"); o == nil || len(o.LineItems) != 600 {
		t.Fatalf("order 1001 = %v", o)
	}
	reqs := f.Requests()
	for i, r := range reqs {
		if r.Outcome != "ok" {
			t.Fatalf("request %d (%s) was answered %s: the connector did not wait for the bucket", i, r.Root, r.Outcome)
		}
		if i > 0 && r.At.After(reqs[i-1].At) && r.Available > r.Requested+0.01 {
			t.Errorf("request %d (%s, cost %g) waited until the bucket held %g: longer than needed", i, r.Root, r.Requested, r.Available)
		}
	}
	// The second orders page follows the last LineItems query.
	var second int
	for i, r := range reqs {
		if r.Root == "orders" && i > 0 {
			second = i
			break
		}
	}
	if second == 0 || reqs[second-1].Root != "order" {
		t.Fatalf("requests: %v", outcomes(f))
	}
	if r := reqs[second]; r.Requested != 992 || math.Abs(r.Available-992) > 0.01 || reqs[second-1].Requested != 753 {
		t.Errorf("the orders page after a LineItems query of %g was sent with %g available for its cost of %g", reqs[second-1].Requested, r.Available, r.Requested)
	}
	if len(c.clock.Sleeps()) < 4 {
		t.Errorf("sleeps = %v, want a wait before each query the drained bucket cannot pay", c.clock.Sleeps())
	}
}

// TestWait: the wait before a query is the time the bucket, as the last
// response left it and refilling since, needs to hold the query's cost.
func TestWait(t *testing.T) {
	at := t0
	for _, tc := range []struct {
		name                            string
		available, maximum, restoreRate float64
		elapsed                         time.Duration
		need                            float64
		want                            time.Duration
	}{
		{"no response yet", 0, 0, 0, 0, 500, 0},
		{"enough points", 600, 2000, 100, 0, 500, 0},
		{"211 needed, 17 left", 17, 2000, 100, 0, 211, 1940 * time.Millisecond},
		{"refilled since the last response", 17, 2000, 100, time.Second, 211, 940 * time.Millisecond},
		{"refilled enough", 17, 2000, 100, 3 * time.Second, 211, 0},
		{"more than the bucket holds waits for a full bucket", 0, 1000, 50, 0, 1500, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{available: tc.available, maximum: tc.maximum, restoreRate: tc.restoreRate, seenAt: at,
				now: func() time.Time { return at.Add(tc.elapsed) }}
			if got := c.wait(tc.need); got.Round(time.Microsecond) != tc.want {
				t.Errorf("wait = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCostEstimates: the connector's cost of each query, by Shopify's
// documented rules, is what the fake computes from the query's text with
// those rules.
func TestCostEstimates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		want  float64
	}{
		{"orders 10x27", ordersQuery, map[string]any{"first": 10, "lines": 27}, ordersCost(page{10, 27})},
		{"orders 20x10", ordersQuery, map[string]any{"first": 20, "lines": 10}, ordersCost(page{20, 10})},
		{"orders 1x250", ordersQuery, map[string]any{"first": 1, "lines": 250}, ordersCost(page{1, 250})},
		{"line items 250", lineItemsQuery, map[string]any{"id": "gid://shopify/Order/1", "first": 250}, lineItemsCost(250)},
		{"line items 7", lineItemsQuery, map[string]any{"id": "gid://shopify/Order/1", "first": 7}, lineItemsCost(7)},
		{"shop", shopQuery, nil, shopQueryCost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]any{}
			for k, v := range tc.vars {
				if n, ok := v.(int); ok {
					v = float64(n) // as the fake decodes JSON variables
				}
				vars[k] = v
			}
			got, err := shopifytest.QueryCost(tc.query, vars)
			if err != nil {
				t.Fatalf("the fake refuses the query: %v", err)
			}
			if got != tc.want {
				t.Errorf("the fake costs the query %g, the connector %g", got, tc.want)
			}
		})
	}
	if c := ordersCost(page{DefaultPageSize, minLines}); c > maxQueryCost {
		t.Errorf("the default page costs %g, over the single-query limit", c)
	}
}

// TestFitOrders: a page is as large as fits within the single-query
// limit, lowering line items per order to minLines before orders.
func TestFitOrders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxCost float64
		scale   float64
		limit   page
		want    page
		ok      bool
	}{
		{"10 orders get 27 lines", 1000, 1, page{10, 250}, page{10, 27}, true},
		{"the default page", 1000, 1, page{DefaultPageSize, 250}, page{20, 10}, true},
		{"100 orders are too many", 1000, 1, page{100, 250}, page{20, 10}, true},
		{"one order gets all its lines", 1000, 1, page{1, 250}, page{1, 250}, true},
		{"within a lowered limit", 1000, 1, page{10, 27}, page{10, 27}, true},
		{"Shopify charges twice the rules", 1000, 2, page{10, 250}, page{10, 10}, true},
		{"Shopify charges half the rules", 1000, 0.5, page{10, 250}, page{10, 60}, true},
		{"a limit of 300", 300, 1, page{10, 27}, page{6, 10}, true},
		{"a limit of 40 leaves one order with fewer lines", 40, 1, page{10, 27}, page{1, 6}, true},
		{"not even one line fits", 20, 1, page{10, 27}, page{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{maxCost: tc.maxCost, scale: map[string]float64{"orders": tc.scale}}
			got, ok := c.fitOrders(tc.limit)
			if got != tc.want || ok != tc.ok {
				t.Errorf("fitOrders(%v) = %v, %v; want %v, %v", tc.limit, got, ok, tc.want, tc.ok)
			}
			if ok && ordersCost(got)*tc.scale > tc.maxCost {
				t.Errorf("%v costs %g, over %g", got, ordersCost(got)*tc.scale, tc.maxCost)
			}
		})
	}
}

// TestCostExceeded: a MAX_COST_EXCEEDED error gives the query's cost and
// the limit, from its extensions or its message; the client keeps both.
func TestCostExceeded(t *testing.T) {
	msg := "Query cost is 1985, which exceeds the single query max cost limit (1000).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits"
	for _, tc := range []struct {
		name                string
		err                 gqlError
		wantCost, wantMax   float64
		wantScale, wantKeep float64
	}{
		{"extensions", costErr(msg, `1985`, `1000`), 1985, 1000, 1985.0 / 992, 1000},
		{"message only", costErr(msg, ``, ``), 1985, 1000, 1985.0 / 992, 1000},
		{"a lower limit", costErr("Query cost is 992, which exceeds the single query max cost limit (300).", `992`, `300`), 992, 300, 1, 300},
		{"extensions of another shape", costErr("too costly", `{"requested": 5}`, `"x"`), 0, 0, 0, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{maxCost: maxQueryCost, scale: map[string]float64{}}
			ce := c.costExceeded(request{kind: "orders", cost: 992}, []gqlError{tc.err})
			if ce == nil {
				t.Fatal("no costError")
			}
			if ce.cost != tc.wantCost || ce.max != tc.wantMax || c.maxCost != tc.wantKeep || c.scale["orders"] != tc.wantScale {
				t.Errorf("cost %g max %g; kept limit %g scale %g", ce.cost, ce.max, c.maxCost, c.scale["orders"])
			}
			if sdk.KindOf(ce) != sdk.ErrUnavailable || !strings.Contains(ce.Error(), "MAX_COST_EXCEEDED") || strings.Contains(ce.Error(), "\n") {
				t.Errorf("error %q (kind %s)", ce.Error(), sdk.KindOf(ce))
			}
		})
	}
	c := &client{scale: map[string]float64{}}
	if ce := c.costExceeded(request{kind: "orders"}, []gqlError{{Message: "Throttled"}}); ce != nil {
		t.Errorf("another error is taken for MAX_COST_EXCEEDED: %v", ce)
	}
}

func costErr(msg, cost, maxCost string) gqlError {
	var e gqlError
	e.Message = msg
	e.Extensions.Code = "MAX_COST_EXCEEDED"
	if cost != "" {
		e.Extensions.Cost = []byte(cost)
	}
	if maxCost != "" {
		e.Extensions.MaxCost = []byte(maxCost)
	}
	return e
}

// TestMaxCostExceeded: when Shopify refuses a query as too costly, the
// import asks again with a smaller page (or fewer line items), goes on
// with that size, and says what it did on the page it sends; when not
// even one order fits, it ends with a clear error.
func TestMaxCostExceeded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *shopifytest.Server)
		// refused is the number of MAX_COST_EXCEEDED answers; problem what
		// the first page reports (none when ""); wantErr the error.
		refused int
		problem []string
		wantErr string
	}{
		{"large pages", func(f *shopifytest.Server) { f.SetMaxCost(300) }, 1,
			[]string{"orders query", "10 orders with up to 27 line items each", "cost of 992", "limit of 300", "6 orders with up to 10 line items each"}, ""},
		{"limit lowered during the import", func(f *shopifytest.Server) {
			f.OnRequest = func(n int) {
				if n == 1 {
					f.SetMaxCost(300)
				}
			}
		}, 1, []string{"order #1001", "250 more line items", "cost of 753", "limit of 300", "99 at a time"}, ""},
		{"not even one order fits", func(f *shopifytest.Server) { f.SetMaxCost(15) }, 1, nil, "single-query cost limit (15)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestConnector()
			f := c.shop(t)
			f.AddOrders(1000, 25, t0)
			f.SetLines(1001, 600)
			tc.setup(f)
			var s sink
			err := c.GetOrders(context.Background(), config(f), "", &s)
			var refused int
			for _, r := range f.Requests() {
				if r.Outcome == "MAX_COST_EXCEEDED" {
					refused++
				}
			}
			if refused != tc.refused {
				t.Errorf("%d queries refused as too costly, want %d: %v", refused, tc.refused, outcomes(f))
			}
			if tc.wantErr != "" {
				if sdk.KindOf(err) != sdk.ErrUnavailable || !strings.Contains(err.Error(), tc.wantErr) || len(s.pages) != 0 {
					t.Fatalf("err = %v (kind %s), %d pages; want %s", err, sdk.KindOf(err), len(s.pages), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.ids()) != 25 {
				t.Fatalf("%d orders: %v", len(s.ids()), s.ids())
			}
			if o := s.order("1001"); len(o.LineItems) != 600 || o.LineItems[599].SKU != "S0599" {
				t.Errorf("order 1001 has %d lines", len(o.LineItems))
			}
			if len(s.problems[0]) != 1 {
				t.Fatalf("the first page reports %v, want one problem", s.problems[0])
			}
			pr := s.problems[0][0]
			if !pr.Notice {
				t.Errorf("problem %q is not a notice: a shrunk page rejects no order, and the host would count the import as partial", pr.Message)
			}
			for _, w := range tc.problem {
				if !strings.Contains(pr.Source+": "+pr.Message, w) {
					t.Errorf("problem %q: %q lacks %q", pr.Source, pr.Message, w)
				}
			}
			for i, p := range s.problems[1:] {
				if len(p) != 0 {
					t.Errorf("page %d reports %v again", i+1, p)
				}
			}
		})
	}
}

// TestGivesUpAfterRetries: a store that throttles forever ends the import
// with an error; nothing was sent.
func TestGivesUpAfterRetries(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(1000, 5, t0)
	f.Throttle = 100
	var s sink
	err := c.GetOrders(context.Background(), config(f), "", &s)
	if sdk.KindOf(err) != sdk.ErrUnavailable || len(s.pages) != 0 || !strings.Contains(err.Error(), "9 attempts") {
		t.Fatalf("err %v, pages %d", err, len(s.pages))
	}
}

// TestMalformedResponse: a response that cannot be read ends the import
// with a clear error, after the pages before it and with no cursor past
// them.
func TestMalformedResponse(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(1000, 25, t0)
	f.MalformedPage = 2
	var s sink
	err := c.GetOrders(context.Background(), config(f), "", &s)
	if err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("err = %v", err)
	}
	if len(s.pages) != 1 || len(s.ids()) != 10 {
		t.Fatalf("pages before the error: %d with %d orders", len(s.pages), len(s.ids()))
	}
	// Resuming from the last cursor sent gives the rest: it does not point
	// past what was sent.
	f.MalformedPage = 0
	var rest sink
	if err := c.GetOrders(context.Background(), config(f), s.last(), &rest); err != nil || len(rest.ids()) != 15 {
		t.Fatalf("resumed: %v, %d orders", err, len(rest.ids()))
	}
}

// TestManyLineItems: an order with more line items than its page asks
// for keeps them all, read by LineItems queries.
func TestManyLineItems(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	f.AddOrders(1000, 2, t0)
	f.SetLines(1001, 600)
	var s sink
	if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	o := s.pages[0][1]
	if o.ExternalID != "1001" || len(o.LineItems) != 600 || o.LineItems[599].SKU != "S0599" {
		t.Fatalf("order %s has %d lines", o.ExternalID, len(o.LineItems))
	}
	var more int
	for _, r := range f.Requests() {
		if r.Root == "order" {
			more++
		}
	}
	if more != 3 { // 27 lines on the page, then 250, 250 and 73
		t.Errorf("%d LineItems queries, want 3", more)
	}
}

// TestAPIVersion: requests name the connector in their User-Agent; when
// Shopify answers with another API version than asked for (it falls
// forward from one it no longer supports), the connection test says so
// and an import logs one warning; a deprecation Shopify reports is logged
// once too. The token is never logged.
func TestAPIVersion(t *testing.T) {
	if shopifytest.APIVersion != DefaultAPIVersion {
		t.Errorf("the fake follows %s, the connector asks for %s", shopifytest.APIVersion, DefaultAPIVersion)
	}
	for _, tc := range []struct {
		name, version, deprecated string
		// note is in the connection test's detail; warnings are the log's.
		note     string
		warnings []string
	}{
		{"the pinned version", DefaultAPIVersion, "", "", nil},
		{"an unsupported version", "2025-10", "", "Shopify answered with API version 2026-01, not the 2025-10 asked for",
			[]string{"another API version", "asked=2025-10", "answered=2026-01"}},
		{"a deprecation", DefaultAPIVersion, "https://shopify.dev/api/usage/versioning#deprecation-practices", "",
			[]string{"deprecated", "https://shopify.dev/api/usage/versioning#deprecation-practices"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestConnector()
			f := c.shop(t)
			f.AddOrders(1000, 25, t0)
			f.DeprecatedReason = tc.deprecated
			cfg := config(f, "endpoint", f.EndpointFor(tc.version), "api_version", tc.version)
			var logs bytes.Buffer
			ctx := sdk.WithLogger(context.Background(), hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}))

			detail, err := c.TestConnection(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if hasNote := strings.Contains(detail, "warning"); hasNote != (tc.note != "") || !strings.Contains(detail, tc.note) {
				t.Errorf("detail = %q, want the note %q", detail, tc.note)
			}
			logs.Reset()
			if err := c.GetOrders(ctx, cfg, "", &sink{}); err != nil {
				t.Fatal(err)
			}
			var warns []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "[WARN]") {
					warns = append(warns, l)
				}
			}
			if len(warns) != min(len(tc.warnings), 1) {
				t.Fatalf("warnings over a 3-page import: %q, want one with %q", warns, tc.warnings)
			}
			for _, w := range tc.warnings {
				if !strings.Contains(warns[0], w) {
					t.Errorf("warning %q lacks %q", warns[0], w)
				}
			}
			if strings.Contains(logs.String(), shopifytest.Token) {
				t.Error("the log contains the access token")
			}
			for _, r := range f.Requests() {
				if r.UserAgent != "ordergate-connector-shopify/"+Version {
					t.Fatalf("User-Agent = %q", r.UserAgent)
				}
			}
		})
	}
}

// TestFakeRefusesDeprecatedFields: the fields the connector moved off are
// refused by the fake, so selecting one again fails these tests; the
// connector's queries pass.
func TestFakeRefusesDeprecatedFields(t *testing.T) {
	for _, tc := range []struct {
		name, query, refused string
	}{
		{"Customer.email", `query { order(id: "1") { customer { email } } }`, "defaultEmailAddress.emailAddress"},
		{"Customer.phone", `query { order(id: "1") { customer { phone } } }`, "defaultPhoneNumber.phoneNumber"},
		{"ShopPlan.displayName", `query { shop { plan { displayName } } }`, "publicDisplayName"},
		{"a misspelt replacement", `query { order(id: "1") { customer { defaultEmailAddress { email } } } }`, "doesn't exist"},
		{"the connector's orders query", ordersQuery, ""},
		{"the connector's line items query", lineItemsQuery, ""},
		{"the connector's shop query", shopQuery, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := shopifytest.QueryCost(tc.query, map[string]any{"first": 10.0, "lines": 10.0, "id": "1"})
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("err = %v, want a refusal naming %q", err, tc.refused)
			}
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	c := newTestConnector()
	f := c.shop(t)
	ctx := context.Background()
	detail, err := c.TestConnection(ctx, config(f))
	if err != nil || !strings.Contains(detail, "Valve Supply Co") || !strings.Contains(detail, "plan Basic") || strings.Contains(detail, "warning") {
		t.Fatalf("test: %q, %v", detail, err)
	}
	for name, tc := range map[string]struct {
		cfg    sdk.Config
		scopes []string
		kind   sdk.ErrorKind
		says   string
	}{
		"bad token":         {config(f, "access_token", "shpat_wrong"), nil, sdk.ErrUnauthenticated, "access token"},
		"no read_orders":    {config(f), []string{"read_products"}, sdk.ErrPermissionDenied, "read_orders"},
		"old start date":    {config(f, "start_date", "2026-01-01"), nil, sdk.ErrPermissionDenied, "read_all_orders"},
		"bad shop domain":   {config(f, "endpoint", "", "shop", "valve supply"), nil, sdk.ErrInvalidConfig, "myshopify.com"},
		"bad api version":   {config(f, "api_version", "2025-13"), nil, sdk.ErrInvalidConfig, "api_version"},
		"unreachable shop":  {config(f, "endpoint", "http://127.0.0.1:1/admin/api/2026-10/graphql.json"), nil, sdk.ErrUnavailable, "cannot reach"},
		"page size too big": {config(f, "page_size", 500), nil, sdk.ErrInvalidConfig, "page_size"},
	} {
		f.Scopes = []string{"read_orders"}
		if tc.scopes != nil {
			f.Scopes = tc.scopes
		}
		_, err := c.TestConnection(ctx, tc.cfg)
		if sdk.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v (kind %s), want %s saying %q", name, err, sdk.KindOf(err), tc.kind, tc.says)
		}
	}
}
