// Package storetest is the contract suite of the store: any
// implementation of host.Store must pass it, the way sdktest checks
// connectors. A store's own tests run it:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) host.Store { return openTestStore(t) })
//	}
//
// open must return a new, empty store each call (with a secret key, so
// channel and destination secrets can be sealed) and close it when the
// test ends. The suite checks every method's contract: idempotent
// creation of orders by channel and external id, Idempotency-Key
// conflicts, cursor pagination and filters, atomic updates under
// concurrency (no update lost), domain errors that fail one write only,
// import pages with their cursor and run, the alert outbox, the change feed and its fan-out, runs and
// cursors, the catalog, stock, routing groups and settings, the counts,
// and users and their sessions.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Run runs every check of the contract as a subtest of t, each on a
// store of its own.
func Run(t *testing.T, open func(t *testing.T) host.Store) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s host.Store)
	}{
		{"OrdersIdempotentByExternalID", ordersIdempotent},
		{"IdempotencyKey", idempotencyKey},
		{"ListOrdersFiltersAndPages", listOrders},
		{"UpdateOrder", updateOrder},
		{"CommitPage", commitPage},
		{"LookAlikeRace", lookAlikeRace},
		{"Channels", channels},
		{"ConcurrentUpdatesLoseNothing", concurrentUpdates},
		{"DomainErrorFailsOneWrite", domainErrorFailsOne},
		{"RunsAndCursors", runsAndCursors},
		{"Keys", keys},
		{"Catalog", catalog},
		{"InventoryAndFacts", inventoryAndFacts},
		{"Outbox", outbox},
		{"Counts", counts},
		{"DueHolds", dueHolds},
		{"Events", events},
		{"FanOut", fanOut},
		{"UpdatedAfter", updatedAfter},
		{"Customers", customers},
		{"SortedQueue", sortedQueue},
		{"PruneEvents", pruneEvents},
		{"Users", users},
		{"Sessions", sessions},
		{"RuleHits", ruleHits},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
)

// record is an order of channel imported at t0 + minute minutes.
func record(channel, external string, minute int, status sdk.Status, tags ...string) *host.Record {
	at := t0.Add(time.Duration(minute) * time.Minute)
	r := &host.Record{Order: sdk.Order{
		ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), ChannelID: channel, ExternalID: external,
		Number: "#" + external, PlacedAt: at, Currency: "USD", Status: status, ImportedAt: &at, Tags: tags,
		ShippingAddress: sdk.Address{Address1: external + " Main St", Country: "US"},
		LineItems:       []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, Totals: sdk.Totals{Total: "1.00"},
	}}
	if status == sdk.StatusOnHold {
		r.Holds = []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r"}}
	}
	return r
}

func create(t *testing.T, s host.Store, rs ...*host.Record) []host.CreateResult {
	t.Helper()
	in := make([]host.NewOrder, len(rs))
	for i, r := range rs {
		in[i] = host.NewOrder{Record: r}
	}
	res, err := s.CreateOrders(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if host.ErrorCode(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func ordersIdempotent(t *testing.T, s host.Store) {
	a := record("shop", "1", 0, sdk.StatusOpen)
	res := create(t, s, a)
	if !res[0].Created || res[0].Record.ID != a.ID {
		t.Fatalf("first create = %+v", res[0])
	}
	again := record("shop", "1", 1, sdk.StatusOnHold)
	res = create(t, s, again, record("other", "1", 2, sdk.StatusOpen))
	if res[0].Created || res[0].Record.ID != a.ID || res[0].Record.Status != sdk.StatusOpen {
		t.Errorf("the same channel and external id again = %+v, want the stored order", res[0])
	}
	if !res[1].Created {
		t.Error("the same external id on another channel was not created")
	}
	got, err := s.Order(ctx, a.ID)
	if err != nil || got.ExternalID != "1" || got.ChannelID != "shop" {
		t.Fatalf("Order = %+v, %v", got, err)
	}
	_, err = s.Order(ctx, "01NOSUCHORDER0000000000000")
	wantCode(t, "Order of an unknown id", err, host.ENOTFOUND)
	byExt, err := s.OrdersByExternalID(ctx, "shop", []string{"1", "2"})
	if err != nil || len(byExt) != 1 || byExt["1"].ID != a.ID {
		t.Errorf("OrdersByExternalID = %v, %v", byExt, err)
	}
}

func idempotencyKey(t *testing.T, s host.Store) {
	r := record("shop", "1", 0, sdk.StatusOpen)
	res, err := s.CreateOrders(ctx, []host.NewOrder{{Record: r, IdempotencyKey: "k1", RequestHash: "h1"}})
	must(t, err)
	if !res[0].Created {
		t.Fatal("not created")
	}
	res, _ = s.CreateOrders(ctx, []host.NewOrder{{Record: record("shop", "2", 1, sdk.StatusOpen), IdempotencyKey: "k1", RequestHash: "h1"}})
	if res[0].Created || res[0].Record.ID != r.ID {
		t.Errorf("the same key and body again = %+v, want the first order", res[0])
	}
	res, _ = s.CreateOrders(ctx, []host.NewOrder{{Record: record("shop", "3", 2, sdk.StatusOpen), IdempotencyKey: "k1", RequestHash: "h2"}})
	wantCode(t, "the same key with another body", res[0].Err, host.ECONFLICT)
	res, _ = s.CreateOrders(ctx, []host.NewOrder{{Record: record("other", "4", 3, sdk.StatusOpen), IdempotencyKey: "k1", RequestHash: "h2"}})
	if !res[0].Created {
		t.Error("a key is scoped to its channel: another channel's order with it was not created")
	}
}

func listOrders(t *testing.T, s host.Store) {
	var all []*host.Record
	for i := range 12 {
		status := []sdk.Status{sdk.StatusOpen, sdk.StatusOnHold, sdk.StatusCanceled}[i%3]
		channel := []string{"shop", "acme"}[i%2]
		tags := []string{}
		if i%4 == 0 {
			tags = append(tags, "VIP")
		}
		r := record(channel, fmt.Sprint(i), i, status, tags...)
		if i%5 == 0 { // a customer, and a tag the workflow added: the basic view shows both
			r.Customer = sdk.Customer{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+1 555 0100"}
			r.Events = []sdk.Event{{At: r.PlacedAt, Type: "decision", Actor: "workflow", Decision: &sdk.Decision{Tags: []sdk.TagDecision{{Tag: "Review Needed", Package: "workflow.tags"}}}}}
		}
		all = append(all, r)
	}
	create(t, s, all...)
	ids := func(f host.OrderFilter) []string {
		t.Helper()
		var out []string
		f.Limit = 5
		for {
			page, next, err := s.ListOrders(ctx, f)
			must(t, err)
			if len(page) > 5 {
				t.Fatalf("a page of %d, limit 5", len(page))
			}
			for _, r := range page {
				out = append(out, r.ExternalID)
				if f.Basic {
					wantBasic(t, s, r)
				}
			}
			if next == "" {
				return out
			}
			f.After = next
		}
	}
	want := func(pred func(i int) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- { // newest first
			if pred(i) {
				out = append(out, fmt.Sprint(i))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    host.OrderFilter
		pred func(i int) bool
	}{
		{"all", host.OrderFilter{}, func(int) bool { return true }},
		{"status", host.OrderFilter{Status: "on_hold"}, func(i int) bool { return i%3 == 1 }},
		{"channel", host.OrderFilter{ChannelID: "acme"}, func(i int) bool { return i%2 == 1 }},
		{"status and channel", host.OrderFilter{Status: "open", ChannelID: "shop"}, func(i int) bool { return i%3 == 0 && i%2 == 0 }},
		{"tag", host.OrderFilter{Tag: "VIP"}, func(i int) bool { return i%4 == 0 }},
		{"hold reason", host.OrderFilter{HoldReason: sdk.HoldCustomRule}, func(i int) bool { return i%3 == 1 }},
		{"sku", host.OrderFilter{SKU: "V789"}, func(int) bool { return true }},
		{"external id", host.OrderFilter{ExternalID: "7"}, func(i int) bool { return i == 7 }},
		{"number", host.OrderFilter{Number: "#8"}, func(i int) bool { return i == 8 }},
		{"imported after", host.OrderFilter{ImportedAfter: t0.Add(9 * time.Minute)}, func(i int) bool { return i >= 9 }},
		{"imported before", host.OrderFilter{ImportedBefore: t0.Add(3 * time.Minute)}, func(i int) bool { return i < 3 }},
		{"tag the workflow added", host.OrderFilter{Tag: "Review Needed"}, func(i int) bool { return i%5 == 0 }},
		{"customer email", host.OrderFilter{CustomerEmail: "ADA@example.com"}, func(i int) bool { return i%5 == 0 }},
		{"status and sku", host.OrderFilter{Status: "on_hold", SKU: "V789"}, func(i int) bool { return i%3 == 1 }},
		{"status and an sku of no order", host.OrderFilter{Status: "open", SKU: "NO-SUCH-SKU"}, func(int) bool { return false }},
	} {
		for _, basic := range []bool{false, true} {
			f := tc.f
			f.Basic = basic
			if got, w := ids(f), want(tc.pred); !slices.Equal(got, w) {
				t.Errorf("%s (basic %v): listed %v, want %v (newest first, every page)", tc.name, basic, got, w)
			}
		}
	}
}

// wantBasic checks an order of a list of basic orders: its basic view
// is that of the stored order.
func wantBasic(t *testing.T, s host.Store, listed *host.Record) {
	t.Helper()
	stored, err := s.Order(ctx, listed.ID)
	must(t, err)
	got, err := json.Marshal(listed.Basic())
	must(t, err)
	want, err := json.Marshal(stored.Basic())
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Errorf("order %s listed as basic:\n%s\nwant the stored order's basic view:\n%s", listed.ID, got, want)
	}
}

func updateOrder(t *testing.T, s host.Store) {
	r := record("shop", "1", 0, sdk.StatusOnHold)
	create(t, s, r)
	updated, err := s.UpdateOrder(ctx, r.ID, func(cur *host.Record) error { return cur.Release("key:x", "ok", t0) })
	if err != nil || updated.Status != sdk.StatusOpen {
		t.Fatalf("UpdateOrder = %+v, %v", updated, err)
	}
	if page, _, _ := s.ListOrders(ctx, host.OrderFilter{Status: "on_hold"}); len(page) != 0 {
		t.Errorf("the status index still lists the released order: %d", len(page))
	}
	if page, _, _ := s.ListOrders(ctx, host.OrderFilter{Status: "open"}); len(page) != 1 {
		t.Errorf("the status index does not list the open order")
	}
	if page, _, _ := s.ListOrders(ctx, host.OrderFilter{Basic: true}); len(page) != 1 || page[0].Basic().Status != sdk.StatusOpen || len(page[0].Basic().Holds) != 0 {
		t.Errorf("the basic list after the release = %+v, want the order open without holds", page)
	} else {
		wantBasic(t, s, page[0])
	}
	_, err = s.UpdateOrder(ctx, r.ID, func(cur *host.Record) error { return host.Errorf(host.ECONFLICT, "no") })
	wantCode(t, "an update whose function fails", err, host.ECONFLICT)
	got, _ := s.Order(ctx, r.ID)
	if len(got.Events) != len(updated.Events) {
		t.Error("a failed update changed the order")
	}
	_, err = s.UpdateOrder(ctx, "01NOSUCHORDER0000000000000", func(*host.Record) error { return nil })
	wantCode(t, "UpdateOrder of an unknown id", err, host.ENOTFOUND)
}

func commitPage(t *testing.T, s host.Store) {
	must(t, s.CreateChannel(ctx, &host.Channel{ID: "shop", Kind: host.ChannelB2C, CreatedAt: t0}))
	run := &host.Run{ID: "01JDRUN0000000000000000001", ChannelID: "shop", Status: host.RunRunning, StartedAt: t0}
	must(t, s.PutRun(ctx, run))
	a, b := record("shop", "1", 0, sdk.StatusOpen), record("shop", "2", 1, sdk.StatusOnHold)
	counted := 0
	res, err := s.CommitPage(ctx, []host.NewOrder{{Record: a}, {Record: b}}, host.PageCommit{ChannelID: "shop", Cursor: "c1",
		Run: func(stored []host.CreateResult) *host.Run {
			counted++
			out := *run
			for _, r := range stored {
				if r.Created {
					out.Imported++
				}
			}
			return &out
		}})
	if err != nil || len(res) != 2 || !res[0].Created || !res[1].Created || counted == 0 {
		t.Fatalf("CommitPage = %+v, %v (run counted %d times)", res, err, counted)
	}
	if cur, _ := s.Cursor(ctx, "shop"); cur != "c1" {
		t.Errorf("cursor %q, want c1", cur)
	}
	runs, _ := s.Runs(ctx, "shop", 1)
	if len(runs) != 1 || runs[0].Imported != 2 {
		t.Errorf("the run committed with the page = %+v", runs)
	}
	// An empty page moves the cursor and the run too.
	_, err = s.CommitPage(ctx, nil, host.PageCommit{ChannelID: "shop", Cursor: "c2", Run: func([]host.CreateResult) *host.Run {
		out := *runs[0]
		out.Pages = 2
		return &out
	}})
	must(t, err)
	if cur, _ := s.Cursor(ctx, "shop"); cur != "c2" {
		t.Errorf("cursor after an empty page %q, want c2", cur)
	}

	// EndRun ends the run as stored: its counters are the committed ones,
	// whatever the ending host counted.
	ended, err := s.EndRun(ctx, "shop", run.ID, func(stored *host.Run) *host.Run {
		if stored.Imported != 2 || stored.Pages != 2 {
			t.Errorf("EndRun was given %+v, want the stored run (2 imported, 2 pages)", stored)
		}
		return stored.Interrupt("lost the lease", t0)
	})
	must(t, err)
	if ended.Status != host.RunInterrupted || ended.Imported != 2 {
		t.Errorf("EndRun = %+v, want interrupted with 2 imported", ended)
	}
	// The first end stands: a second one, and a page committed after the
	// end, leave the run as it is (and the page's orders are stored).
	again, err := s.EndRun(ctx, "shop", run.ID, func(stored *host.Run) *host.Run {
		t.Error("EndRun called end on an ended run")
		return stored.Finish(nil, t0)
	})
	must(t, err)
	if again.Status != host.RunInterrupted {
		t.Errorf("a second EndRun returned %+v, want the run as first ended", again)
	}
	late := record("shop", "3", 2, sdk.StatusOpen)
	_, err = s.CommitPage(ctx, []host.NewOrder{{Record: late}}, host.PageCommit{ChannelID: "shop", Cursor: "c3", Run: func([]host.CreateResult) *host.Run {
		out := *run
		out.Imported = 3
		return &out
	}})
	must(t, err)
	runs, _ = s.Runs(ctx, "shop", 1)
	if len(runs) != 1 || runs[0].Status != host.RunInterrupted || runs[0].Imported != 2 {
		t.Errorf("a page committed after its run ended changed the run: %+v", runs)
	}
	if _, err := s.Order(ctx, late.ID); err != nil {
		t.Errorf("the late page's order: %v", err)
	}
	_, err = s.EndRun(ctx, "shop", "01JDNOSUCHRUN0000000000000", func(r *host.Run) *host.Run { return r })
	wantCode(t, "EndRun of an unknown run", err, host.ENOTFOUND)
}

func lookAlikeRace(t *testing.T, s host.Store) {
	first := record("shop", "1", 0, sdk.StatusOpen)
	fp := host.Fingerprint(&first.Order)
	// The second order's facts were read before the first was stored.
	second := record("shop", "2", 1, sdk.StatusOpen)
	second.ShippingAddress = first.ShippingAddress
	facts, err := s.Facts(ctx, host.FactsQuery{ChannelID: "shop", Fingerprint: fp, PlacedAt: second.PlacedAt, Before: second.ID})
	must(t, err)
	create(t, s, first)
	check := &host.LookAlikeCheck{Fingerprint: fp, PlacedAt: second.PlacedAt, Window: 24 * time.Hour, Horizon: facts.DuplicateHorizon}
	res, err := s.CreateOrders(ctx, []host.NewOrder{{Record: second, LookAlikes: check}})
	must(t, err)
	if res[0].Err != host.ErrLookAlikeRaced {
		t.Fatalf("an order whose look-alike was stored after its facts were read: %+v, want ErrLookAlikeRaced", res[0])
	}
	// Read again, the facts see the first; the order is stored.
	facts, _ = s.Facts(ctx, host.FactsQuery{ChannelID: "shop", Fingerprint: fp, PlacedAt: second.PlacedAt, Before: second.ID})
	if facts.DuplicateCount != 1 || len(facts.Duplicates) != 1 || facts.Duplicates[0].ID != first.ID {
		t.Fatalf("facts = %+v", facts)
	}
	check.Horizon = facts.DuplicateHorizon
	res, _ = s.CreateOrders(ctx, []host.NewOrder{{Record: second, LookAlikes: check}})
	if !res[0].Created {
		t.Errorf("after deciding again: %+v", res[0])
	}
}

func channels(t *testing.T, s host.Store) {
	ch := &host.Channel{ID: "shop", Name: "Shop", Kind: host.ChannelB2C, Connector: "shopify", SecretFields: []string{"token"},
		Config: sdk.Config{"token": "shpat_secret", "shop": "x.myshopify.com"}, CreatedAt: t0}
	must(t, s.CreateChannel(ctx, ch))
	wantCode(t, "CreateChannel of an existing id", s.CreateChannel(ctx, &host.Channel{ID: "shop", Kind: host.ChannelB2B}), host.ECONFLICT)
	got, err := s.Channel(ctx, "shop")
	if err != nil || got.Config["token"] != "shpat_secret" || got.Name != "Shop" {
		t.Fatalf("Channel = %+v, %v (secrets are opened for the host)", got, err)
	}
	if ensured, _ := s.EnsureChannel(ctx, &host.Channel{ID: "shop", Name: "Other", Kind: host.ChannelB2B}); ensured.Name != "Shop" {
		t.Errorf("EnsureChannel of an existing id returned %+v, want the stored one", ensured)
	}
	updated, err := s.UpdateChannel(ctx, "shop", func(c *host.Channel) error { c.Name, c.ID = "Renamed", "sneaky"; return nil })
	if err != nil || updated.Name != "Renamed" || updated.ID != "shop" || updated.Config["token"] != "shpat_secret" {
		t.Errorf("UpdateChannel = %+v, %v (the id cannot change)", updated, err)
	}
	_, err = s.UpdateChannel(ctx, "nope", func(*host.Channel) error { return nil })
	wantCode(t, "UpdateChannel of an unknown id", err, host.ENOTFOUND)
	must(t, s.CreateKey(ctx, &host.APIKey{ID: "key_1", Role: host.RoleReseller, ChannelID: "shop", Hash: host.HashKey("s1"), CreatedAt: t0}))
	wantCode(t, "DeleteChannel with a key bound", s.DeleteChannel(ctx, "shop"), host.ECONFLICT)
	must(t, s.DeleteKey(ctx, "key_1"))
	must(t, s.DeleteChannel(ctx, "shop"))
	_, err = s.Channel(ctx, "shop")
	wantCode(t, "Channel after DeleteChannel", err, host.ENOTFOUND)
}

// concurrentUpdates: N writers each append their mark to the same record
// through its Update method at once; every mark must be there.
func concurrentUpdates(t *testing.T, s host.Store) {
	must(t, s.CreateChannel(ctx, &host.Channel{ID: "shop", Name: "", Kind: host.ChannelB2B, CreatedAt: t0}))
	must(t, s.CreateSource(ctx, &host.Source{ID: "austin", Name: "", Enabled: true}))
	must(t, s.CreateRoutingGroup(ctx, &host.RoutingGroup{ID: "main", Name: "", Channels: []string{}}))
	must(t, s.CreateDestination(ctx, &host.Destination{Name: "sales", Kind: host.DestinationLog}))
	r := record("shop", "1", 0, sdk.StatusOpen)
	create(t, s, r)
	const writers = 20
	for _, tc := range []struct {
		name   string
		update func(mark string) error
		read   func() string
	}{
		{"order", func(m string) error {
			_, err := s.UpdateOrder(ctx, r.ID, func(o *host.Record) error { o.Note += m; return nil })
			return err
		}, func() string { o, _ := s.Order(ctx, r.ID); return o.Note }},
		{"channel", func(m string) error {
			_, err := s.UpdateChannel(ctx, "shop", func(c *host.Channel) error { c.Name += m; return nil })
			return err
		}, func() string { c, _ := s.Channel(ctx, "shop"); return c.Name }},
		{"source", func(m string) error {
			_, err := s.UpdateSource(ctx, "austin", func(x *host.Source) error { x.Name += m; return nil })
			return err
		}, func() string { x, _ := s.Source(ctx, "austin"); return x.Name }},
		{"routing group", func(m string) error {
			_, err := s.UpdateRoutingGroup(ctx, "main", func(g *host.RoutingGroup) error { g.Name += m; return nil })
			return err
		}, func() string { g, _ := s.RoutingGroup(ctx, "main"); return g.Name }},
		{"destination", func(m string) error {
			_, err := s.UpdateDestination(ctx, "sales", func(d *host.Destination) error { d.URL += m; return nil })
			return err
		}, func() string { d, _ := s.Destination(ctx, "sales"); return d.URL }},
		{"settings", func(m string) error {
			_, err := s.UpdateSettings(ctx, func(st *host.Settings) error { st.OpsAlerts.To += m; return nil })
			return err
		}, func() string { st, _ := s.Settings(ctx); return st.OpsAlerts.To }},
	} {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				if err := tc.update(fmt.Sprintf("<%d>", w)); err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
			})
		}
		wg.Wait()
		got := tc.read()
		for w := range writers {
			if !strings.Contains(got, fmt.Sprintf("<%d>", w)) {
				t.Errorf("%s: writer %d's update is lost: %q", tc.name, w, got)
			}
		}
	}
}

// domainErrorFailsOne: among concurrent writes (which a store may commit
// together), those failing with a domain error fail alone.
func domainErrorFailsOne(t *testing.T, s host.Store) {
	must(t, s.CreateSource(ctx, &host.Source{ID: "austin", Name: "Austin", Enabled: true}))
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Go(func() {
			if i%2 == 0 {
				errs[i] = s.CreateSource(ctx, &host.Source{ID: fmt.Sprint("s", i), Name: "S", Enabled: true})
			} else {
				errs[i] = s.CreateSource(ctx, &host.Source{ID: "austin", Name: "Again"}) // exists: ECONFLICT
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i%2 == 0 && err != nil:
			t.Errorf("write %d: %v", i, err)
		case i%2 == 1:
			wantCode(t, fmt.Sprintf("write %d", i), err, host.ECONFLICT)
		}
	}
	list, _ := s.Sources(ctx)
	if len(list) != 21 {
		t.Errorf("%d sources, want 21: a domain error must not roll back another write", len(list))
	}
	if src, _ := s.Source(ctx, "austin"); src.Name != "Austin" {
		t.Errorf("the refused writes changed the source: %+v", src)
	}
}

func runsAndCursors(t *testing.T, s host.Store) {
	if cur, err := s.Cursor(ctx, "shop"); err != nil || cur != "" {
		t.Errorf("cursor before any import = %q, %v", cur, err)
	}
	must(t, s.SaveCursor(ctx, "shop", "c7"))
	if cur, _ := s.Cursor(ctx, "shop"); cur != "c7" {
		t.Errorf("cursor = %q", cur)
	}
	for i := range host.MaxRunsKept + 5 {
		must(t, s.PutRun(ctx, &host.Run{ID: ulid.MustNew(ulid.Timestamp(t0.Add(time.Duration(i)*time.Second)), ulid.DefaultEntropy()).String(),
			ChannelID: "shop", Status: host.RunSucceeded, Imported: i}))
	}
	runs, err := s.Runs(ctx, "shop", 1000)
	must(t, err)
	if len(runs) != host.MaxRunsKept || runs[0].Imported != host.MaxRunsKept+4 {
		t.Fatalf("%d runs kept, newest imported %d; want %d, newest first", len(runs), runs[0].Imported, host.MaxRunsKept)
	}
	runs[0].Status = host.RunFailed
	must(t, s.PutRun(ctx, runs[0]))
	if again, _ := s.Runs(ctx, "shop", 1); again[0].Status != host.RunFailed {
		t.Error("PutRun of an existing run did not update it")
	}
}

func keys(t *testing.T, s host.Store) {
	k := &host.APIKey{ID: "key_1", Role: host.RoleAdmin, Hash: host.HashKey("secret"), CreatedAt: t0}
	must(t, s.CreateKey(ctx, k))
	got, err := s.KeyByHash(ctx, host.HashKey("secret"))
	if err != nil || got.ID != "key_1" || got.Role != host.RoleAdmin {
		t.Fatalf("KeyByHash = %+v, %v", got, err)
	}
	_, err = s.KeyByHash(ctx, host.HashKey("wrong"))
	wantCode(t, "KeyByHash of an unknown key", err, host.EUNAUTHORIZED)
	list, _ := s.Keys(ctx)
	if len(list) != 1 || list[0].Hash != "" && list[0].Hash != k.Hash {
		t.Errorf("Keys = %+v", list)
	}
	must(t, s.DeleteKey(ctx, "key_1"))
	_, err = s.KeyByHash(ctx, host.HashKey("secret"))
	wantCode(t, "a revoked key", err, host.EUNAUTHORIZED)
	wantCode(t, "DeleteKey of an unknown id", s.DeleteKey(ctx, "key_1"), host.ENOTFOUND)
}

func catalog(t *testing.T, s host.Store) {
	items := []*host.CatalogItem{{SKU: "B2", Managed: true, UpdatedAt: t0}, {SKU: "A1", Title: "Kettle", Managed: true, UpdatedAt: t0}, {SKU: "C3", UpdatedAt: t0}}
	must(t, s.PutCatalogItems(ctx, items))
	page, next, err := s.CatalogItems(ctx, "", 2)
	if err != nil || len(page) != 2 || page[0].SKU != "A1" || page[1].SKU != "B2" || next == "" {
		t.Fatalf("first page = %+v, %q, %v (by SKU)", page, next, err)
	}
	page, next, _ = s.CatalogItems(ctx, next, 2)
	if len(page) != 1 || page[0].SKU != "C3" || next != "" {
		t.Errorf("second page = %+v, %q", page, next)
	}
	must(t, s.PutCatalogItems(ctx, []*host.CatalogItem{{SKU: "A1", Title: "Kettle II", UpdatedAt: t0}}))
	if it, _ := s.CatalogItem(ctx, "A1"); it.Title != "Kettle II" || it.Managed {
		t.Errorf("a replaced item = %+v", it)
	}
	must(t, s.DeleteCatalogItem(ctx, "A1"))
	wantCode(t, "DeleteCatalogItem twice", s.DeleteCatalogItem(ctx, "A1"), host.ENOTFOUND)

	must(t, s.CreateChannel(ctx, &host.Channel{ID: "acme", Kind: host.ChannelB2B, CreatedAt: t0}))
	must(t, s.CreateSource(ctx, &host.Source{ID: "austin", Name: "Austin", Enabled: true}))
	wantCode(t, "CreateSource of an existing id", s.CreateSource(ctx, &host.Source{ID: "austin", Name: "x"}), host.ECONFLICT)
	g := &host.RoutingGroup{ID: "main", Name: "Main", Default: true, Sources: []host.GroupSource{{SourceID: "austin", Enabled: true}}, Channels: []string{"acme"}}
	must(t, s.CreateRoutingGroup(ctx, g))
	wantCode(t, "a second default group", s.CreateRoutingGroup(ctx, &host.RoutingGroup{ID: "b", Name: "B", Default: true}), host.EINVALID)
	wantCode(t, "a group with an unknown source", s.CreateRoutingGroup(ctx, &host.RoutingGroup{ID: "c", Name: "C", Sources: []host.GroupSource{{SourceID: "nope"}}}), host.EINVALID)
	wantCode(t, "a channel in two groups", s.CreateRoutingGroup(ctx, &host.RoutingGroup{ID: "d", Name: "D", Channels: []string{"acme"}}), host.EINVALID)
	wantCode(t, "DeleteSource a group lists", s.DeleteSource(ctx, "austin"), host.ECONFLICT)
	if _, err := s.UpdateRoutingGroup(ctx, "main", func(g *host.RoutingGroup) error { g.Sources = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	must(t, s.DeleteSource(ctx, "austin"))

	must(t, s.PutShippingMappings(ctx, &host.ShippingMappings{ChannelID: "acme", Methods: map[string]string{"Standard": "ground"}, UpdatedAt: t0}))
	if m, _ := s.ShippingMappings(ctx, "acme"); m.Methods["Standard"] != "ground" {
		t.Errorf("shipping mappings = %+v", m)
	}
	wantCode(t, "shipping mappings of an unknown channel", s.PutShippingMappings(ctx, &host.ShippingMappings{ChannelID: "nope"}), host.ENOTFOUND)

	st, err := s.Settings(ctx)
	if err != nil || st.DuplicateProtection != host.DefaultSettings().DuplicateProtection {
		t.Errorf("a new store's settings = %+v, %v; want the defaults", st, err)
	}
	st, err = s.UpdateSettings(ctx, func(st *host.Settings) error { st.DuplicateProtection.Window = "2h"; return nil })
	if err != nil || st.DuplicateProtection.Window != "2h" {
		t.Errorf("UpdateSettings = %+v, %v", st, err)
	}
	_, err = s.UpdateSettings(ctx, func(*host.Settings) error { return host.Errorf(host.EINVALID, "no") })
	wantCode(t, "an UpdateSettings whose function fails", err, host.EINVALID)
	if st, _ := s.Settings(ctx); st.DuplicateProtection.Window != "2h" {
		t.Error("a failed UpdateSettings changed the settings")
	}
}

func inventoryAndFacts(t *testing.T, s host.Store) {
	must(t, s.CreateChannel(ctx, &host.Channel{ID: "acme", Kind: host.ChannelB2B, CreatedAt: t0}))
	for _, id := range []string{"austin", "dallas"} {
		must(t, s.CreateSource(ctx, &host.Source{ID: id, Name: id, Enabled: true}))
	}
	res, err := s.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "V789", Available: 2}, {SourceID: "dallas", SKU: "V789", Available: 7},
		{SourceID: "austin", SKU: "X1", Available: 1}}, host.InventoryMerge, t0)
	if err != nil || res.Changed != 3 || !slices.Equal(res.SKUs, []string{"V789", "X1"}) {
		t.Fatalf("SetInventory = %+v, %v", res, err)
	}
	_, err = s.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "V789", Available: 9}, {SourceID: "nowhere", SKU: "V789", Available: 1}}, host.InventoryMerge, t0)
	wantCode(t, "an upload naming an unknown source", err, host.EINVALID)
	res, _ = s.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "V789", Available: 3}}, host.InventoryReplace, t0)
	if res.Changed != 2 {
		t.Errorf("replace changed %d levels, want 2 (V789 set, X1 zeroed)", res.Changed)
	}
	levels, _, _ := s.Inventory(ctx, "austin", "", "", 10)
	if len(levels) != 2 || levels[0].SKU != "V789" || levels[0].Available != 3 || levels[1].Available != 0 {
		t.Errorf("austin's levels = %+v (the failed upload changed nothing, replace zeroed X1)", levels)
	}
	must(t, s.PutCatalogItems(ctx, []*host.CatalogItem{{SKU: "V789", Managed: true, UpdatedAt: t0}}))
	must(t, s.CreateRoutingGroup(ctx, &host.RoutingGroup{ID: "main", Name: "Main", Default: true,
		Sources: []host.GroupSource{{SourceID: "austin", Enabled: true}, {SourceID: "dallas", Enabled: false}}}))
	must(t, s.PutShippingMappings(ctx, &host.ShippingMappings{ChannelID: "acme", Methods: map[string]string{"Standard": "ground"}, UpdatedAt: t0}))
	f, err := s.Facts(ctx, host.FactsQuery{ChannelID: "acme", SKUs: []string{"V789", "NEW"}})
	must(t, err)
	if !f.CatalogInUse || f.Catalog["V789"] == nil || f.Catalog["NEW"] != nil || f.Group == nil || f.Group.ID != "main" ||
		f.Stock["V789"]["austin"] != 3 || f.Stock["V789"]["dallas"] != 7 || len(f.Sources) != 2 || f.Shipping == nil || f.Shipping.Methods["Standard"] != "ground" {
		t.Errorf("facts = %+v", f)
	}
}

func outbox(t *testing.T, s host.Store) {
	mk := func(id, to string, created int) *host.Delivery {
		at := t0.Add(time.Duration(created) * time.Minute)
		return &host.Delivery{ID: id, Alert: sdk.Alert{To: to, Message: "m"}, Status: host.DeliveryPending, NextAttemptAt: at, CreatedAt: at, QueuedAt: at}
	}
	must(t, s.Enqueue(ctx, mk("a1", "sales", 0), mk("a2", "ops", 1), mk("a3", "sales", 2)))
	dup := mk("a1", "other", 5)
	must(t, s.Enqueue(ctx, dup))
	if d, _ := s.Delivery(ctx, "a1"); d.Alert.To != "sales" {
		t.Error("Enqueue replaced an existing delivery")
	}
	due, err := s.DueDeliveries(ctx, t0.Add(90*time.Second), 10)
	if err != nil || len(due) != 2 || due[0].ID != "a1" || due[1].ID != "a2" {
		t.Fatalf("due = %+v, %v (oldest first, not the one not due)", due, err)
	}
	if again, _ := s.DueDeliveries(ctx, t0.Add(90*time.Second), 10); len(again) != 0 {
		t.Errorf("due again while claimed: %+v", again)
	}
	a2 := due[1]
	a2.Status, a2.Attempts = host.DeliveryFailed, 20
	must(t, s.PutDelivery(ctx, a2))
	a1 := due[0]
	a1.Attempts, a1.NextAttemptAt = 1, t0.Add(30*time.Minute)
	must(t, s.PutDelivery(ctx, a1)) // a retry later: its claim ends
	if due, _ := s.DueDeliveries(ctx, t0.Add(time.Hour), 10); len(due) != 2 || due[0].ID != "a3" || due[1].ID != "a1" {
		t.Errorf("due after one failed and one was put back = %+v, want a3 and a1, by when they are due", due)
	}
	list, next, err := s.ListDeliveries(ctx, host.DeliveryFilter{Limit: 2})
	if err != nil || len(list) != 2 || list[0].ID != "a3" || next == "" {
		t.Fatalf("first page = %+v, %q, %v (newest first)", list, next, err)
	}
	list, next, _ = s.ListDeliveries(ctx, host.DeliveryFilter{Limit: 2, After: next})
	if len(list) != 1 || list[0].ID != "a1" || next != "" {
		t.Errorf("second page = %+v, %q", list, next)
	}
	for _, tc := range []struct {
		f    host.DeliveryFilter
		want []string
	}{
		{host.DeliveryFilter{Status: host.DeliveryFailed}, []string{"a2"}},
		{host.DeliveryFilter{Destination: "sales"}, []string{"a3", "a1"}},
		{host.DeliveryFilter{Destination: "sales", Status: host.DeliveryPending, Since: t0.Add(time.Minute)}, []string{"a3"}},
	} {
		list, _, _ := s.ListDeliveries(ctx, tc.f)
		var got []string
		for _, d := range list {
			got = append(got, d.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ListDeliveries(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	a2.Status, a2.Attempts = host.DeliveryPending, 0
	a3, _ := s.Delivery(ctx, "a3")
	a3.Status = host.DeliveryDelivered
	must(t, s.PutDeliveries(ctx, []*host.Delivery{a2, a3}))
	if d, _ := s.Delivery(ctx, "a3"); d.Status != host.DeliveryDelivered {
		t.Error("PutDeliveries did not store")
	}
	_, err = s.Delivery(ctx, "nope")
	wantCode(t, "Delivery of an unknown id", err, host.ENOTFOUND)

	must(t, s.CreateDestination(ctx, &host.Destination{Name: "hook", Kind: host.DestinationWebhook, URL: "https://example.com", Secret: "whsec_x"}))
	wantCode(t, "CreateDestination of an existing name", s.CreateDestination(ctx, &host.Destination{Name: "hook", Kind: host.DestinationLog}), host.ECONFLICT)
	if d, _ := s.Destination(ctx, "hook"); d.Secret != "whsec_x" {
		t.Errorf("a destination's secret reads as %q (opened for the host)", d.Secret)
	}
	must(t, s.DeleteDestination(ctx, "hook"))
	wantCode(t, "DeleteDestination twice", s.DeleteDestination(ctx, "hook"), host.ENOTFOUND)
}

func counts(t *testing.T, s host.Store) {
	open, held := record("shop", "1", 0, sdk.StatusOpen), record("shop", "2", 1, sdk.StatusOnHold)
	create(t, s, open, held)
	must(t, s.Enqueue(ctx, &host.Delivery{ID: "a1", Alert: sdk.Alert{To: "sales"}, Status: host.DeliveryPending, CreatedAt: t0, NextAttemptAt: t0}))
	c, err := s.Counts(ctx)
	if err != nil || c.Orders[sdk.StatusOpen] != 1 || c.Orders[sdk.StatusOnHold] != 1 || c.Held[sdk.HoldCustomRule] != 1 || c.Outbox["sales"][host.OutboxPending] != 1 {
		t.Fatalf("counts = %+v, %v", c, err)
	}
	if _, err := s.UpdateOrder(ctx, held.ID, func(r *host.Record) error { return r.Release("key:x", "", t0) }); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Counts(ctx)
	if c.Orders[sdk.StatusOpen] != 2 || c.Orders[sdk.StatusOnHold] != 0 || c.Held[sdk.HoldCustomRule] != 0 {
		t.Errorf("counts after a release = %+v", c)
	}
}

// timed holds the order with a release hold due at due.
func timed(r *host.Record, due time.Time) *host.Record {
	r.Status = sdk.StatusOnHold
	r.Holds = []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "fraud_review", Until: &due, Then: sdk.HoldThenRelease}}
	return r
}

// dueHolds: the store indexes when each order's next timed hold is due,
// for the timer (ClaimDueOrders: earliest first, each claimed once) and
// the due_before filter; a write that lifts the hold takes the order out.
func dueHolds(t *testing.T, s host.Store) {
	must(t, s.CreateChannel(ctx, &host.Channel{ID: "shop", Kind: host.ChannelB2C, CreatedAt: t0}))
	late := timed(record("shop", "late", 0, sdk.StatusOnHold), t0.Add(3*time.Hour))
	early := timed(record("shop", "early", 1, sdk.StatusOnHold), t0.Add(time.Hour))
	later := timed(record("shop", "later", 2, sdk.StatusOnHold), t0.Add(48*time.Hour))
	plain := record("shop", "plain", 3, sdk.StatusOnHold)
	plain.Holds = []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r"}}
	if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: late}, {Record: early}, {Record: later}, {Record: plain}}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.ClaimDueOrders(ctx, t0.Add(30*time.Minute), 10)
	if err != nil || len(ids) != 0 {
		t.Fatalf("due before any hold is = %v, %v", ids, err)
	}
	ids, err = s.ClaimDueOrders(ctx, t0.Add(4*time.Hour), 10)
	if err != nil || !slices.Equal(ids, []string{early.ID, late.ID}) {
		t.Fatalf("due at 4h = %v, %v; want early then late", ids, err)
	}
	if again, _ := s.ClaimDueOrders(ctx, t0.Add(4*time.Hour), 10); len(again) != 0 {
		t.Errorf("claimed orders were handed out again: %v", again)
	}

	page, _, err := s.ListOrders(ctx, host.OrderFilter{DueBefore: t0.Add(4 * time.Hour)})
	must(t, err)
	if got := idsOf(page); !slices.Equal(got, []string{early.ID, late.ID}) {
		t.Errorf("due_before 4h lists %v, want %v (newest first)", got, []string{early.ID, late.ID})
	}
	page, next, err := s.ListOrders(ctx, host.OrderFilter{DueBefore: t0.Add(72 * time.Hour), Status: "on_hold", Limit: 2})
	must(t, err)
	if got := idsOf(page); !slices.Equal(got, []string{later.ID, early.ID}) || next == "" {
		t.Errorf("due_before 72h, first page of 2 = %v (next %q), want later, early", got, next)
	}
	page, next, _ = s.ListOrders(ctx, host.OrderFilter{DueBefore: t0.Add(72 * time.Hour), Status: "on_hold", Limit: 2, After: next})
	if got := idsOf(page); !slices.Equal(got, []string{late.ID}) || next != "" {
		t.Errorf("second page = %v (next %q), want late", got, next)
	}

	// Lifting the hold takes the order out of the schedule.
	_, err = s.UpdateOrder(ctx, early.ID, func(r *host.Record) error {
		r.LiftDue(host.ActorTimer, t0.Add(time.Hour))
		return nil
	})
	must(t, err)
	page, _, _ = s.ListOrders(ctx, host.OrderFilter{DueBefore: t0.Add(4 * time.Hour)})
	if got := idsOf(page); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("due_before 4h after lifting early lists %v", got)
	}
	if ids, _ := s.ClaimDueOrders(ctx, t0.Add(100*time.Hour), 10); !slices.Equal(ids, []string{later.ID}) {
		t.Errorf("due at 100h = %v, want only later (late is claimed, early lifted)", ids)
	}
}

func idsOf(rs []*host.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
