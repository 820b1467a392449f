package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// entry appends a timeline entry at t0 + minute minutes and sets the
// record's updated_at, as the services do.
func entry(r *host.Record, minute int, typ string) {
	at := t0.Add(time.Duration(minute) * time.Minute)
	r.Events = append(r.Events, sdk.Event{At: at, Type: typ, Actor: "test"})
	r.UpdatedAt = &at
}

// feedTypes reads the whole feed f selects, a page of limit at a time,
// and returns the events' types and order ids.
func feedTypes(t *testing.T, s host.Store, f host.EventFilter) (types []string, cursors []string) {
	t.Helper()
	for pages := 0; ; pages++ {
		page, next, err := s.Events(ctx, f)
		if err != nil {
			t.Fatalf("Events(%+v): %v", f, err)
		}
		for _, ev := range page {
			types = append(types, ev.Type)
			cursors = append(cursors, ev.Cursor)
		}
		if next == "" {
			return types, cursors
		}
		if pages > 100 {
			t.Fatal("the feed does not end")
		}
		f.After = next
	}
}

// events checks the change feed: each change's events are written with
// it, in commit order, and read after a cursor, by type and channel.
func events(t *testing.T, s host.Store) {
	if evs, next, err := s.Events(ctx, host.EventFilter{}); err != nil || len(evs) != 0 || next != "" {
		t.Fatalf("empty feed = %v, %q, %v", evs, next, err)
	}
	held := record("web", "1", 0, sdk.StatusOnHold)
	entry(held, 0, sdk.EventImported)
	open := record("b2b", "2", 1, sdk.StatusOpen)
	entry(open, 1, sdk.EventImported)
	if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: held}, {Record: open}}); err != nil {
		t.Fatal(err)
	}
	// Stored again: not created, no events.
	if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: held}}); err != nil {
		t.Fatal(err)
	}
	release := func(r *host.Record) error {
		r.Status, r.Holds = sdk.StatusOpen, nil
		entry(r, 5, sdk.EventReleased)
		return nil
	}
	if _, err := s.UpdateOrder(ctx, held.ID, release); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if _, err := s.UpdateOrder(ctx, open.ID, func(r *host.Record) error { entry(r, 6, sdk.EventEdited); return refused }); !errors.Is(err, refused) {
		t.Fatalf("refused update: %v", err)
	}
	if _, err := s.UpdateOrder(ctx, open.ID, func(r *host.Record) error { entry(r, 7, sdk.EventEdited); return nil }); err != nil {
		t.Fatal(err)
	}
	all := []string{host.EventOrderImported, host.EventOrderHeld, host.EventOrderImported, host.EventOrderReleased, host.EventOrderEdited}
	got, cursors := feedTypes(t, s, host.EventFilter{Limit: 100})
	if !slices.Equal(got, all) {
		t.Fatalf("feed = %v, want %v (commit order; nothing of the refused update)", got, all)
	}
	for _, limit := range []int{1, 2, 3} {
		if paged, _ := feedTypes(t, s, host.EventFilter{Limit: limit}); !slices.Equal(paged, all) {
			t.Errorf("feed read %d at a time = %v", limit, paged)
		}
	}
	rest, _ := feedTypes(t, s, host.EventFilter{After: cursors[2], Limit: 100})
	if !slices.Equal(rest, all[3:]) {
		t.Errorf("after the third event's cursor = %v, want %v", rest, all[3:])
	}
	first, _, _ := s.Events(ctx, host.EventFilter{Limit: 1})
	ev := first[0]
	if ev.OrderID != held.ID || ev.ChannelID != "web" || ev.Order == nil || ev.Order.Number != "#1" || ev.Order.Events != nil || ev.Entry == nil || ev.Entry.Type != sdk.EventImported || !ev.At.Equal(t0) || ev.ID == "" {
		t.Errorf("first event = %+v, want order #1's import with the order (no timeline) and its entry", ev)
	}
	for _, tc := range []struct {
		f    host.EventFilter
		want []string
	}{
		{host.EventFilter{Types: []string{host.EventOrderReleased}}, []string{host.EventOrderReleased}},
		{host.EventFilter{Types: []string{host.EventOrderHeld, host.EventOrderEdited}}, []string{host.EventOrderHeld, host.EventOrderEdited}},
		{host.EventFilter{Types: []string{"order.*"}}, all},
		{host.EventFilter{Types: []string{"ops.*"}}, nil},
		{host.EventFilter{ChannelID: "b2b"}, []string{host.EventOrderImported, host.EventOrderEdited}},
		{host.EventFilter{ChannelID: "b2b", Types: []string{host.EventOrderHeld}}, nil},
	} {
		tc.f.Limit = 2
		if got, _ := feedTypes(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("feed of %+v = %v, want %v", tc.f, got, tc.want)
		}
	}
	if _, _, err := s.Events(ctx, host.EventFilter{After: "not a cursor"}); host.ErrorCode(err) != host.EINVALID {
		t.Errorf("a malformed cursor: %v, want EINVALID", err)
	}

	// Operational events: appended once per id, with their deliveries.
	ops := host.OpsEvent(host.ChannelSilent{ChannelID: "web", LastSuccess: t0, Window: time.Hour}, t0.Add(8*time.Minute))
	dl := &host.Delivery{ID: "ops1", Alert: sdk.Alert{To: "pager", Message: "m"}, Status: host.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0, QueuedAt: t0}
	for i, want := range []bool{true, false} {
		if appended, err := s.AppendEvent(ctx, ops, dl); err != nil || appended != want {
			t.Fatalf("AppendEvent #%d = %v, %v; want %v", i+1, appended, err, want)
		}
	}
	if _, err := s.Delivery(ctx, "ops1"); err != nil {
		t.Errorf("the operational event's delivery: %v", err)
	}
	if got, _ := feedTypes(t, s, host.EventFilter{Types: []string{"ops.*"}}); !slices.Equal(got, []string{"ops.channel_silent"}) {
		t.Errorf("operational events = %v", got)
	}
	if got, _ := feedTypes(t, s, host.EventFilter{ChannelID: "web"}); slices.Contains(got, "ops.channel_silent") {
		t.Errorf("a channel's feed has operational events: %v", got)
	}
}

// fanOut checks that each event reaches each destination subscribed to
// its type once, however many callers fan out at once.
func fanOut(t *testing.T, s host.Store) {
	must(t, s.CreateDestination(ctx, &host.Destination{Name: "erp", Kind: host.DestinationWebhook, URL: "http://erp.example/hook", Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
		Events: []string{host.EventOrderReleased, host.EventOrderCanceled}}))
	must(t, s.CreateDestination(ctx, &host.Destination{Name: "audit", Kind: host.DestinationLog, Events: []string{"order.*"}}))
	must(t, s.CreateDestination(ctx, &host.Destination{Name: "rules", Kind: host.DestinationLog}))
	if queued, more, err := s.FanOutEvents(ctx, t0, 100); err != nil || queued != 0 || more {
		t.Fatalf("fan-out of an empty feed = %d, %v, %v", queued, more, err)
	}
	var ids []string
	for i := range 30 {
		r := record("web", string(rune('a'+i%26))+string(rune('a'+i/26)), i, sdk.StatusOnHold)
		entry(r, i, sdk.EventImported)
		if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, id := range ids[:10] {
		if _, err := s.UpdateOrder(ctx, id, func(r *host.Record) error {
			r.Status, r.Holds = sdk.StatusOpen, nil
			entry(r, 40, sdk.EventReleased)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// 70 events (30 imported, 30 held, 10 released): audit gets each,
	// erp the 10 releases, rules (no subscription) none.
	var mu sync.Mutex
	queued := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, more, err := s.FanOutEvents(ctx, t0.Add(time.Hour), 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				queued += n
				mu.Unlock()
				if !more {
					return
				}
			}
		}()
	}
	wg.Wait()
	if queued != 80 {
		t.Errorf("fanned out %d deliveries, want 80: 70 to audit and 10 to erp, each once", queued)
	}
	due, err := s.DueDeliveries(ctx, t0.Add(2*time.Hour), 200)
	if err != nil {
		t.Fatal(err)
	}
	byDest := map[string]int{}
	for _, d := range due {
		byDest[d.Alert.To]++
		if d.Event == nil || d.Event.Order == nil || d.Alert.Rule != d.Event.Type {
			t.Fatalf("delivery %+v carries no event", d)
		}
		if d.Alert.To == "erp" && d.Event.Type != host.EventOrderReleased {
			t.Errorf("erp got a %s", d.Event.Type)
		}
	}
	if byDest["audit"] != 70 || byDest["erp"] != 10 || byDest["rules"] != 0 {
		t.Errorf("deliveries by destination = %v", byDest)
	}
	if n, more, err := s.FanOutEvents(ctx, t0, 100); n != 0 || more || err != nil {
		t.Errorf("fanned out again: %d, %v, %v", n, more, err)
	}
}

// updatedAfter checks the updated_after filter: orders by when they last
// changed, however they are found.
func updatedAfter(t *testing.T, s host.Store) {
	var ids []string
	for i := range 3 {
		r := record("web", fmt.Sprint("u", i), i*10, sdk.StatusOnHold)
		entry(r, i*10, sdk.EventImported)
		if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	// The first order changes last.
	if _, err := s.UpdateOrder(ctx, ids[0], func(r *host.Record) error {
		r.Status, r.Holds = sdk.StatusOpen, nil
		entry(r, 30, sdk.EventReleased)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, tc := range []struct {
		f    host.OrderFilter
		want []string
	}{
		{host.OrderFilter{UpdatedAfter: at(15)}, []string{ids[2], ids[0]}},
		{host.OrderFilter{UpdatedAfter: at(20)}, []string{ids[2], ids[0]}}, // inclusive
		{host.OrderFilter{UpdatedAfter: at(21)}, []string{ids[0]}},
		{host.OrderFilter{UpdatedAfter: at(31)}, nil},
		{host.OrderFilter{UpdatedAfter: at(0), Status: "on_hold"}, []string{ids[2], ids[1]}},
		{host.OrderFilter{UpdatedAfter: at(0), ChannelID: "web", Limit: 1}, []string{ids[2], ids[1], ids[0]}},
	} {
		if got := listAll(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v (newest first)", tc.f, got, tc.want)
		}
	}
}

// customers checks the customer index: the facts count a customer's
// earlier orders (by email, without case), and the list filters find
// them by email or name.
func customers(t *testing.T, s host.Store) {
	var ids []string
	for i, c := range []sdk.Customer{{Name: "Ada  Lovelace", Email: "Ada@Example.com"}, {Name: "ada lovelace", Email: "ada@example.com "}, {Name: "Grace Hopper", Email: "grace@example.com"}} {
		r := record("web", fmt.Sprint("c", i), i, sdk.StatusOpen)
		r.Customer = c
		if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, tc := range []struct {
		email, before string
		want          int
	}{
		{"ada@example.com", ids[1], 1}, // the first only: before the second
		{"ada@example.com", "", 2},
		{"ada@example.com", ids[0], 0}, // a first-time customer
		{"grace@example.com", "", 1},
		{"nobody@example.com", "", 0},
	} {
		f, err := s.Facts(ctx, host.FactsQuery{ChannelID: "web", CustomerEmail: tc.email, Before: tc.before})
		if err != nil || f.CustomerOrders != tc.want || f.CustomerOrdersCapped {
			t.Errorf("orders of %s before %q = %d (capped %v, %v), want %d", tc.email, tc.before, f.CustomerOrders, f.CustomerOrdersCapped, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f    host.OrderFilter
		want []string
	}{
		{host.OrderFilter{CustomerEmail: "ADA@example.com"}, []string{ids[1], ids[0]}},
		{host.OrderFilter{CustomerName: "Ada Lovelace"}, []string{ids[1], ids[0]}},
		{host.OrderFilter{CustomerName: "grace hopper", Status: "open"}, []string{ids[2]}},
		{host.OrderFilter{CustomerEmail: "ada@example.com", CustomerName: "Grace Hopper"}, nil},
	} {
		page, _, err := s.ListOrders(ctx, tc.f)
		var got []string
		for _, r := range page {
			got = append(got, r.ID)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v (%v), want %v", tc.f, got, err, tc.want)
		}
	}
}

// sortedQueue checks sort= and the held_at range: the queue oldest (or
// newest) first by placed_at or held_at, page by page, with the other
// filters.
func sortedQueue(t *testing.T, s host.Store) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	// Imported in this order; placed and held in another.
	spec := []struct {
		placed, held int
		status       sdk.Status
	}{{30, 40, sdk.StatusOnHold}, {10, 50, sdk.StatusOnHold}, {20, 0, sdk.StatusOpen}, {5, 45, sdk.StatusOnHold}}
	var ids []string
	for i, sp := range spec {
		r := record("web", fmt.Sprint("s", i), i, sp.status)
		r.PlacedAt = at(sp.placed)
		if sp.status == sdk.StatusOnHold {
			h := at(sp.held)
			r.Holds[0].HeldAt = &h
		}
		if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, tc := range []struct {
		f    host.OrderFilter
		want []string
	}{
		{host.OrderFilter{Sort: host.SortPlacedAt}, []string{ids[3], ids[1], ids[2], ids[0]}},
		{host.OrderFilter{Sort: host.SortPlacedAtDesc}, []string{ids[0], ids[2], ids[1], ids[3]}},
		{host.OrderFilter{Sort: host.SortHeldAt}, []string{ids[0], ids[3], ids[1]}},
		{host.OrderFilter{Sort: host.SortHeldAtDesc}, []string{ids[1], ids[3], ids[0]}},
		{host.OrderFilter{Sort: host.SortHeldAt, HeldBefore: at(50)}, []string{ids[0], ids[3]}},
		{host.OrderFilter{Sort: host.SortHeldAtDesc, HeldAfter: at(45)}, []string{ids[1], ids[3]}},
		{host.OrderFilter{Sort: host.SortPlacedAt, Status: "on_hold"}, []string{ids[3], ids[1], ids[0]}},
		{host.OrderFilter{HeldBefore: at(46)}, []string{ids[3], ids[0]}}, // unsorted: newest import first
		{host.OrderFilter{HeldAfter: at(41), Status: "on_hold"}, []string{ids[3], ids[1]}},
	} {
		for _, limit := range []int{1, 2, 10} {
			f := tc.f
			f.Limit = limit
			if got := listAll(t, s, f); !slices.Equal(got, tc.want) {
				t.Errorf("%+v, %d a page: %v, want %v", tc.f, limit, got, tc.want)
			}
		}
	}
	if _, _, err := s.ListOrders(ctx, host.OrderFilter{Sort: host.SortHeldAt, After: "not a cursor"}); host.ErrorCode(err) != host.EINVALID {
		t.Errorf("a sorted list with a bad cursor: %v, want EINVALID", err)
	}
}

// listAll lists the ids of every order f selects, page after page.
func listAll(t *testing.T, s host.Store, f host.OrderFilter) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		page, next, err := s.ListOrders(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if next == "" {
			return got
		}
		if pages > 100 {
			t.Fatalf("%+v: the list does not end", f)
		}
		f.After = next
	}
}

// pruneEvents checks retention: the oldest events that were fanned out
// go, a cursor before them is EGONE, and reading from the beginning or
// after a kept event goes on.
func pruneEvents(t *testing.T, s host.Store) {
	var ids []string
	for i := range 4 {
		r := record("web", fmt.Sprint("p", i), i, sdk.StatusOpen)
		entry(r, i*10, sdk.EventImported) // changes at t0, +10m, +20m, +30m
		if _, err := s.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	_, cursors := feedTypes(t, s, host.EventFilter{Limit: 100})
	if n, err := s.PruneEvents(ctx, t0.Add(15*time.Minute), 100); err != nil || n != 0 {
		t.Fatalf("pruned %d (%v) before any fan-out, want none: events not fanned out stay", n, err)
	}
	for {
		if _, more, err := s.FanOutEvents(ctx, t0, 100); err != nil || !more {
			break
		}
	}
	if n, err := s.PruneEvents(ctx, t0.Add(15*time.Minute), 100); err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want the 2 events before +15m", n, err)
	}
	if n, _ := s.PruneEvents(ctx, t0.Add(15*time.Minute), 100); n != 0 {
		t.Errorf("pruned %d more", n)
	}
	evs, _, err := s.Events(ctx, host.EventFilter{Limit: 100})
	if err != nil || len(evs) != 2 || evs[0].OrderID != ids[2] {
		t.Fatalf("from the beginning after pruning: %d events (%v), want the last 2", len(evs), err)
	}
	if _, _, err := s.Events(ctx, host.EventFilter{After: cursors[0], Limit: 100}); host.ErrorCode(err) != host.EGONE {
		t.Errorf("after a pruned event's cursor: %v, want EGONE", err)
	}
	if got, _, err := s.Events(ctx, host.EventFilter{After: cursors[2], Limit: 100}); err != nil || len(got) != 1 || got[0].OrderID != ids[3] {
		t.Errorf("after a kept event's cursor: %v (%v), want the last", got, err)
	}
}
