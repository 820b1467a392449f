package host

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// OrderFilter selects orders for listing. Empty fields do not filter.
// Results come newest first; After is the cursor (the last id of the
// previous page).
type OrderFilter struct {
	Status         string
	Tag            string
	HoldReason     string
	ChannelID      string
	ExternalID     string
	Number         string
	SKU            string
	ImportedAfter  time.Time // inclusive
	ImportedBefore time.Time // exclusive
	// DueBefore selects orders whose next timed hold (Record.DueAt) falls
	// due before it (exclusive).
	DueBefore time.Time
	// UpdatedAfter selects orders changed at or after it (updated_at,
	// or imported_at for an order never changed since).
	UpdatedAfter time.Time
	// CustomerEmail and CustomerName select a customer's orders, compared
	// as NormalizeEmail and NormalizeName make them.
	CustomerEmail string
	CustomerName  string
	// HeldAfter and HeldBefore select orders on hold by when they went on
	// hold (Record.HeldAt): at or after HeldAfter, before HeldBefore.
	HeldAfter, HeldBefore time.Time
	// Sort orders the list by a time instead of newest import first: one
	// of the Sort* values. Sorted by held_at, only orders on hold are
	// listed. The cursor of a sorted list is a SortCursor.
	Sort  string
	After string
	Limit int
	// Basic asks for each order's basic view (Record.Basic): a store may
	// then return only those fields, and read no more than it needs to
	// for them. A store that returns whole records is correct too; the
	// caller applies Basic.
	Basic bool
}

// Sort orders of OrderFilter.Sort: ascending (oldest first) or, with a
// leading "-", descending.
const (
	SortPlacedAt     = "placed_at"
	SortPlacedAtDesc = "-placed_at"
	SortHeldAt       = "held_at"
	SortHeldAtDesc   = "-held_at"
)

// SortCursor is where a sorted list stands: the time and id of the last
// order of a page, written "<Unix nanoseconds>.<id>".
type SortCursor struct {
	At time.Time
	ID string
}

func (c SortCursor) String() string { return strconv.FormatInt(c.At.UnixNano(), 10) + "." + c.ID }

// ParseSortCursor reads the cursor of a sorted list; EINVALID names
// the cursor parameter.
func ParseSortCursor(s string) (SortCursor, error) {
	ns, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return SortCursor{}, InvalidFields("the cursor is not valid", []sdk.FieldError{{Field: "cursor", Detail: "is not a cursor of this sorted list: pass the next_cursor it gave"}})
	}
	return SortCursor{At: time.Unix(0, n).UTC(), ID: id}, nil
}

// SortTime is the time r sorts by under sort ("" for none), nil when r
// has none (an order not on hold, by held_at).
func SortTime(r *Record, sort string) *time.Time {
	switch strings.TrimPrefix(sort, "-") {
	case SortPlacedAt:
		return &r.PlacedAt
	case SortHeldAt:
		return r.HeldAt()
	}
	return nil
}

// NewOrder is one order to store.
type NewOrder struct {
	Record *Record
	// IdempotencyKey, if set, is the client's Idempotency-Key, scoped to the
	// order's channel; RequestHash is the hash of the request body it came
	// with. The same key with a different body is a conflict.
	IdempotencyKey string
	RequestHash    string
	// Copied marks an order copied from another store (storecopy): it is
	// stored as it is, without events, since its changes happened there.
	Copied bool
	// LookAlikes, when set, has the store refuse the order (the result's
	// Err is ErrLookAlikeRaced) if a look-alike was committed after the
	// order's facts were read.
	LookAlikes *LookAlikeCheck
}

// CreateResult is the outcome of storing one NewOrder.
type CreateResult struct {
	// Record is the stored order: the new one, or the one that already
	// existed for the same channel and external id (or idempotency key).
	Record *Record
	// Created is false when an existing order was returned.
	Created bool
	// Err is a per-order error (an idempotency key conflict).
	Err error
}

// The store contract. Every part of the host reads and writes through
// these interfaces, and every store implementation (host/bolt) passes the
// contract suite in host/storetest. The rules for all of them:
//
//   - Every write is committed (fsynced) before the call returns.
//   - Update methods apply fn to the stored value inside one write
//     transaction and store the result unless fn returns an error, which
//     is then returned; no read-modify-write crosses a transaction
//     boundary. fn may run more than once (a retried transaction): it must
//     only compute.
//   - Domain errors are *Error values (ENOTFOUND, ECONFLICT, EINVALID); a
//     domain error fails one write, never a write committed with it.
//   - The store sets no time of the domain: callers (the services) set
//     created_at and updated_at from their clock.

// Store is every part of the contract: what a host runs on.
type Store interface {
	OrderStore
	ChannelStore
	RunStore
	KeyStore
	CatalogStore
	AlertStore
	EventStore
	CountStore
	UserStore
	RuleHitStore
}

// OrderStore keeps orders.
type OrderStore interface {
	// CreateOrders stores new orders, each unless its channel already has an
	// order with the same external id. Concurrent calls are committed
	// together (group commit). The error is for failures of the store.
	CreateOrders(ctx context.Context, orders []NewOrder) ([]CreateResult, error)
	// CommitPage stores the new orders of an import page as CreateOrders
	// does and, in the same transaction, the page's cursor and its import
	// run (page.Run given the results), so that a crash leaves the orders,
	// the cursor and the run's counters agreeing. orders may be empty.
	// When an order is refused with ErrLookAlikeRaced, the cursor and run
	// are not stored: the caller decides that order again and commits the
	// page with it.
	CommitPage(ctx context.Context, orders []NewOrder, page PageCommit) ([]CreateResult, error)
	// Order returns one order, or an ENOTFOUND error.
	Order(ctx context.Context, id string) (*Record, error)
	// OrdersByExternalID returns the stored orders of the channel with the
	// external ids, by external id; ids not stored are absent.
	OrdersByExternalID(ctx context.Context, channelID string, externalIDs []string) (map[string]*Record, error)
	// UpdateOrder updates one order atomically (see the contract).
	UpdateOrder(ctx context.Context, id string, fn func(*Record) error) (*Record, error)
	// ListOrders returns one page of orders and the cursor of the next page
	// ("" when there is none).
	ListOrders(ctx context.Context, f OrderFilter) ([]*Record, string, error)
	// ClaimDueOrders returns the ids of orders whose next timed hold
	// (Record.DueAt) is due at at, earliest first, at most limit, and
	// claims each for ClaimTimeout: no other call (another host's timer)
	// returns it meanwhile. A claim of an order whose hold was not acted
	// on lapses, so it is returned again after ClaimTimeout.
	ClaimDueOrders(ctx context.Context, at time.Time, limit int) ([]string, error)
}

// ChannelStore keeps channels. Their secret configuration values are
// sealed at rest by the store.
type ChannelStore interface {
	Channel(ctx context.Context, id string) (*Channel, error)
	Channels(ctx context.Context) ([]*Channel, error)
	// CreateChannel stores a new channel; ECONFLICT when the id exists.
	CreateChannel(ctx context.Context, ch *Channel) error
	// EnsureChannel creates the channel unless one with its id exists, and
	// returns the stored one.
	EnsureChannel(ctx context.Context, ch *Channel) (*Channel, error)
	// UpdateChannel updates one channel atomically (see the contract).
	UpdateChannel(ctx context.Context, id string, fn func(*Channel) error) (*Channel, error)
	// DeleteChannel removes a channel's configuration, cursor, runs,
	// shipping mappings and routing group membership; its orders stay. A
	// channel that API keys are bound to cannot be deleted (ECONFLICT).
	DeleteChannel(ctx context.Context, id string) error
}

// RunStore keeps channels' cursors and import runs.
type RunStore interface {
	// Cursor returns the channel's saved cursor ("" before any import).
	Cursor(ctx context.Context, channelID string) (string, error)
	// SaveCursor stores the cursor durably; call it only once the orders
	// before it are stored.
	SaveCursor(ctx context.Context, channelID, cursor string) error
	// PutRun creates or updates a run; old runs beyond the newest
	// MaxRunsKept of a channel are dropped.
	PutRun(ctx context.Context, r *Run) error
	// EndRun ends a stored run that is still running: end is given the
	// run as stored and returns it ended. The stored counters are what
	// the run's committed pages counted, which the importing host may not
	// all know of (a commit whose answer it never got). A run already
	// ended is left as it is (the first end stands) and returned; a page
	// committed after its run ended leaves the run as it is.
	EndRun(ctx context.Context, channelID, runID string, end func(stored *Run) *Run) (*Run, error)
	// Runs lists a channel's runs, newest first.
	Runs(ctx context.Context, channelID string, limit int) ([]*Run, error)
}

// KeyStore keeps API keys (hashes only).
type KeyStore interface {
	CreateKey(ctx context.Context, k *APIKey) error
	// KeyByHash returns the key with the hash, or an EUNAUTHORIZED error.
	KeyByHash(ctx context.Context, hash string) (*APIKey, error)
	Keys(ctx context.Context) ([]*APIKey, error)
	DeleteKey(ctx context.Context, id string) error
}

// CatalogStore keeps the catalog, sources, stock levels, routing groups,
// shipping mappings and settings, and answers the workflow's questions
// about them from one consistent snapshot.
type CatalogStore interface {
	// PutCatalogItems creates or replaces catalog items by SKU, all or none.
	PutCatalogItems(ctx context.Context, items []*CatalogItem) error
	CatalogItem(ctx context.Context, sku string) (*CatalogItem, error)
	CatalogItems(ctx context.Context, after string, limit int) ([]*CatalogItem, string, error)
	DeleteCatalogItem(ctx context.Context, sku string) error

	// CreateSource stores a new source; ECONFLICT when the id exists.
	CreateSource(ctx context.Context, s *Source) error
	// UpdateSource updates one source atomically (see the contract).
	UpdateSource(ctx context.Context, id string, fn func(*Source) error) (*Source, error)
	Source(ctx context.Context, id string) (*Source, error)
	Sources(ctx context.Context) ([]*Source, error)
	// DeleteSource removes a source and its stock; a source a routing group
	// lists cannot be deleted (ECONFLICT).
	DeleteSource(ctx context.Context, id string) error

	// SetInventory applies stock levels atomically: all or nothing; every
	// source named must exist (EINVALID).
	SetInventory(ctx context.Context, levels []StockLevel, mode InventoryMode, at time.Time) (InventoryResult, error)
	// Inventory lists stock levels, of one source or of one SKU.
	Inventory(ctx context.Context, sourceID, sku string, after string, limit int) ([]StockLevel, string, error)

	// CreateRoutingGroup stores a new routing group and UpdateRoutingGroup
	// changes one atomically (see the contract). Either way its sources
	// and channels must exist, a channel belongs to at most one group,
	// and only one group is the default (EINVALID otherwise).
	CreateRoutingGroup(ctx context.Context, g *RoutingGroup) error
	UpdateRoutingGroup(ctx context.Context, id string, fn func(*RoutingGroup) error) (*RoutingGroup, error)
	RoutingGroup(ctx context.Context, id string) (*RoutingGroup, error)
	RoutingGroups(ctx context.Context) ([]*RoutingGroup, error)
	DeleteRoutingGroup(ctx context.Context, id string) error

	// PutShippingMappings replaces a channel's mappings (the channel must
	// exist).
	PutShippingMappings(ctx context.Context, m *ShippingMappings) error
	ShippingMappings(ctx context.Context, channelID string) (*ShippingMappings, error)

	Settings(ctx context.Context) (Settings, error)
	// UpdateSettings updates the settings atomically (see the contract).
	UpdateSettings(ctx context.Context, fn func(*Settings) error) (Settings, error)

	// Facts reads what the built-in hold reasons need to know about an
	// order, from one snapshot.
	Facts(ctx context.Context, q FactsQuery) (*Facts, error)
}

// AlertStore keeps alert destinations and deliveries. Deliveries of rules'
// alerts are written by the order store in the transaction that stores
// the decision (a transactional outbox).
type AlertStore interface {
	// CreateDestination stores a new destination; ECONFLICT when the name
	// exists. Its secrets are sealed at rest by the store.
	CreateDestination(ctx context.Context, d *Destination) error
	// UpdateDestination updates one destination atomically (see the
	// contract).
	UpdateDestination(ctx context.Context, name string, fn func(*Destination) error) (*Destination, error)
	Destination(ctx context.Context, name string) (*Destination, error)
	Destinations(ctx context.Context) ([]*Destination, error)
	DeleteDestination(ctx context.Context, name string) error

	// Enqueue stores new deliveries; those whose id exists are skipped.
	Enqueue(ctx context.Context, ds ...*Delivery) error
	// DueDeliveries returns up to limit pending deliveries due at now,
	// oldest first, and claims them for ClaimTimeout: until a delivery's
	// new state is stored (PutDelivery) or its claim runs out, no call
	// returns it again, on this host or another sharing the store. A
	// crashed host's claims run out and its deliveries are sent again (at
	// least once).
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)
	// PutDelivery stores a delivery's new state (and ends its claim).
	PutDelivery(ctx context.Context, d *Delivery) error
	// PutDeliveries stores the new state of several deliveries at once.
	PutDeliveries(ctx context.Context, ds []*Delivery) error
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries lists deliveries of a status ("" for all), newest first.
	Deliveries(ctx context.Context, status string, limit int) ([]*Delivery, error)
	// ListDeliveries returns one page of the deliveries f selects, newest
	// first, and the cursor of the next page ("" when there is none).
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
}

// Counts are counts the store keeps up to date as orders and deliveries
// change, so reading them costs the same however much is stored: what a
// hold queue's badges and the metrics show.
type Counts struct {
	// Orders counts orders by status.
	Orders map[sdk.Status]int64
	// Held counts held orders by hold reason (an order held for two
	// reasons counts under both).
	Held map[string]int64
	// Outbox counts alert deliveries not delivered, by destination and
	// state (OutboxPending, OutboxRetrying, OutboxDead).
	Outbox map[string]map[string]int64
}

// CountStore reads the store's counts.
type CountStore interface {
	Counts(ctx context.Context) (Counts, error)
}

// CommitObserver is told of each commit of a store: how many writes it
// grouped and how long it took (the metrics implement it).
type CommitObserver interface {
	ObserveCommit(writes int, took time.Duration)
}

// CommitsObserved is a store that reports its commits.
type CommitsObserved interface {
	ObserveCommits(o CommitObserver)
}
