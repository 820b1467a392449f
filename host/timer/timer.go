// Package timer runs the host's timed work on stored orders: timed holds
// that fall due lift by themselves, or become due for review.
//
// The schedule is the store's (each order's next due time is indexed with
// it), not the timer's memory: a hold that fell due while the host was
// down is acted on at the first look after start. Each look claims the
// due orders (host.OrderStore.ClaimDueOrders), so with several hosts on
// one database each due order is handled by one of them, and the action
// itself is idempotent (orders.Service.LiftDueHolds), so a hold lifts
// once even when a claim lapses mid-way.
package timer

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
)

// DefaultInterval is how often the timer looks for due holds.
const DefaultInterval = time.Second

// batch is how many due orders one look claims.
const batch = 100

// Store gives the timer the due orders.
type Store interface {
	ClaimDueOrders(ctx context.Context, at time.Time, limit int) ([]string, error)
}

// Orders acts on an order's due holds (orders.Service).
type Orders interface {
	LiftDueHolds(ctx context.Context, id string) (*host.Record, bool, error)
}

// Config is what a Timer needs.
type Config struct {
	Store  Store
	Orders Orders
	// Interval is how often it looks (DefaultInterval when 0).
	Interval time.Duration
	// Now is the clock due times are compared with (time.Now when nil).
	Now func() time.Time
	Log hclog.Logger
}

// Timer acts on due holds until its context ends.
type Timer struct {
	cfg Config
	log hclog.Logger
}

// New returns a timer.
func New(cfg Config) *Timer {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	return &Timer{cfg: cfg, log: cfg.Log.Named("timer")}
}

// Run looks for due holds at once and then every Interval until ctx
// ends.
func (t *Timer) Run(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	for {
		t.RunDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunDue acts on every hold due now and returns how many orders it
// changed. An order it cannot act on (the store failed) is claimed, so
// it is tried again once its claim lapses, not at every look.
func (t *Timer) RunDue(ctx context.Context) int {
	changed := 0
	for ctx.Err() == nil {
		ids, err := t.cfg.Store.ClaimDueOrders(ctx, t.cfg.Now(), batch)
		if err != nil {
			if ctx.Err() == nil {
				t.log.Warn("looking for due holds", "error", err)
			}
			return changed
		}
		for _, id := range ids {
			r, acted, err := t.cfg.Orders.LiftDueHolds(ctx, id)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					t.log.Warn("acting on an order's due holds; tried again later", "order", id, "error", err)
				}
			case acted:
				changed++
				t.log.Debug("acted on due holds", "order", id, "status", r.Status)
			}
		}
		if len(ids) < batch {
			return changed
		}
	}
	return changed
}
