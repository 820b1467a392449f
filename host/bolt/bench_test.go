package bolt_test

// BenchmarkCommit compares the store's group commit with bbolt's own
// batching and with one transaction per order, all with fsync on. Run with
//
//	go test -run '^$' -bench Commit -benchmem ./host/bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/workers"
	"github.com/ordergate/ordergate/sdk"
)

// benchWriters is how many goroutines write at once: a fixed pool, not
// RunParallel (which would start GOMAXPROCS goroutines).
const benchWriters = 64

// benchRecord builds a realistic stored order: three lines, both
// addresses, custom fields, and the import and decision events the
// workflow adds (held for review, as the shipped policies do for a line
// over 4). Its JSON is about 2 KB (the order as the channel sent it is
// about 1.1 KB). Each order has its own shipping address, so no two look
// like duplicates of each other.
func benchRecord(i int) *host.Record {
	now := time.Now().UTC()
	placed := now.Add(-3 * time.Minute).Truncate(time.Second)
	addr := sdk.Address{
		Name: "Ada Lovelace", Company: "Analytical Engines Ltd", Address1: fmt.Sprintf("%d Main St", 1+i), Address2: "Suite 400",
		City: "Austin", Region: "TX", PostalCode: "78701", Country: "US",
	}
	billing := addr
	r := &host.Record{Order: sdk.Order{
		ID:              ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String(),
		ChannelID:       "shopify",
		ExternalID:      fmt.Sprintf("shopify-%d", 5_000_000+i),
		Number:          fmt.Sprintf("#%d", 10_000+i),
		PlacedAt:        placed,
		Currency:        "USD",
		Customer:        sdk.Customer{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+1 512 555 0100"},
		ShippingAddress: addr, BillingAddress: &billing, ShippingMethod: "Standard",
		LineItems: []sdk.LineItem{
			{SKU: "V789", Title: "Valve V789, brass, 3/4 inch", Quantity: 5, UnitPrice: "19.99"},
			{SKU: "G120", Title: "Gasket set G120 (10 pieces)", Quantity: 2, UnitPrice: "4.50"},
			{SKU: "P455-BLK", Title: "Pipe wrench P455, black, 14 inch", Quantity: 1, UnitPrice: "32.00"},
		},
		Totals:       sdk.Totals{Subtotal: "140.95", Shipping: "5.00", Tax: "11.63", Total: "157.58"},
		Note:         "Leave at the door",
		Tags:         []string{"web", "returning-customer"},
		CustomFields: map[string]string{"gift": "no", "source": "storefront"},
	}}
	r.ImportedAt = &now
	r.Events = []sdk.Event{{At: now, Type: sdk.EventImported, Actor: "channel:shopify"}}
	r.Decide(&sdk.Decision{
		Revision: "3f9c2a7d51e0b8c4", EvaluatedAt: now, Status: sdk.StatusOnHold,
		Tags:  []sdk.TagDecision{{Tag: "Review Needed", Package: "review"}},
		Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "hold_large_quantity", Message: "line V789 has quantity 5, over the review limit of 4", Package: "review"}},
	}, "workflow", sdk.EventDecision)
	return r
}

// runWriters runs write(i) for i in [0, n) from benchWriters goroutines
// and returns the wall time. The first error stops the benchmark.
func runWriters(b *testing.B, n int, write func(i int) error) time.Duration {
	b.Helper()
	res := workers.Run(benchWriters, n, write)
	if res.Err != nil {
		b.Fatal(res.Err)
	}
	return res.Elapsed
}

func reportOrders(b *testing.B, n int, elapsed time.Duration) {
	b.ReportMetric(float64(n)/elapsed.Seconds(), "orders/s")
}

// openPlain opens a separate bbolt file with one plain bucket, with the
// same options as the store and bbolt's defaults otherwise (fsync on,
// MaxBatchDelay 10ms, MaxBatchSize 1000).
func openPlain(b *testing.B) *bbolt.DB {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "plain.db"), 0o600, &bbolt.Options{Timeout: 2 * time.Second, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("orders")); return err }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// checkPlain fails unless the plain bucket holds exactly n records.
func checkPlain(b *testing.B, db *bbolt.DB, n int) {
	b.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		if got := tx.Bucket([]byte("orders")).Stats().KeyN; got != n {
			return fmt.Errorf("%d records stored, want %d", got, n)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCommit: 64 concurrent writers store b.N distinct orders, one
// order per call, every commit fsynced.
//
//   - group-commit: DB.CreateOrders, the store's committer (encodes and
//     indexes each order inside the shared transaction);
//   - bbolt-batch: bbolt DB.Batch with its default MaxBatchDelay, putting
//     the JSON-encoded record (encoded by the writer) into a plain bucket;
//   - update-per-order: one bbolt DB.Update (and its fsyncs) per order,
//     same encoded record, plain bucket.
func BenchmarkCommit(b *testing.B) {
	size := func() int {
		data, _ := json.Marshal(benchRecord(0))
		return len(data)
	}()
	records := func(n int) []*host.Record {
		rs := make([]*host.Record, n)
		for i := range rs {
			rs[i] = benchRecord(i)
		}
		return rs
	}

	b.Run("group-commit", func(b *testing.B) {
		db := openDB(b, b.TempDir())
		defer db.Close()
		rs := records(b.N)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		elapsed := runWriters(b, b.N, func(i int) error {
			res, err := db.CreateOrders(ctx, []host.NewOrder{{Record: rs[i]}})
			if err != nil {
				return err
			}
			if !res[0].Created || res[0].Err != nil {
				return fmt.Errorf("order %d: created=%v err=%v", i, res[0].Created, res[0].Err)
			}
			return nil
		})
		b.StopTimer()
		reportOrders(b, b.N, elapsed)
		b.ReportMetric(float64(size), "B/record")
		// Every order landed exactly once.
		n, f := 0, host.OrderFilter{Limit: 500}
		for {
			page, next, err := db.ListOrders(ctx, f)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page)
			if next == "" {
				break
			}
			f.After = next
		}
		if n != b.N {
			b.Fatalf("%d orders stored, want %d", n, b.N)
		}
	})

	b.Run("bbolt-batch", func(b *testing.B) {
		db := openPlain(b)
		rs := records(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		elapsed := runWriters(b, b.N, func(i int) error {
			data, err := json.Marshal(rs[i])
			if err != nil {
				return err
			}
			return db.Batch(func(tx *bbolt.Tx) error {
				return tx.Bucket([]byte("orders")).Put([]byte(rs[i].ID), data)
			})
		})
		b.StopTimer()
		reportOrders(b, b.N, elapsed)
		b.ReportMetric(float64(size), "B/record")
		checkPlain(b, db, b.N)
	})

	b.Run("update-per-order", func(b *testing.B) {
		db := openPlain(b)
		rs := records(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		elapsed := runWriters(b, b.N, func(i int) error {
			data, err := json.Marshal(rs[i])
			if err != nil {
				return err
			}
			return db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket([]byte("orders")).Put([]byte(rs[i].ID), data)
			})
		})
		b.StopTimer()
		reportOrders(b, b.N, elapsed)
		b.ReportMetric(float64(size), "B/record")
		checkPlain(b, db, b.N)
	})
}

// BenchmarkFactsLookAlikes reads an order's facts with 10, 1,000 and
// 10,000 look-alikes stored (one address, one basket): the duplicate
// search is bounded, so the cost per order should stay flat.
func BenchmarkFactsLookAlikes(b *testing.B) {
	for _, stored := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			db := openDB(b, b.TempDir())
			defer db.Close()
			rs := storeLookAlikes(b, db, stored)
			at := t0.Add(time.Duration(stored) * time.Second)
			q := host.FactsQuery{ChannelID: "shop", SKUs: []string{"V789"}, Fingerprint: host.Fingerprint(&rs[0].Order), PlacedAt: at,
				Before: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String()}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Facts(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
