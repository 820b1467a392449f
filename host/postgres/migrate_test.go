package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
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
