package bolt_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/sdk"
)

func TestInventoryMergeAndReplace(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	defer db.Close()
	for _, id := range []string{"austin", "dallas"} {
		if err := db.CreateSource(ctx, &host.Source{ID: id, Name: id, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 5}, {SourceID: "austin", SKU: "B2", Available: 3}, {SourceID: "dallas", SKU: "A1", Available: 1}}, host.InventoryMerge, time.Now())
	if err != nil || res.Changed != 3 || !slices.Equal(res.SKUs, []string{"A1", "B2"}) {
		t.Fatalf("first upload: %+v %v", res, err)
	}
	// Unchanged levels are not changes.
	res, err = db.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 5}}, host.InventoryMerge, time.Now())
	if err != nil || res.Changed != 0 || len(res.SKUs) != 0 {
		t.Fatalf("same upload again: %+v %v", res, err)
	}
	// Replace zeroes the other levels of the named source only.
	res, err = db.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 4}}, host.InventoryReplace, time.Now())
	if err != nil || res.Changed != 2 || !slices.Equal(res.SKUs, []string{"A1", "B2"}) {
		t.Fatalf("replace: %+v %v", res, err)
	}
	levels, _, err := db.Inventory(ctx, "", "A1", "", 10)
	if err != nil || len(levels) != 2 || levels[0].Available != 4 || levels[1].SourceID != "dallas" || levels[1].Available != 1 {
		t.Fatalf("A1 levels = %+v %v", levels, err)
	}
	levels, _, _ = db.Inventory(ctx, "austin", "", "", 10)
	if len(levels) != 2 || levels[1].SKU != "B2" || levels[1].Available != 0 {
		t.Fatalf("austin levels = %+v", levels)
	}
	// An unknown source rejects the whole upload.
	if _, err := db.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 9}, {SourceID: "nowhere", SKU: "A1", Available: 1}}, host.InventoryMerge, time.Now()); host.ErrorCode(err) != host.EINVALID {
		t.Fatalf("unknown source: %v", err)
	}
	if levels, _, _ := db.Inventory(ctx, "austin", "A1", "", 10); levels[0].Available != 4 {
		t.Errorf("a rejected upload changed A1 to %d", levels[0].Available)
	}
	// Pages.
	page1, next, _ := db.Inventory(ctx, "austin", "", "", 1)
	page2, last, _ := db.Inventory(ctx, "austin", "", next, 1)
	if len(page1) != 1 || len(page2) != 1 || page1[0].SKU != "A1" || page2[0].SKU != "B2" || last != "" {
		t.Errorf("pages %+v %+v next %q last %q", page1, page2, next, last)
	}
}

func TestRoutingGroupsAndFacts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	defer db.Close()
	for _, ch := range []string{"shopify", "acme"} {
		if _, err := db.EnsureChannel(ctx, &host.Channel{ID: ch, Name: ch, Kind: host.ChannelB2C}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"austin", "dallas"} {
		if err := db.CreateSource(ctx, &host.Source{ID: id, Name: id, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	// put creates a group, or replaces the one with its id.
	put := func(g *host.RoutingGroup) error {
		if _, err := db.RoutingGroup(ctx, g.ID); err == nil {
			_, err := db.UpdateRoutingGroup(ctx, g.ID, func(cur *host.RoutingGroup) error { *cur = *g; return nil })
			return err
		}
		return db.CreateRoutingGroup(ctx, g)
	}
	if err := put(&host.RoutingGroup{ID: "main", Name: "Main", Default: true, Sources: []host.GroupSource{{SourceID: "austin", Enabled: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := put(&host.RoutingGroup{ID: "texas", Name: "Texas", Channels: []string{"acme"}, Sources: []host.GroupSource{{SourceID: "dallas", Enabled: false}}}); err != nil {
		t.Fatal(err)
	}
	if err := put(&host.RoutingGroup{ID: "other", Name: "Other", Default: true}); host.ErrorCode(err) != host.EINVALID {
		t.Errorf("a second default: %v", err)
	}
	if err := put(&host.RoutingGroup{ID: "other", Name: "Other", Channels: []string{"acme"}}); host.ErrorCode(err) != host.EINVALID {
		t.Errorf("a channel in two groups: %v", err)
	}
	if err := db.DeleteSource(ctx, "dallas"); host.ErrorCode(err) != host.ECONFLICT {
		t.Errorf("deleting a source a group lists: %v", err)
	}
	if _, err := db.SetInventory(ctx, []host.StockLevel{{SourceID: "austin", SKU: "V789", Available: 2}, {SourceID: "dallas", SKU: "V789", Available: 7}}, host.InventoryMerge, time.Now()); err != nil {
		t.Fatal(err)
	}

	f, err := db.Facts(ctx, host.FactsQuery{ChannelID: "shopify", SKUs: []string{"V789"}})
	if err != nil || f.Group == nil || f.Group.ID != "main" || f.Stock["V789"]["austin"] != 2 || f.Stock["V789"]["dallas"] != 0 || f.CatalogInUse {
		t.Fatalf("shopify facts = %+v %v", f, err)
	}
	f, _ = db.Facts(ctx, host.FactsQuery{ChannelID: "acme", SKUs: []string{"V789"}})
	if f.Group.ID != "texas" || f.Stock["V789"]["dallas"] != 7 || f.Sources["dallas"] == nil {
		t.Fatalf("acme facts = %+v", f)
	}
	// Moving acme out of texas sends it to the default group.
	if err := put(&host.RoutingGroup{ID: "texas", Name: "Texas", Sources: []host.GroupSource{{SourceID: "dallas", Enabled: true}}}); err != nil {
		t.Fatal(err)
	}
	if f, _ = db.Facts(ctx, host.FactsQuery{ChannelID: "acme"}); f.Group.ID != "main" {
		t.Errorf("acme after leaving texas is in %s", f.Group.ID)
	}
	if err := db.DeleteRoutingGroup(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	if f, _ = db.Facts(ctx, host.FactsQuery{ChannelID: "shopify"}); f.Group != nil {
		t.Errorf("without a default group shopify is in %s", f.Group.ID)
	}
}

func TestDuplicateCandidates(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	defer db.Close()
	a := record("acme", "1", 0, sdk.StatusOpen)
	b := record("shop", "2", 60, sdk.StatusOpen)      // an hour later, same address and items
	c := record("shop", "3", 25*60+1, sdk.StatusOpen) // just over 24 hours after b
	d := record("shop", "4", 30, sdk.StatusCanceled)  // canceled
	e := record("shop", "5", 10, sdk.StatusOpen)      // other items
	e.LineItems = []sdk.LineItem{{SKU: "V789", Quantity: 2, UnitPrice: "1.00"}}
	create(t, db, a, b, c, d, e)

	q := func(r *host.Record) []string {
		f, err := db.Facts(ctx, host.FactsQuery{Fingerprint: host.Fingerprint(&r.Order), PlacedAt: r.PlacedAt, Before: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range f.Duplicates {
			ids = append(ids, d.ExternalID)
		}
		return ids
	}
	if got := q(b); !slices.Equal(got, []string{"1"}) {
		t.Errorf("duplicates of b = %v, want [1]", got)
	}
	if got := q(a); len(got) != 0 {
		t.Errorf("the first order has duplicates %v", got)
	}
	if got := q(c); len(got) != 0 {
		t.Errorf("an order more than 24h after b has duplicates %v", got)
	}

	// A shorter window; switched off.
	s, _ := db.Settings(ctx)
	s.DuplicateProtection.Window = "30m"
	if _, err := db.UpdateSettings(ctx, func(st *host.Settings) error { *st = s; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := q(b); len(got) != 0 {
		t.Errorf("with a 30m window b has duplicates %v", got)
	}
	s.DuplicateProtection = host.DuplicateProtection{Enabled: false, Window: "24h"}
	db.UpdateSettings(ctx, func(st *host.Settings) error { *st = s; return nil })
	if got := q(b); len(got) != 0 {
		t.Errorf("switched off, b has duplicates %v", got)
	}

	// Canceling an order takes it out of the search.
	s.DuplicateProtection.Enabled = true
	db.UpdateSettings(ctx, func(st *host.Settings) error { *st = s; return nil })
	if _, err := db.UpdateOrder(ctx, a.ID, func(r *host.Record) error { return r.Cancel("key:x", "test", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	if got := q(b); len(got) != 0 {
		t.Errorf("after canceling a, b has duplicates %v", got)
	}
}

func TestListBySKU(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	a := record("shop", "1", 0, sdk.StatusOnHold)
	b := record("shop", "2", 1, sdk.StatusOnHold)
	b.LineItems = []sdk.LineItem{{SKU: "A1", Quantity: 1, UnitPrice: "1.00"}}
	c := record("shop", "3", 2, sdk.StatusOpen)
	create(t, db, a, b, c)
	page, _, err := db.ListOrders(context.Background(), host.OrderFilter{SKU: "V789", Status: "on_hold"})
	if err != nil || len(page) != 1 || page[0].ID != a.ID {
		t.Fatalf("held V789 orders = %v %v", page, err)
	}
}

// TestDuplicateSearchIsBounded: with 5,000 look-alikes stored, an order's
// facts name the 10 most recent (oldest first) and count up to 100, and a
// status change of a look-alike shows in the search without reading its
// record.
func TestDuplicateSearchIsBounded(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	defer db.Close()
	const stored = 5000
	rs := storeLookAlikes(t, db, stored)
	next := record("shop", "next", 0, sdk.StatusOpen)
	at := t0.Add(stored * time.Second)
	next.ID, next.PlacedAt = ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), at
	f, err := db.Facts(ctx, host.FactsQuery{Fingerprint: host.Fingerprint(&next.Order), PlacedAt: next.PlacedAt, Before: next.ID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range f.Duplicates {
		ids = append(ids, d.ExternalID)
	}
	want := []string{"4990", "4991", "4992", "4993", "4994", "4995", "4996", "4997", "4998", "4999"}
	if !slices.Equal(ids, want) || f.DuplicateCount != host.MaxDuplicatesCounted || !f.DuplicateCountCapped {
		t.Fatalf("facts with %d look-alikes: %v, count %d capped %v; want %v, %d capped", stored, ids, f.DuplicateCount, f.DuplicateCountCapped, want, host.MaxDuplicatesCounted)
	}
	if f.DuplicateHorizon != rs[stored-1].ID {
		t.Errorf("horizon %s, want the newest look-alike %s", f.DuplicateHorizon, rs[stored-1].ID)
	}
	if d := f.Duplicates[9]; d.Number != "#4999" || d.ChannelID != "shop" || !d.PlacedAt.Equal(rs[stored-1].PlacedAt) || d.Status != sdk.StatusOpen {
		t.Errorf("the newest look-alike reads as %+v", d)
	}
	// A look-alike put on hold reads on hold.
	if _, err := db.UpdateOrder(ctx, rs[stored-1].ID, func(r *host.Record) error {
		r.Status, r.Holds = sdk.StatusOnHold, []sdk.Hold{{Reason: sdk.HoldCustomRule}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, _ = db.Facts(ctx, host.FactsQuery{Fingerprint: host.Fingerprint(&next.Order), PlacedAt: next.PlacedAt, Before: next.ID})
	if d := f.Duplicates[9]; d.Status != sdk.StatusOnHold {
		t.Errorf("after its hold the newest look-alike reads %s", d.Status)
	}
}

// storeLookAlikes stores n look-alike orders (one address, one basket),
// imported and placed one a second from t0, so all are within a day's
// window of the last, and returns them in import order.
func storeLookAlikes(t testing.TB, db *bolt.DB, n int) []*host.Record {
	t.Helper()
	var rs []*host.Record
	for i := range n {
		r := record("shop", fmt.Sprint(i), 0, sdk.StatusOpen)
		at := t0.Add(time.Duration(i) * time.Second)
		r.ID = ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String()
		r.PlacedAt, r.ImportedAt = at, &at
		rs = append(rs, r)
	}
	for chunk := range slices.Chunk(rs, 1000) {
		create(t, db, chunk...)
	}
	return rs
}
