package host

import (
	"context"
	"time"
)

// Several hosts may share one store (PostgreSQL). Each b2c channel is
// then imported by one host at a time: the host holding the channel's
// lease, which it renews with the database's clock. The lease's epoch
// grows each time the lease changes hands and fences the writes of an
// import: a page commits only while its lease is still held.

// Lease is a host's lease of one channel's imports.
type Lease struct {
	ChannelID string
	Holder    string // the host's id
	Epoch     int64
}

// ErrLeaseLost is the error of a page committed under a lease that is no
// longer held (another host took the channel over): nothing was written.
var ErrLeaseLost = Errorf(ECONFLICT, "this host no longer holds the channel's lease; another host imports it now")

// Member is one live host sharing the store.
type Member struct {
	ID          string    `json:"id"`
	Self        bool      `json:"self"`
	PID         int       `json:"pid"`
	Addr        string    `json:"addr"`
	Version     string    `json:"version"`
	Revision    string    `json:"revision"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	Leases      []string  `json:"leases"`
}

// HeldLease is a lease a host holds, as a renewal found it.
type HeldLease struct {
	Lease
	// ImportRequested is true when another host asked for an import of
	// the channel (a manual import sent to it); the renewal cleared it.
	ImportRequested bool
}

// ClusterStore is what hosts sharing a store coordinate through. Every
// time is the database's clock, so the hosts' clocks need not agree.
type ClusterStore interface {
	// Heartbeat records that the host lives (creating its row the first
	// time).
	Heartbeat(ctx context.Context, m Member) error
	// Leave removes the host's row and gives up its leases.
	Leave(ctx context.Context, hostID string) error
	// Members lists the hosts whose heartbeat is within ttl, with the
	// leases each holds.
	Members(ctx context.Context, ttl time.Duration) ([]Member, error)
	// RenewLeases extends every lease the host holds by ttl and returns
	// them; a lease another host took over is not among them.
	RenewLeases(ctx context.Context, hostID string, ttl time.Duration) ([]HeldLease, error)
	// AcquireLeases takes, for the host, up to max of the channels' leases
	// that no one holds (or whose holder let them expire), each with a new
	// epoch, and returns those it took.
	AcquireLeases(ctx context.Context, hostID string, channels []string, max int, ttl time.Duration) ([]Lease, error)
	// ReleaseLease gives a lease up (the channel was deleted or disabled).
	ReleaseLease(ctx context.Context, l Lease) error
	// RequestImport asks the channel's lease holder for an import and
	// returns the holder's id ("" when no live host holds the lease).
	RequestImport(ctx context.Context, channelID string) (string, error)
}
