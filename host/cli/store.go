package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/secrets"
)

// storeUsage is the help of --store, the same on every command.
const storeUsage = "the store: postgres://user:pass@host:5432/db?sslmode=verify-full for PostgreSQL, or bolt:DIR (default: bbolt in --data)"

// openedStore is a store a command opened: the contract, and what the
// command does with its backend.
type openedStore struct {
	host.Store
	// backup writes a consistent copy (nil: the database's own tools back
	// it up).
	backup func(w io.Writer) (int64, error)
	// name says which store it is, without secrets.
	name       string
	useSecrets func(ctx context.Context, box *secrets.Box) error
	close      func() error
	// setCommitDelay, when set, sets the store's group-commit delay.
	setCommitDelay func(time.Duration)
}

// openStore opens the store --store names: a PostgreSQL DSN, bolt:DIR, or
// (empty) bbolt in the data directory.
func openStore(ctx context.Context, store, data string, log hclog.Logger) (*openedStore, error) {
	switch {
	case postgres.IsDSN(store):
		db, err := postgres.Open(ctx, store, log)
		if err != nil {
			return nil, err
		}
		return &openedStore{Store: db, name: "postgres " + db.String(), useSecrets: db.UseSecrets, close: db.Close}, nil
	case store == "" || strings.HasPrefix(store, "bolt:"):
		if dir, ok := strings.CutPrefix(store, "bolt:"); ok {
			data = dir
		}
		db, err := bolt.Open(data, log)
		if err != nil {
			return nil, err
		}
		return &openedStore{Store: db, backup: db.Backup, name: "bolt " + db.Path(), useSecrets: db.UseSecrets, close: db.Close, setCommitDelay: db.SetCommitDelay}, nil
	}
	return nil, fmt.Errorf("--store must be a postgres:// DSN or bolt:DIR, not %q", postgres.Redact(store))
}
