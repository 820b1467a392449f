package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/plugins/shopify/shopifytest"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/sdktest"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// testConnector is the connector with recorded, instant sleeps.
type testConnector struct {
	*Connector
	mu     sync.Mutex
	sleeps []time.Duration
}

func newTestConnector() *testConnector {
	tc := &testConnector{Connector: New()}
	tc.Now = func() time.Time { return t0.Add(24 * time.Hour) }
	tc.Sleep = func(ctx context.Context, d time.Duration) error {
		tc.mu.Lock()
		tc.sleeps = append(tc.sleeps, d)
		tc.mu.Unlock()
		return ctx.Err()
	}
	return tc
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
	pages  [][]sdk.Order
	cursor []string
}

func (s *sink) Send(orders []sdk.Order, cursor string, _ ...sdk.Problem) error {
	s.pages = append(s.pages, orders)
	s.cursor = append(s.cursor, cursor)
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

func (s *sink) last() string { return s.cursor[len(s.cursor)-1] }

func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Suite{
		Connector: newTestConnector(),
		// The overlap window sends the last 5 minutes of orders again.
		ResendsRecent: true,
		Fixture: func(t *testing.T) sdk.Config {
			f := shopifytest.New(t)
			f.AddOrdersEvery(1000, 25, t0, time.Minute)
			return config(f)
		},
	})
}

func TestMapping(t *testing.T) {
	f := shopifytest.New(t)
	f.AddOrders(5531203, 1, t0)
	var s sink
	if err := newTestConnector().GetOrders(context.Background(), config(f), "", &s); err != nil {
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
		"custom": "gift=no paid unfulfilled", "note": "Leave at the door", "tags": "web",
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
	f := shopifytest.New(t)
	f.AddOrdersEvery(1000, 25, t0, time.Minute)
	c := newTestConnector()
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

// TestResumeFromSavedCursor: an import stopped after its first page
// resumes from that page's cursor with the rest.
func TestResumeFromSavedCursor(t *testing.T) {
	f := shopifytest.New(t)
	f.AddOrders(1000, 25, t0)
	c := newTestConnector()
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
	f := shopifytest.New(t)
	f.AddOrders(1000, 25, t0)
	f.OnRequest = func(n int) {
		if n == 1 {
			f.Touch(1003, t0.Add(time.Hour)) // already sent: comes again
			f.Touch(1015, t0.Add(time.Hour)) // not sent yet: moves to the end
		}
	}
	var s sink
	if err := newTestConnector().GetOrders(context.Background(), config(f), "", &s); err != nil {
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
		t.Errorf("the edited order was sent %d times, want 2 (before and after the edit)", seen["1003"])
	}
}

// TestThrottling: THROTTLED responses and HTTP 429 are retried after the
// wait the bucket needs; a low bucket paces the next request.
func TestThrottling(t *testing.T) {
	f := shopifytest.New(t)
	f.AddOrders(1000, 15, t0)
	f.Throttle, f.Status429 = 2, 1
	f.Available = 2 // below the 502 the query costs: the next request must wait
	c := newTestConnector()
	var s sink
	if err := c.GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	if len(s.ids()) != 15 {
		t.Fatalf("%d orders", len(s.ids()))
	}
	// THROTTLED with 152 available and 752 requested: 6s to refill at 100/s.
	if len(c.sleeps) < 4 || c.sleeps[0] < 6*time.Second {
		t.Fatalf("sleeps = %v", c.sleeps)
	}
	// The 429's Retry-After of 2s is honoured.
	var paced bool
	for _, d := range c.sleeps {
		if d > 30*time.Second {
			t.Errorf("a wait of %v is over the cap", d)
		}
		paced = paced || (d >= 4900*time.Millisecond && d <= 5*time.Second) // (502-2)/100
	}
	if !paced {
		t.Errorf("no wait for the bucket to refill after a low throttle status: %v", c.sleeps)
	}
}

// TestGivesUpAfterRetries: a store that throttles forever ends the import
// with an error; nothing was sent.
func TestGivesUpAfterRetries(t *testing.T) {
	f := shopifytest.New(t)
	f.AddOrders(1000, 5, t0)
	f.Throttle = 100
	var s sink
	err := newTestConnector().GetOrders(context.Background(), config(f), "", &s)
	if sdk.KindOf(err) != sdk.ErrUnavailable || len(s.pages) != 0 {
		t.Fatalf("err %v, pages %d", err, len(s.pages))
	}
}

// TestMalformedResponse: a response that cannot be read ends the import
// with a clear error, after the pages before it and with no cursor past
// them.
func TestMalformedResponse(t *testing.T) {
	f := shopifytest.New(t)
	f.AddOrders(1000, 25, t0)
	f.MalformedPage = 2
	var s sink
	err := newTestConnector().GetOrders(context.Background(), config(f), "", &s)
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
	if err := newTestConnector().GetOrders(context.Background(), config(f), s.last(), &rest); err != nil || len(rest.ids()) != 15 {
		t.Fatalf("resumed: %v, %d orders", err, len(rest.ids()))
	}
}

// TestManyLineItems: an order with more than 250 lines keeps them all.
func TestManyLineItems(t *testing.T) {
	f := shopifytest.New(t)
	f.AddOrders(1000, 2, t0)
	f.SetLines(1001, 600)
	var s sink
	if err := newTestConnector().GetOrders(context.Background(), config(f), "", &s); err != nil {
		t.Fatal(err)
	}
	o := s.pages[0][1]
	if o.ExternalID != "1001" || len(o.LineItems) != 600 || o.LineItems[599].SKU != "S0599" {
		t.Fatalf("order %s has %d lines", o.ExternalID, len(o.LineItems))
	}
}

func TestConnectionErrors(t *testing.T) {
	f := shopifytest.New(t)
	c := newTestConnector()
	ctx := context.Background()
	detail, err := c.TestConnection(ctx, config(f))
	if err != nil || !strings.Contains(detail, "Valve Supply Co") || !strings.Contains(detail, "Basic") {
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
		"unreachable shop":  {config(f, "endpoint", "http://127.0.0.1:1/admin/api/2025-10/graphql.json"), nil, sdk.ErrUnavailable, "cannot reach"},
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
