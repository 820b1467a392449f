package bolt

import (
	"context"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// heldRecord is an order on hold, imported at.
func heldRecord(at time.Time, external string) *host.Record {
	return &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), ChannelID: "shop", ExternalID: external,
		Number: "#" + external, PlacedAt: at, Status: sdk.StatusOnHold, ImportedAt: &at, Customer: sdk.Customer{Name: "Dana Whitfield", Email: "dana@example.com"},
		Holds:     []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "review_quantity", Message: "quantity 5 is over 4", HeldAt: &at}},
		LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 5, UnitPrice: "1.00"}}, ShippingAddress: sdk.Address{Address1: "1 Main St", Country: "US"}}}
}

// TestBasicListReadsNoRecord lists basic orders with their records gone
// from the orders bucket: every filter still lists them, from the status
// entries, while a list of whole orders cannot.
func TestBasicListReadsNoRecord(t *testing.T) {
	ctx := context.Background()
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	r := heldRecord(at, "1203")
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
		t.Fatal(err)
	}
	err = db.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOrders).Delete([]byte(r.ID)) })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []host.OrderFilter{
		{Status: "on_hold"}, {HoldReason: sdk.HoldCustomRule}, {ChannelID: "shop"}, {SKU: "V789"}, {Number: "#1203"},
		{CustomerEmail: "dana@example.com"}, {Sort: host.SortHeldAtDesc}, {HeldBefore: at.Add(time.Hour)}, {Status: "on_hold", SKU: "V789"},
	} {
		f.Basic = true
		page, _, err := db.ListOrders(ctx, f)
		if err != nil || len(page) != 1 {
			t.Errorf("%+v: %d orders, %v; want the order from its status entry", f, len(page), err)
			continue
		}
		if got := page[0]; got.ID != r.ID || got.Number != "#1203" || len(got.Holds) != 1 || got.Customer.Email != "dana@example.com" || got.LineItems != nil {
			t.Errorf("%+v: listed %+v, want the basic view of #1203", f, got.Order)
		}
	}
	if _, _, err := db.ListOrders(ctx, host.OrderFilter{Status: "on_hold"}); err == nil {
		t.Error("a list of whole orders found the deleted record")
	}
}

// TestMigrateToSchema8 opens a schema 7 file, whose status entries have
// no value, and lists basic orders from the entries the upgrade wrote.
func TestMigrateToSchema8(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	r := heldRecord(at, "1203")
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
		t.Fatal(err)
	}
	key := indexKey(idxStatus, string(sdk.StatusOnHold), r.ID)
	err = db.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketIndex).Put(key, nil); err != nil {
			return err
		}
		return tx.Bucket(bucketSettings).Put(keySchema, []byte("7"))
	})
	if err != nil {
		t.Fatal(err)
	}
	// Without the value a basic list reads the record.
	if page, _, err := db.ListOrders(ctx, host.OrderFilter{Status: "on_hold", Basic: true}); err != nil || len(page) != 1 || page[0].LineItems == nil {
		t.Fatalf("the schema 7 file listed %v, %v; want the whole record", page, err)
	}
	db.Close()
	if db, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIndex).Get(key)
		if len(v) == 0 {
			t.Fatal("the upgrade left the status entry without the basic view")
		}
		got, err := unmarshalRecord(r.ID, v)
		if err != nil {
			return err
		}
		if got.Number != "#1203" || len(got.Holds) != 1 || got.LineItems != nil {
			t.Errorf("the status entry holds %+v, want the basic view of #1203", got.Order)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
