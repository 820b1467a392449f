// Package bolt is ordergate's embedded store on bbolt. Every write goes
// through one committer goroutine that commits whatever writes are queued
// in a single transaction as soon as the previous commit ends (group
// commit): an idle writer waits on no timer, and concurrent writers share
// one fsync.
package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/sdk"
)

// FileName is the database file inside the data directory.
const FileName = "ordergate.db"

var (
	bucketOrders   = []byte("orders")         // id -> record JSON
	bucketExternal = []byte("order_external") // channel \x00 external id -> id
	bucketIndex    = []byte("order_index")    // kind \x00 value \x00 id -> nil
	bucketIdem     = []byte("idempotency")    // channel \x00 key -> id \x00 request hash
	bucketChannels = []byte("channels")       // id -> channel JSON
	bucketKeys     = []byte("api_keys")       // hash -> key JSON
	bucketKeyIDs   = []byte("api_key_ids")    // key id -> hash
	bucketUsers    = []byte("users")          // username -> user JSON, with the password hash
	bucketSessions = []byte("sessions")       // token hash -> session JSON
	allBuckets     = [][]byte{bucketOrders, bucketExternal, bucketIndex, bucketIdem, bucketChannels, bucketKeys, bucketKeyIDs, bucketUsers, bucketSessions,
		bucketCatalog, bucketSources, bucketStock, bucketStockBySource, bucketRoutingGroups, bucketRoutingChannels, bucketShipping, bucketSettings, bucketCursors, bucketRuns,
		bucketDestinations, bucketDeliveries, bucketDeliveryIdx, bucketCounts, bucketEvents, bucketEventIDs, bucketRuleHits}
	errStoreClosing = errors.New("store is closing")
)

// maxGroup bounds how many queued writes share one transaction.
const maxGroup = 1024

// DefaultCommitDelay is how long the committer waits for more writes
// before a commit when the commit before had commitSiblings writes or
// more (see SetCommitDelay).
const DefaultCommitDelay = 2 * time.Millisecond

// commitSiblings is how many writes the previous commit must have had for
// the next to wait for more: one writer, or a few, never waits.
const commitSiblings = 4

// DB is the bbolt-backed store. It implements host.OrderStore,
// host.ChannelStore and host.KeyStore.
type DB struct {
	db     *bolt.DB
	log    hclog.Logger
	box    *secrets.Box // seals channel and destination secrets; set by UseSecrets
	writes chan *write
	done   chan struct{}
	// sendMu orders sends on writes before Close closes it: writers hold
	// it for reading while they send, Close for writing while it closes.
	sendMu  sync.RWMutex
	closing bool
	// observer, when set, is told of each commit.
	observer atomic.Pointer[host.CommitObserver]
	// claims are the deliveries DueDeliveries handed out, until when.
	claimsMu sync.Mutex
	claims   map[string]time.Time
	// dueClaims are the orders ClaimDueOrders handed out, until when.
	dueClaims map[string]time.Time
	// facts keeps the configuration values Facts decoded.
	facts factsCache
	// commitDelay is the commit delay in nanoseconds (SetCommitDelay);
	// linger starts one wait of it.
	commitDelay atomic.Int64
	linger      func(time.Duration) (fired <-chan time.Time, stop func() bool)
}

// ObserveCommits implements host.CommitsObserved.
func (d *DB) ObserveCommits(o host.CommitObserver) { d.observer.Store(&o) }

// write is one queued write: fn runs inside the group's transaction. A
// failing fn rolls the group back, and every write of the group is then
// retried in a transaction of its own, so one bad write fails alone.
type write struct {
	fn   func(*bolt.Tx) error
	errc chan error
}

// Open opens (or creates) the database in dir and starts the committer,
// with DefaultCommitDelay.
func Open(dir string, log hclog.Logger) (*DB, error) {
	return open(dir, log, func(d time.Duration) (<-chan time.Time, func() bool) {
		t := time.NewTimer(d)
		return t.C, t.Stop
	})
}

// open is Open with the timer of the commit delay given.
func open(dir string, log hclog.Logger, linger func(time.Duration) (<-chan time.Time, func() bool)) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: the database is locked by another process (is a host running?)", path)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// A file that is up to date is not written to: opening a store to
	// read it (a backtest of a stopped host) leaves it byte-identical.
	current := false
	if err := bdb.View(func(tx *bolt.Tx) error { current = upToDate(tx); return nil }); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !current {
		err = bdb.Update(setUp)
	}
	if err != nil {
		bdb.Close()
		return nil, fmt.Errorf("creating buckets in %s: %w", path, err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	d := &DB{db: bdb, log: log.Named("store"), writes: make(chan *write, maxGroup), done: make(chan struct{}), claims: map[string]time.Time{}, dueClaims: map[string]time.Time{},
		linger: linger}
	d.commitDelay.Store(int64(DefaultCommitDelay))
	go d.commitLoop()
	return d, nil
}

// upToDate reports whether the file has every bucket at schemaVersion.
func upToDate(tx *bolt.Tx) bool {
	for _, b := range allBuckets {
		if tx.Bucket(b) == nil {
			return false
		}
	}
	v := tx.Bucket(bucketSettings).Get(keySchema)
	return v != nil && string(v) == fmt.Sprint(schemaVersion)
}

// setUp creates the buckets a file lacks and migrates it to
// schemaVersion.
func setUp(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return migrate(tx)
}

// schemaVersion is the layout of the buckets; Open upgrades older files.
// 2 added the SKU and fingerprint order indexes. 3 stores new order records
// compressed (record.go); records of older files still read as they are,
// so going to 3 rewrites nothing, but a binary that knows only 2 refuses
// the file instead of failing on every order. 4 replaced the fingerprint
// index by the look-alike index (import order, with values), so the
// duplicate search reads no record, indexed alert deliveries by creation
// and destination, and keeps counts of orders by status and hold reason
// and of the outbox; going to 4 reads every order that is not canceled,
// and every delivery, once. 5 added the change feed (new buckets) and
// the index of orders by when they last changed (updated_after); going to
// 5 reads every order once. 6 indexed orders by customer email and name
// (the customer fact and filters); going to 6 reads every order once. 7
// indexed orders by placed_at and by when they went on hold (the sorted
// queue); going to 7 reads every order once. 8 keeps each order's basic
// view as the value of its status entry, so a list of basic orders (the
// hold queue, view=basic) reads no record; going to 8 reads every order
// once. Buckets that need nothing
// written into them when added (users and sessions, rule hits) are
// created by Open on any file and take no new version.
const schemaVersion = 8

var keySchema = []byte("schema_version")

// migrate brings a database written by an older version up to
// schemaVersion, in the transaction that opens it.
func migrate(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketSettings)
	version := 1
	if v := meta.Get(keySchema); v != nil {
		fmt.Sscan(string(v), &version)
	} else if k, _ := tx.Bucket(bucketOrders).Cursor().First(); k == nil {
		version = schemaVersion // a new database
	}
	if version > schemaVersion {
		return fmt.Errorf("the database has schema version %d; this ordergate knows up to %d (downgrades are not supported)", version, schemaVersion)
	}
	if version < 2 {
		if err := tx.Bucket(bucketOrders).ForEach(func(k, _ []byte) error {
			r, err := getRecord(tx, string(k))
			if err != nil {
				return err
			}
			return putIndexes(tx, r, nil)
		}); err != nil {
			return fmt.Errorf("indexing orders for schema 2: %w", err)
		}
	} else if version < 4 {
		if err := migrateLookAlikes(tx); err != nil {
			return fmt.Errorf("indexing look-alikes for schema 4: %w", err)
		}
	}
	if version >= 2 && version < 8 {
		if err := migrateIndexes(tx, version); err != nil {
			return fmt.Errorf("indexing orders for schema 8: %w", err)
		}
	}
	if version < 4 {
		if err := migrateDeliveryIndex(tx); err != nil {
			return fmt.Errorf("indexing alert deliveries for schema 4: %w", err)
		}
		if err := migrateCounts(tx); err != nil {
			return fmt.Errorf("counting orders and alerts for schema 4: %w", err)
		}
	}
	return meta.Put(keySchema, []byte(fmt.Sprint(schemaVersion)))
}

// migrateIndexes adds the index entries a file of schema version lacks:
// by last change (5), by customer (6), by placed and held time (7), and
// the basic view in the status entry (8).
func migrateIndexes(tx *bolt.Tx, version int) error {
	idx := tx.Bucket(bucketIndex)
	idx.FillPercent = indexFillPercent
	return tx.Bucket(bucketOrders).ForEach(func(k, _ []byte) error {
		r, err := getRecord(tx, string(k))
		if err != nil {
			return err
		}
		var entries []indexEntry
		if u := lastChanged(r); u != nil && version < 5 {
			entries = append(entries, indexEntry{key: indexKey(idxUpdated, string(timeKey(*u)), r.ID)})
		}
		if version < 6 {
			if e := host.NormalizeEmail(r.Customer.Email); e != "" {
				entries = append(entries, indexEntry{key: indexKey(idxEmail, e, r.ID)})
			}
			if n := host.NormalizeName(r.Customer.Name); n != "" {
				entries = append(entries, indexEntry{key: indexKey(idxName, n, r.ID)})
			}
		}
		if version < 7 {
			entries = append(entries, sortEntries(r)...)
		}
		basic, err := marshalRecord(r.Basic())
		if err != nil {
			return err
		}
		entries = append(entries, indexEntry{key: indexKey(idxStatus, string(r.Status), r.ID), value: basic})
		for _, e := range entries {
			if err := idx.Put(e.key, e.value); err != nil {
				return err
			}
		}
		return nil
	})
}

// migrateLookAlikes replaces each entry of the schema 3 fingerprint index
// by the order's look-alike entry.
func migrateLookAlikes(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketIndex)
	prefix := []byte{idxFingerprintV3, 0}
	var old [][]byte
	c := idx.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		id := string(k[bytes.LastIndexByte(k, 0)+1:])
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		if err := idx.Delete(k); err != nil {
			return err
		}
		if r.Status != sdk.StatusCanceled {
			if err := idx.Put(indexKey(idxLookAlike, host.Fingerprint(&r.Order), r.ID), lookAlikeValue(r)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Path returns the database file's path.
func (d *DB) Path() string { return d.db.Path() }

// Close stops the committer once queued writes are committed, then closes
// the file. Writes asked for after Close began fail with errStoreClosing.
func (d *DB) Close() error {
	d.sendMu.Lock()
	if d.closing {
		d.sendMu.Unlock()
		<-d.done
		return nil
	}
	d.closing = true
	// No writer is sending now (they hold sendMu for reading while they
	// send), so the channel closes safely; the committer drains it.
	close(d.writes)
	d.sendMu.Unlock()
	<-d.done
	return d.db.Close()
}

// update queues fn and waits until the transaction it ran in is committed.
//
// fn may fail with a domain error (a *host.Error: not found, a conflict,
// invalid input) only before it writes anything: such an error fails fn's
// write alone, and the other writes of its group commit. Any other error
// rolls the group back, and each of its writes is tried again alone.
func (d *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	return d.updateQueued(ctx, fn, nil)
}

// updateQueued is update that calls queued, when set, once the write has
// its place in the queue: writes queued after it run after it.
func (d *DB) updateQueued(ctx context.Context, fn func(*bolt.Tx) error, queued func()) error {
	w := &write{fn: fn, errc: make(chan error, 1)}
	d.sendMu.RLock()
	if d.closing {
		d.sendMu.RUnlock()
		return errStoreClosing
	}
	select {
	case d.writes <- w:
	case <-ctx.Done():
		d.sendMu.RUnlock()
		return ctx.Err()
	}
	d.sendMu.RUnlock()
	if queued != nil {
		queued()
	}
	// Once queued, the write is committed or failed; wait for the outcome
	// even if ctx ends, so the caller never reports a write it cannot vouch for.
	return <-w.errc
}

// SetCommitDelay sets how long the committer waits for more writes before
// a commit, when the commit before had commitSiblings writes or more: a
// group commit (as PostgreSQL's commit_delay). Each commit writes its
// pages and waits for fdatasync; under many concurrent writers a commit
// of five writes costs about what one of fifteen does, so waiting a
// little for more takes more orders per second at a lower tail latency.
// A lone writer, or a few, never waits. 0 never waits.
func (d *DB) SetCommitDelay(delay time.Duration) { d.commitDelay.Store(int64(max(delay, 0))) }

func (d *DB) commitLoop() {
	defer close(d.done)
	group := make([]*write, 0, maxGroup)
	last := 0
	for w := range d.writes {
		group = d.gather(append(group[:0], w), nil)
		if delay := time.Duration(d.commitDelay.Load()); delay > 0 && last >= commitSiblings && len(group) < maxGroup {
			fired, stop := d.linger(delay)
			group = d.gather(group, fired)
			stop()
		}
		last = len(group)
		d.commit(group)
	}
}

// gather adds queued writes to group, up to maxGroup: those queued now
// when until is nil, else those that come before until fires.
func (d *DB) gather(group []*write, until <-chan time.Time) []*write {
	for len(group) < maxGroup {
		if until == nil {
			select {
			case w, ok := <-d.writes:
				if !ok {
					return group
				}
				group = append(group, w)
			default:
				return group
			}
			continue
		}
		select {
		case w, ok := <-d.writes:
			if !ok {
				return group
			}
			group = append(group, w)
		case <-until:
			return group
		}
	}
	return group
}

// isDomainError reports whether a write failed for a reason of the domain
// (see update), which fails that write alone.
func isDomainError(err error) bool {
	var e *host.Error
	return errors.As(err, &e)
}

func (d *DB) commit(group []*write) {
	start := time.Now()
	outcomes := make([]error, len(group))
	err := d.db.Update(func(tx *bolt.Tx) error {
		for i, w := range group {
			if err := w.fn(tx); err != nil {
				if !isDomainError(err) {
					return err
				}
				outcomes[i] = err
			}
		}
		return nil
	})
	// The commit is observed before any write of it is acknowledged, so
	// whoever was answered sees it counted.
	if o := d.observer.Load(); o != nil {
		(*o).ObserveCommit(len(group), time.Since(start))
	}
	switch {
	case err == nil:
		for i, w := range group {
			w.errc <- outcomes[i]
		}
	case len(group) == 1:
		group[0].errc <- err
	default:
		// A fault of the store or of one write's data: each write alone, so
		// that it fails alone. A domain error rolls its own transaction back.
		for _, w := range group {
			w.errc <- d.db.Update(w.fn)
		}
	}
}

// view runs fn in a read-only transaction.
func (d *DB) view(fn func(*bolt.Tx) error) error { return d.db.View(fn) }

// Backup writes a consistent copy of the database to w while the host
// serves: bbolt's hot backup, one read transaction, so writers go on. It
// returns the copy's length.
func (d *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backing up the database: %w", err)
	}
	return n, nil
}

// Verify opens the database file at path read-only and runs bbolt's
// consistency check and ordergate's schema check on it: what restore does
// before it puts a backup in place.
func Verify(path string) error {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer bdb.Close()
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return bdb.View(func(tx *bolt.Tx) error {
		// A truncated file (a copy cut short) must be refused before the
		// check reads pages past its end, which the memory map would
		// answer with SIGBUS rather than an error.
		if tx.Size() > info.Size() {
			return fmt.Errorf("%s is damaged: it is truncated (%d bytes of the %d its pages need)", path, info.Size(), tx.Size())
		}
		for err := range tx.Check() {
			return fmt.Errorf("%s is damaged: %w", path, err)
		}
		if tx.Bucket(bucketOrders) == nil || tx.Bucket(bucketSettings) == nil {
			return fmt.Errorf("%s is not an ordergate database", path)
		}
		if v := tx.Bucket(bucketSettings).Get(keySchema); v != nil {
			var version int
			fmt.Sscan(string(v), &version)
			if version > schemaVersion {
				return fmt.Errorf("%s has schema version %d; this ordergate knows up to %d", path, version, schemaVersion)
			}
		}
		return nil
	})
}

// lastBefore positions c on the last key below key and returns it (nil
// when there is none): where a walk newest first starts.
func lastBefore(c *bolt.Cursor, key []byte) (k, v []byte) {
	if k, _ = c.Seek(key); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// DB is the whole store contract.
var _ host.Store = (*DB)(nil)
