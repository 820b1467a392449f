package postgres_test

import (
	"context"
	"testing"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/host/storetest"
)

// openStore opens a store on a new database of srv, with e2e's test key
// sealing its secrets; it is closed when the test ends.
func openStore(t testing.TB, srv *pgtest.Server) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), srv.NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secrets.Load("", e2e.TestSecretKey)
	if err == nil {
		err = db.UseSecrets(context.Background(), box)
	}
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestContract runs the store contract suite on PostgreSQL.
func TestContract(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) host.Store { return openStore(t, srv) })
}
