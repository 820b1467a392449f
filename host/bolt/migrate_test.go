package bolt

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// TestMigrateToSchema2 opens a database as the first release wrote it (no
// SKU or fingerprint index, no schema version) and finds it indexed.
func TestMigrateToSchema2(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	r := &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), ChannelID: "shop", ExternalID: "1", PlacedAt: at, Status: sdk.StatusOnHold,
		ImportedAt: &at, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, ShippingAddress: sdk.Address{Country: "US"}}}
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
		t.Fatal(err)
	}
	// Make it a schema 1 file.
	err = db.db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketIndex)
		for _, kind := range []byte{idxSKU, idxLookAlike} {
			c := idx.Cursor()
			for k, _ := c.Seek([]byte{kind, 0}); k != nil && k[0] == kind; k, _ = c.Seek([]byte{kind, 0}) {
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketSettings).Delete(keySchema)
	})
	if err != nil {
		t.Fatal(err)
	}
	if page, _, _ := db.ListOrders(ctx, host.OrderFilter{SKU: "V789"}); len(page) != 0 {
		t.Fatal("the SKU index is still there")
	}
	db.Close()

	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if page, _, _ := db.ListOrders(ctx, host.OrderFilter{SKU: "V789"}); len(page) != 1 {
		t.Errorf("after migration the SKU index has %d orders, want 1", len(page))
	}
	f, err := db.Facts(ctx, host.FactsQuery{Fingerprint: host.Fingerprint(&r.Order), PlacedAt: at})
	if err != nil || len(f.Duplicates) != 1 {
		t.Errorf("after migration the fingerprint index finds %v (%v)", f, err)
	}
}

// TestMigrateToSchema4 opens a database with the schema 3 fingerprint
// index (fingerprint and placed time in the key, no value) and finds the
// look-alike index in its place, for orders that are not canceled.
func TestMigrateToSchema4(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	order := func(id, ext string, status sdk.Status) *host.Record {
		return &host.Record{Order: sdk.Order{ID: id, ChannelID: "shop", ExternalID: ext, Number: "#" + ext, PlacedAt: at, Status: status,
			ImportedAt: &at, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, ShippingAddress: sdk.Address{Address1: "1 Main St", Country: "US"}}}
	}
	id := func(n uint64) string {
		return ulid.MustNew(ulid.Timestamp(at), bytes.NewReader(make([]byte, 16))).String()[:25] + fmt.Sprint(n)
	}
	kept, canceled := order(id(1), "1", sdk.StatusOpen), order(id(2), "2", sdk.StatusCanceled)
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: kept}, {Record: canceled}}); err != nil {
		t.Fatal(err)
	}
	fp := host.Fingerprint(&kept.Order)
	// Make it a schema 3 file: the look-alike entries become the old
	// fingerprint entries (for every order, as schema 3 kept canceled ones
	// out only on update).
	err = db.db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketIndex)
		for _, r := range []*host.Record{kept, canceled} {
			if err := idx.Delete(indexKey(idxLookAlike, fp, r.ID)); err != nil {
				return err
			}
			v3 := fmt.Sprintf("%s:%016x", fp, uint64(r.PlacedAt.UnixNano())^(1<<63))
			if err := idx.Put(indexKey(idxFingerprintV3, v3, r.ID), nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketSettings).Put(keySchema, []byte("3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := db.Facts(ctx, host.FactsQuery{Fingerprint: fp, PlacedAt: at})
	if err != nil || len(f.Duplicates) != 1 || f.Duplicates[0].ID != kept.ID || f.Duplicates[0].Number != "#1" || f.DuplicateCount != 1 {
		t.Fatalf("after migration the look-alikes are %+v (%v)", f, err)
	}
	db.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIndex).Cursor()
		if k, _ := c.Seek([]byte{idxFingerprintV3, 0}); k != nil && k[0] == idxFingerprintV3 {
			t.Errorf("a schema 3 fingerprint entry is left: %q", k)
		}
		return nil
	})
}

// TestMigrateToSchema7 opens a schema 4 database (no updated, customer or
// sort index) and lists its orders by updated_after, by customer and
// sorted by placed_at.
func TestMigrateToSchema7(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	r := &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(at), bytes.NewReader(make([]byte, 16))).String(), ChannelID: "shop", ExternalID: "1",
		Number: "#1", PlacedAt: at, Status: sdk.StatusOpen, ImportedAt: &at, UpdatedAt: &later, Customer: sdk.Customer{Name: "Dana Whitfield", Email: "Dana@example.com"},
		LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, ShippingAddress: sdk.Address{Country: "US"}}}
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
		t.Fatal(err)
	}
	err = db.db.Update(func(tx *bolt.Tx) error {
		for _, k := range [][]byte{indexKey(idxUpdated, string(timeKey(later)), r.ID), indexKey(idxEmail, "dana@example.com", r.ID), indexKey(idxName, "dana whitfield", r.ID), indexKey(idxPlaced, string(timeKey(at)), r.ID)} {
			if err := tx.Bucket(bucketIndex).Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketSettings).Put(keySchema, []byte("4"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if list, _, _ := db.ListOrders(ctx, host.OrderFilter{UpdatedAfter: at}); len(list) != 0 {
		t.Fatalf("the schema 4 file still has the entry: %v", list)
	}
	db.Close()
	if db, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		after time.Time
		want  int
	}{{at, 1}, {later, 1}, {later.Add(time.Second), 0}} {
		if list, _, err := db.ListOrders(ctx, host.OrderFilter{UpdatedAfter: tc.after}); err != nil || len(list) != tc.want {
			t.Errorf("updated_after %s: %d orders (%v), want %d", tc.after, len(list), err, tc.want)
		}
	}
	for _, f := range []host.OrderFilter{{CustomerEmail: "dana@example.com"}, {CustomerName: "dana whitfield"}, {Sort: host.SortPlacedAt}} {
		if list, _, err := db.ListOrders(ctx, f); err != nil || len(list) != 1 {
			t.Errorf("%+v: %d orders (%v), want the migrated one", f, len(list), err)
		}
	}
	if f, err := db.Facts(ctx, host.FactsQuery{CustomerEmail: "dana@example.com"}); err != nil || f.CustomerOrders != 1 {
		t.Errorf("the customer's orders = %d (%v), want 1", f.CustomerOrders, err)
	}
}
