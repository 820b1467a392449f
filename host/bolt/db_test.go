package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/sdk"
)

func openDB(t testing.TB, dir string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// record builds a stored-order record imported at t0 + minute minutes.
func record(channel, external string, minute int, status sdk.Status, tags ...string) *host.Record {
	at := t0.Add(time.Duration(minute) * time.Minute)
	r := &host.Record{Order: sdk.Order{
		ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), ChannelID: channel, ExternalID: external,
		Number: "#" + external, PlacedAt: at, Currency: "USD", Status: status, ImportedAt: &at, Tags: tags,
		ShippingAddress: sdk.Address{Country: "US"}, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}},
		Totals: sdk.Totals{Total: "1.00"},
	}}
	if status == sdk.StatusOnHold {
		r.Holds = []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r"}}
	}
	return r
}

func create(t testing.TB, db *bolt.DB, rs ...*host.Record) []host.CreateResult {
	t.Helper()
	in := make([]host.NewOrder, len(rs))
	for i, r := range rs {
		in[i] = host.NewOrder{Record: r}
	}
	res, err := db.CreateOrders(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCreateIsIdempotentPerChannelAndExternalID(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	first := record("shop", "1203", 0, sdk.StatusOpen)
	if res := create(t, db, first); !res[0].Created {
		t.Fatal("first import must create")
	}
	again := record("shop", "1203", 1, sdk.StatusOpen)
	res := create(t, db, again)
	if res[0].Created || res[0].Record.ID != first.ID {
		t.Errorf("re-import of the same external id: created=%v id=%s, want existing %s", res[0].Created, res[0].Record.ID, first.ID)
	}
	other := record("b2b-acme", "1203", 2, sdk.StatusOpen)
	if res := create(t, db, other); !res[0].Created {
		t.Error("the same external id on another channel is another order")
	}
	// Two of the same external id in one call: the second sees the first.
	a, b := record("shop", "9", 3, sdk.StatusOpen), record("shop", "9", 4, sdk.StatusOpen)
	res = create(t, db, a, b)
	if !res[0].Created || res[1].Created || res[1].Record.ID != a.ID {
		t.Errorf("same external id twice in one group: %+v", res)
	}
}

func TestIdempotencyKey(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()
	r := record("shop", "1", 0, sdk.StatusOpen)
	res, _ := db.CreateOrders(ctx, []host.NewOrder{{Record: r, IdempotencyKey: "k1", RequestHash: "h1"}})
	if !res[0].Created {
		t.Fatal("not created")
	}
	// Same key and body, even with another external id in a retried body, returns the first.
	res, _ = db.CreateOrders(ctx, []host.NewOrder{{Record: record("shop", "1", 1, sdk.StatusOpen), IdempotencyKey: "k1", RequestHash: "h1"}})
	if res[0].Created || res[0].Record.ID != r.ID || res[0].Err != nil {
		t.Errorf("replay = %+v", res[0])
	}
	res, _ = db.CreateOrders(ctx, []host.NewOrder{{Record: record("shop", "2", 2, sdk.StatusOpen), IdempotencyKey: "k1", RequestHash: "h2"}})
	if host.ErrorCode(res[0].Err) != host.ECONFLICT {
		t.Errorf("same key, other body: err = %v, want conflict", res[0].Err)
	}
	list, _, _ := db.ListOrders(ctx, host.OrderFilter{})
	if len(list) != 1 {
		t.Errorf("%d orders stored, want 1", len(list))
	}
}

func TestListFiltersAndPages(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()
	var all []*host.Record
	for i := range 30 {
		status := sdk.StatusOpen
		if i%3 == 0 {
			status = sdk.StatusOnHold
		}
		ch := "shop"
		if i%2 == 0 {
			ch = "acme"
		}
		r := record(ch, fmt.Sprint(i), i, status)
		if i%5 == 0 {
			r.Tags = []string{"VIP"}
		}
		all = append(all, r)
	}
	create(t, db, all...)

	count := func(f host.OrderFilter) (n int, ids []string) {
		f.Limit = 7
		for {
			page, next, err := db.ListOrders(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			n += len(page)
			if next == "" {
				return n, ids
			}
			f.After = next
		}
	}
	tests := []struct {
		name string
		f    host.OrderFilter
		want int
	}{
		{"all", host.OrderFilter{}, 30},
		{"on hold", host.OrderFilter{Status: "on_hold"}, 10},
		{"hold reason", host.OrderFilter{HoldReason: sdk.HoldCustomRule}, 10},
		{"channel", host.OrderFilter{ChannelID: "acme"}, 15},
		{"channel and status", host.OrderFilter{ChannelID: "acme", Status: "on_hold"}, 5},
		{"tag", host.OrderFilter{Tag: "VIP"}, 6},
		{"external id", host.OrderFilter{ExternalID: "7"}, 1},
		{"number", host.OrderFilter{Number: "#12"}, 1},
		{"time range", host.OrderFilter{ImportedAfter: t0.Add(10 * time.Minute), ImportedBefore: t0.Add(20 * time.Minute)}, 10},
		{"time range and status", host.OrderFilter{Status: "open", ImportedAfter: t0.Add(10 * time.Minute)}, 14},
		{"no match", host.OrderFilter{Tag: "nope"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, ids := count(tc.f)
			if n != tc.want {
				t.Errorf("got %d orders, want %d", n, tc.want)
			}
			for i := 1; i < len(ids); i++ {
				if ids[i] >= ids[i-1] {
					t.Fatalf("not newest first, or a page repeated an order: %s then %s", ids[i-1], ids[i])
				}
			}
		})
	}
}

func TestUpdateMovesIndexes(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	ctx := context.Background()
	r := record("shop", "1203", 0, sdk.StatusOnHold)
	create(t, db, r)
	_, err := db.UpdateOrder(ctx, r.ID, func(r *host.Record) error { return r.Release("key:test", "ok", t0) })
	if err != nil {
		t.Fatal(err)
	}
	if list, _, _ := db.ListOrders(ctx, host.OrderFilter{Status: "on_hold"}); len(list) != 0 {
		t.Errorf("released order still listed on hold")
	}
	if list, _, _ := db.ListOrders(ctx, host.OrderFilter{HoldReason: sdk.HoldCustomRule}); len(list) != 0 {
		t.Errorf("released order still listed by hold reason")
	}
	// A failing update changes nothing.
	_, err = db.UpdateOrder(ctx, r.ID, func(r *host.Record) error { return r.Release("key:test", "again", t0) })
	if host.ErrorCode(err) != host.ECONFLICT {
		t.Errorf("releasing an open order: %v, want conflict", err)
	}
	if _, err := db.UpdateOrder(ctx, "missing", func(*host.Record) error { return nil }); host.ErrorCode(err) != host.ENOTFOUND {
		t.Errorf("missing order: %v", err)
	}
	db.Close()

	// Everything survives a reopen.
	db = openDB(t, dir)
	defer db.Close()
	got, err := db.Order(ctx, r.ID)
	if err != nil || got.Status != sdk.StatusOpen || len(got.Events) != 1 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if list, _, _ := db.ListOrders(ctx, host.OrderFilter{Status: "open"}); len(list) != 1 {
		t.Errorf("open index lost on reopen")
	}
}

// TestConcurrentWritersShareCommits: many writers at once all land, each
// exactly once (group commit must not drop or double a write).
func TestConcurrentWritersShareCommits(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	const writers, each = 32, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				create(t, db, record("shop", fmt.Sprintf("%d-%d", w, i), 0, sdk.StatusOpen))
				// Every writer also re-sends one order: it must not duplicate.
				create(t, db, record("shop", fmt.Sprintf("%d-0", w), 0, sdk.StatusOpen))
			}
		}()
	}
	wg.Wait()
	n := 0
	f := host.OrderFilter{Limit: 500}
	for {
		page, next, err := db.ListOrders(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page)
		if next == "" {
			break
		}
		f.After = next
	}
	if n != writers*each {
		t.Errorf("%d orders stored, want %d", n, writers*each)
	}
}

func TestKeys(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()
	secret, hash, err := host.NewKeySecret()
	if err != nil {
		t.Fatal(err)
	}
	k := &host.APIKey{ID: "key_1", Role: host.RoleAdmin, Hash: hash, CreatedAt: t0}
	if err := db.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := db.KeyByHash(ctx, host.HashKey(secret))
	if err != nil || got.ID != "key_1" {
		t.Fatalf("KeyByHash = %+v, %v", got, err)
	}
	if _, err := db.KeyByHash(ctx, host.HashKey(secret+"x")); host.ErrorCode(err) != host.EUNAUTHORIZED {
		t.Errorf("wrong secret: %v", err)
	}
	if err := db.DeleteKey(ctx, "key_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.KeyByHash(ctx, hash); host.ErrorCode(err) != host.EUNAUTHORIZED {
		t.Errorf("revoked key still works: %v", err)
	}
	if err := db.DeleteKey(ctx, "key_1"); host.ErrorCode(err) != host.ENOTFOUND {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	defer db.Close()
	if _, err := bolt.Open(dir, nil); err == nil {
		t.Fatal("a second open of a locked database must fail")
	}
}

// TestVerifyRefusesTruncatedCopy: a backup cut short anywhere is refused
// with an error, never read past its end (which the memory map answers
// with SIGBUS, killing the process instead of refusing the file).
func TestVerifyRefusesTruncatedCopy(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	var rs []*host.Record
	for i := range 2000 {
		rs = append(rs, record("shop", fmt.Sprint(i), i, sdk.StatusOpen))
	}
	create(t, db, rs...)
	var full bytes.Buffer
	if _, err := db.Backup(&full); err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(t.TempDir(), "whole.db")
	if err := os.WriteFile(whole, full.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Verify(whole); err != nil {
		t.Fatalf("the whole copy: %v", err)
	}
	page := os.Getpagesize()
	for _, size := range []int{full.Len() / 4, full.Len() / 2, full.Len() * 3 / 4, full.Len() - page, full.Len() - 1} {
		t.Run(fmt.Sprintf("%d_of_%d_bytes", size, full.Len()), func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), "cut.db")
			if err := os.WriteFile(cut, full.Bytes()[:size], 0o600); err != nil {
				t.Fatal(err)
			}
			if err := bolt.Verify(cut); err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("Verify of a copy cut to %d bytes: %v, want it refused as damaged", size, err)
			}
		})
	}
}
