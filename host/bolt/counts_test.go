package bolt

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// TestCountsFollowChanges: the counts of orders by status and hold reason
// and of the outbox by destination and state follow every change, and a
// database that kept none (schema 3) gets the same counts when opened.
func TestCountsFollowChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	order := func(n int, status sdk.Status, reasons ...string) *host.Record {
		r := &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(at.Add(time.Duration(n)*time.Second)), ulid.DefaultEntropy()).String(),
			ChannelID: "shop", ExternalID: string(rune('a' + n)), PlacedAt: at, Status: status, ImportedAt: &at,
			LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, ShippingAddress: sdk.Address{Address1: string(rune('a' + n)), Country: "US"}}}
		for _, reason := range reasons {
			r.Holds = append(r.Holds, sdk.Hold{Reason: reason, Rule: reason})
		}
		return r
	}
	rs := []*host.Record{
		order(0, sdk.StatusOpen),
		order(1, sdk.StatusOnHold, sdk.HoldCustomRule),
		order(2, sdk.StatusOnHold, sdk.HoldCustomRule, sdk.HoldDuplicateOrder),
		order(3, sdk.StatusOnHold, sdk.HoldInsufficientQuantity),
	}
	var batch []host.NewOrder
	for _, r := range rs {
		batch = append(batch, host.NewOrder{Record: r})
	}
	if _, err := db.CreateOrders(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// The same order again changes no count.
	if _, err := db.CreateOrders(ctx, batch[:1]); err != nil {
		t.Fatal(err)
	}
	// Released, canceled.
	if _, err := db.UpdateOrder(ctx, rs[1].ID, func(r *host.Record) error { return r.Release("key:x", "", at) }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateOrder(ctx, rs[3].ID, func(r *host.Record) error { return r.Cancel("key:x", "", at) }); err != nil {
		t.Fatal(err)
	}
	for i, to := range []string{"sales", "sales", "ops"} {
		dl := host.OpsDelivery(to, host.PolicyReloadRefused{Serving: "r", Error: string(rune('a' + i))}, at)
		if err := db.Enqueue(ctx, dl); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			dl.Attempts = 1
			if i == 2 {
				dl.Status = host.DeliveryFailed
			}
			if err := db.PutDelivery(ctx, dl); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := host.Counts{
		Orders: map[sdk.Status]int64{sdk.StatusOpen: 2, sdk.StatusOnHold: 1, sdk.StatusCanceled: 1},
		Held:   map[string]int64{sdk.HoldCustomRule: 1, sdk.HoldDuplicateOrder: 1},
		Outbox: map[string]map[string]int64{"sales": {host.OutboxPending: 1, host.OutboxRetrying: 1}, "ops": {host.OutboxDead: 1}},
	}
	check := func(when string) {
		t.Helper()
		got, err := db.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !sameCounts(got, want) {
			t.Errorf("%s: counts = %+v, want %+v", when, got, want)
		}
	}
	check("after the changes")

	// Make it a schema 3 file with no counts; opening counts again.
	if err := db.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketCounts); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketCounts); err != nil {
			return err
		}
		return tx.Bucket(bucketSettings).Put(keySchema, []byte("3"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("after the migration")
}

func sameCounts(a, b host.Counts) bool {
	nonzero := func(m map[string]int64) map[string]int64 {
		out := map[string]int64{}
		for k, v := range m {
			if v != 0 {
				out[k] = v
			}
		}
		return out
	}
	statuses := func(m map[sdk.Status]int64) map[string]int64 {
		out := map[string]int64{}
		for k, v := range m {
			out[string(k)] = v
		}
		return nonzero(out)
	}
	if !maps.Equal(statuses(a.Orders), statuses(b.Orders)) || !maps.Equal(nonzero(a.Held), nonzero(b.Held)) {
		return false
	}
	for _, dest := range []string{"sales", "ops"} {
		if !maps.Equal(nonzero(a.Outbox[dest]), nonzero(b.Outbox[dest])) {
			return false
		}
	}
	return true
}
