package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/sdk"
)

// TestMigrations: hosts opening a new database at once take turns, so
// each finds the schema whole; a database whose schema is newer than the
// binary is refused, naming both versions; the password reaches no
// error.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t).NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(ctx, dsn, nil)
			if err == nil {
				_, err = db.Counts(ctx)
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("host %d opening a new database with 4 others: %v", i, err)
		}
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version int
	if err := conn.QueryRow(ctx, `SELECT version FROM ordergate_schema`).Scan(&version); err != nil || version != postgres.SchemaVersion() {
		t.Fatalf("schema version %d (%v), want %d", version, err, postgres.SchemaVersion())
	}
	if _, err := conn.Exec(ctx, `UPDATE ordergate_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, dsn, nil)
	if err == nil || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "knows up to") {
		t.Errorf("opening a newer schema: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), pgtest.Password) {
		t.Errorf("the error shows the password: %v", err)
	}
	bad := strings.Replace(dsn, pgtest.Password, "wrong-"+pgtest.Password, 1)
	if _, err := postgres.Open(ctx, bad, nil); err == nil || strings.Contains(err.Error(), pgtest.Password) {
		t.Errorf("opening with a wrong password: %v (it must fail without showing the password)", err)
	}
}

// TestRedact: the DSN's password, in the URL or as a parameter, is never
// shown.
func TestRedact(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://og:s3cret@db:5432/og?sslmode=verify-full", "postgres://og:xxxxx@db:5432/og?sslmode=verify-full"},
		{"postgres://og@db/og?password=s3cret&sslmode=disable", "postgres://og@db/og?password=xxxxx&sslmode=disable"},
		{"postgresql://db/og", "postgresql://db/og"},
	} {
		if got := postgres.Redact(tc.dsn); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

// TestMigrationsBackfill: a database at schema 3 (before updated_at, the
// customer labels and held_at) gets them for the orders it has, and the
// tables of later migrations (users and sessions, rule hits).
func TestMigrationsBackfill(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	db2, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	r := &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), ChannelID: "shop", ExternalID: "1",
		Number: "#1", PlacedAt: at, Currency: "USD", Status: sdk.StatusOpen, ImportedAt: &at, UpdatedAt: &later,
		Customer: sdk.Customer{Name: "Dana  Whitfield", Email: " Dana@Example.com"}, ShippingAddress: sdk.Address{Country: "US"},
		LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 1, UnitPrice: "1.00"}}, Totals: sdk.Totals{Total: "1.00"}}}
	held := *r
	held.ID, held.ExternalID, held.Customer = ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), "2", sdk.Customer{}
	held.Decide(&sdk.Decision{EvaluatedAt: later, Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r"}}}, "workflow", sdk.EventDecision)
	if _, err := db2.CreateOrders(ctx, []host.NewOrder{{Record: r}, {Record: &held}}); err != nil {
		t.Fatal(err)
	}
	db2.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{`ALTER TABLE orders DROP COLUMN updated_at`, `ALTER TABLE orders DROP COLUMN held_at`, `DROP INDEX orders_by_placed`, `ALTER TABLE events DROP COLUMN at`, `ALTER TABLE event_fanout DROP COLUMN pruned_xid, DROP COLUMN pruned_seq`, `DELETE FROM order_labels WHERE kind IN ('e', 'm')`, `DROP TABLE sessions, users`, `DROP TABLE rule_hits`, `UPDATE ordergate_schema SET version = 3`} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	db3, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	for _, f := range []host.OrderFilter{{UpdatedAfter: later, Status: "open"}, {CustomerEmail: "dana@example.com"}, {CustomerName: "dana whitfield"},
		{Sort: host.SortHeldAt}, {HeldBefore: later.Add(time.Second)}} {
		if list, _, err := db3.ListOrders(ctx, f); err != nil || len(list) != 1 {
			t.Errorf("%+v: %d orders (%v), want the one from before the migrations", f, len(list), err)
		}
	}
	if list, _, _ := db3.ListOrders(ctx, host.OrderFilter{UpdatedAfter: later.Add(time.Second)}); len(list) != 0 {
		t.Errorf("updated_after a second later lists %d", len(list))
	}
	if f, err := db3.Facts(ctx, host.FactsQuery{CustomerEmail: "dana@example.com"}); err != nil || f.CustomerOrders != 1 {
		t.Errorf("the customer's orders = %d (%v), want 1", f.CustomerOrders, err)
	}
	if err := db3.CreateUser(ctx, &host.User{Username: "dana", Role: host.RoleAdmin, PasswordHash: "h", CreatedAt: at}); err != nil {
		t.Errorf("CreateUser after the migrations: %v", err)
	}
	if err := db3.AddRuleHits(ctx, []host.RuleHit{{Revision: "r1", Package: "review", Output: "tags", Rule: "vip", Hour: at, Count: 1}}); err != nil {
		t.Errorf("AddRuleHits after the migrations: %v", err)
	}
}
