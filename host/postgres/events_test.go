package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/sdk"
)

// TestFeedSkipsNoLateCommit holds a transaction that wrote an event open
// while another commits an order's events after it. A reader in between
// must not be given a cursor past the late event: it sees neither until
// the first transaction ends, then both, in (transaction) order. Ordered
// by a sequence alone, the reader would take the cursor past the late
// event and never see it.
func TestFeedSkipsNoLateCommit(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	db, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	box, _ := secrets.Load("", e2e.TestSecretKey)
	if err := db.UseSecrets(ctx, box); err != nil {
		t.Fatal(err)
	}
	order := func(external string) *host.Record {
		now := time.Now().UTC()
		return &host.Record{Order: sdk.Order{ID: ulid.Make().String(), ChannelID: "web", ExternalID: external, Number: "#" + external,
			PlacedAt: now, Currency: "USD", Status: sdk.StatusOpen, ImportedAt: &now, UpdatedAt: &now,
			ShippingAddress: sdk.Address{Country: "US"}, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}},
			Totals: sdk.Totals{Total: "1.00"}, Events: []sdk.Event{{At: now, Type: sdk.EventImported, Actor: "test"}}}}
	}
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: order("1")}}); err != nil {
		t.Fatal(err)
	}
	read := func(after string) ([]string, string) {
		t.Helper()
		evs, next, err := db.Events(ctx, host.EventFilter{After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ev := range evs {
			ids = append(ids, ev.OrderID+ev.ID[:8])
			after = ev.Cursor
		}
		if next != "" {
			after = next
		}
		return ids, after
	}
	first, cursor := read("")
	if len(first) != 1 {
		t.Fatalf("feed = %v, want order 1's import", first)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	late, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Exec(ctx, `INSERT INTO events (id, type, channel_id, data, at) VALUES ('evt_late', 'order.imported', 'web', '{"id": "evt_late", "type": "order.imported", "order_id": "late"}', now())`); err != nil {
		t.Fatal(err)
	}
	second := order("2")
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: second}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(cursor); len(got) != 0 {
		t.Fatalf("while an earlier transaction that wrote an event is open, the feed gave %v: its cursor would pass the late event", got)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := read(cursor)
	if len(got) != 2 || got[0][:4] != "late" || !slices.ContainsFunc(got[1:], func(s string) bool { return len(s) > len(second.ID) && s[:len(second.ID)] == second.ID }) {
		t.Fatalf("after the late commit the feed gave %v, want the late event, then order 2's", got)
	}
}
