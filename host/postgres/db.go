// Package postgres is ordergate's store on PostgreSQL, for production:
// several hosts share one (replicated) database. It implements the same
// contract as host/bolt and passes the same suite (host/storetest).
//
// Plain SQL through pgx's pool, no ORM. Each write is one transaction,
// and the writes of an intake call or an import page travel in as few
// round trips as their logic allows (pgx batches). Records are JSON
// (jsonb), with the columns the API filters on beside them.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
)

// DB is the PostgreSQL-backed store.
type DB struct {
	pool  *pgxpool.Pool
	q     pool // the pool, its errors of reaching the database made EUNAVAILABLE
	log   hclog.Logger
	box   *secrets.Box // seals channel and destination secrets; set by UseSecrets
	dsn   string       // redacted
	trips *roundTrips
	// groups commits CreateOrders calls that arrive together (group.go).
	groups *grouper
}

// IsDSN reports whether a --store value names a PostgreSQL database.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the DSN with its password replaced, for logs and
// messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a PostgreSQL DSN that does not parse)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Open connects to the database, applies the schema migrations it lacks
// (one host at a time) and returns the store. The password never appears
// in its errors.
func Open(ctx context.Context, dsn string, log hclog.Logger) (*DB, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	redacted := Redact(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("the store %s is not a valid PostgreSQL DSN", redacted)
	}
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	cfg.MaxConnIdleTime = time.Minute
	// A host stopped inside a transaction (a paused VM, SIGSTOP) would
	// hold its locks, such as a channel lease's FOR SHARE and the
	// look-alikes' advisory locks, for as long as it stays stopped, and
	// no other host could take the lease over. The server ends such a
	// transaction; the host's write then fails and commits nothing.
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.Itoa(int(idleInTransactionTimeout / time.Millisecond))
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	pgPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", redacted, scrub(err, dsn))
	}
	d := &DB{pool: pgPool, q: pool{pgPool}, log: log.Named("store"), dsn: redacted, trips: trips}
	if err := d.migrate(ctx); err != nil {
		pgPool.Close()
		return nil, fmt.Errorf("preparing the database %s: %w", redacted, scrub(err, dsn))
	}
	d.startGroups()
	return d, nil
}

// scrub removes the DSN's password from an error's text (pgx's errors name
// the host and user, never the password; this makes sure).
func scrub(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}

// String is the store's DSN, redacted.
func (d *DB) String() string { return d.dsn }

// Close closes the pool's connections.
func (d *DB) Close() error {
	d.closeGroups()
	d.pool.Close()
	return nil
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in order: files named
// NNNN_what.sql, each one version.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: the name must start with its version", e.Name())
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: n, name: e.Name(), sql: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3 and so on, with no gap", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int {
	ms, _ := migrations()
	return len(ms)
}

// migrate applies the migrations the database lacks. Hosts starting at
// once take turns on the row lock of ordergate_schema's one row (a lock
// held by a transaction, so it works behind PgBouncer in transaction
// mode, unlike a session's advisory lock): the first applies them, the
// others then find nothing to do. A database whose schema is newer than
// this binary is refused.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	// Hosts creating the table at once would collide in the catalog
	// (CREATE TABLE IF NOT EXISTS is not safe against itself): they take
	// turns on a lock held by the transaction, which PgBouncer in
	// transaction mode keeps working.
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockSchema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS ordergate_schema (
			id int PRIMARY KEY CHECK (id = 1), version int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`)
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO ordergate_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("creating the schema table: %w", err)
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var version int
		if err := tx.QueryRow(ctx, `SELECT version FROM ordergate_schema WHERE id = 1 FOR UPDATE`).Scan(&version); err != nil {
			return fmt.Errorf("locking the schema version: %w", err)
		}
		if version > len(ms) {
			return fmt.Errorf("the database has schema version %d; this ordergate knows up to %d (downgrades are not supported: run a newer ordergate)", version, len(ms))
		}
		for _, m := range ms[version:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying migration %s: %w", m.name, err)
			}
			d.log.Info("applied schema migration", "migration", m.name)
		}
		if version == len(ms) {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE ordergate_schema SET version = $1, updated_at = now() WHERE id = 1`, len(ms))
		return err
	})
}

// isCode reports whether err is a PostgreSQL error with one of the codes.
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// Codes of the errors a transaction may meet when another commits the
// same key or row first: tried again.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
)

// inTx runs fn in a transaction and commits it. A transaction that lost a
// race with another writer (a unique key taken meanwhile, a deadlock) is
// run again, up to three times; fn must only compute and write.
func (d *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, d.pool, fn)
		if !isCode(err, codeUniqueViolation, codeSerializationFailure, codeDeadlock) {
			return unavailable(err)
		}
	}
	return err
}

// lockKeys are the keys of the transaction-level advisory locks that
// order writes which check what other writes could change meanwhile.
const (
	// lockConfig orders writes of the configuration that refer to each
	// other (routing groups and their sources and channels, deleting a
	// source or a channel, binding a key to a channel).
	lockConfig int64 = 0x6f72646572676174 // "ordergat"
	// lockSchema orders the creation of the schema table.
	lockSchema int64 = 0x6f72676174656d67 // "orgatemg"
)

// lock takes a transaction-level advisory lock, released at commit.
func lock(ctx context.Context, tx pgx.Tx, key int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}

// notFound turns pgx.ErrNoRows into the domain's ENOTFOUND.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return host.Errorf(host.ENOTFOUND, format, args...)
	}
	return err
}

// Bounds of the intake path's calls, so that an intake call answers 503
// within 10 seconds of the database going away, however it went (a
// refused connection fails at once; a silent network does not).
const (
	factsTimeout = 3 * time.Second
	writeTimeout = 6 * time.Second
	// idleInTransactionTimeout ends a transaction whose host has sent
	// nothing for this long (the intake's are idle for microseconds
	// between their round trips).
	idleInTransactionTimeout = 5 * time.Second
)

// DB is the whole store contract.
var _ host.Store = (*DB)(nil)
