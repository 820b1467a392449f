package bolt

import (
	"context"
	"testing"
	"time"

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
	r := &host.Record{Order: sdk.Order{ID: "01JDRK0000000000000000000A", ChannelID: "shop", ExternalID: "1", PlacedAt: at, Status: sdk.StatusOnHold,
		ImportedAt: &at, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, ShippingAddress: sdk.Address{Country: "US"}}}
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
		t.Fatal(err)
	}
	// Make it a schema 1 file.
	err = db.db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketIndex)
		for _, kind := range []byte{idxSKU, idxFingerprint} {
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
