package host

import (
	"context"
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
	After          string
	Limit          int
}

// NewOrder is one order to store.
type NewOrder struct {
	Record *Record
	// IdempotencyKey, if set, is the client's Idempotency-Key, scoped to the
	// order's channel; RequestHash is the hash of the request body it came
	// with. The same key with a different body is a conflict.
	IdempotencyKey string
	RequestHash    string
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

// OrderStore keeps orders durably. Every write is committed (fsynced)
// before the call returns.
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
	// UpdateOrder applies fn to the stored order in a write transaction and
	// stores the result unless fn returns an error.
	UpdateOrder(ctx context.Context, id string, fn func(*Record) error) (*Record, error)
	// ListOrders returns one page of orders and the cursor of the next page
	// ("" when there is none).
	ListOrders(ctx context.Context, f OrderFilter) ([]*Record, string, error)
}

// ChannelStore keeps channels.
type ChannelStore interface {
	Channel(ctx context.Context, id string) (*Channel, error)
	// EnsureChannel creates the channel unless one with its id exists, and
	// returns the stored one.
	EnsureChannel(ctx context.Context, ch *Channel) (*Channel, error)
	Channels(ctx context.Context) ([]*Channel, error)
	// PutChannel stores a changed channel (it must exist).
	PutChannel(ctx context.Context, ch *Channel) error
	// DeleteChannel removes a channel's configuration, cursor and runs;
	// its orders stay. A channel that API keys are bound to cannot be
	// deleted (ECONFLICT).
	DeleteChannel(ctx context.Context, id string) error
}

// KeyStore keeps API keys (hashes only).
type KeyStore interface {
	CreateKey(ctx context.Context, k *APIKey) error
	// KeyByHash returns the key with the hash, or an EUNAUTHORIZED error.
	KeyByHash(ctx context.Context, hash string) (*APIKey, error)
	Keys(ctx context.Context) ([]*APIKey, error)
	DeleteKey(ctx context.Context, id string) error
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
