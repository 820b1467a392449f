// Package sla watches the hold queue against its service levels
// (host.Settings.HoldSLA): an order held for a reason longer than that
// reason's maximum age raises one hold_sla_exceeded operational alert
// per hold or, when more orders than the digest threshold are found over
// their SLA at once, one hold_sla_digest alert for them all.
//
// Each check reads only held orders imported before the oldest age that
// could breach, per reason; the alerts' keys make each raised once, on
// this host or any other sharing the store, across restarts.
package sla

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Store is what the watcher reads.
type Store interface {
	ListOrders(ctx context.Context, f host.OrderFilter) ([]*host.Record, string, error)
	Settings(ctx context.Context) (host.Settings, error)
}

// Raiser raises operational alerts (alerts.Ops).
type Raiser interface {
	Raise(ctx context.Context, a host.OpsAlert)
}

// Config configures a watcher.
type Config struct {
	Store Store
	Ops   Raiser
	// Now is the clock (default time.Now in UTC).
	Now func() time.Time
	// Every is how often the queue is checked (default 30s).
	Every time.Duration
	Log   hclog.Logger
}

// DefaultEvery is how often the queue is checked by default.
const DefaultEvery = 30 * time.Second

// Watcher checks the hold queue against the SLAs.
type Watcher struct {
	cfg Config
	// raised are the keys of the breaches raised (alone or in a digest)
	// by this process and still breaching at the last check.
	raised map[string]bool
}

// New returns a watcher.
func New(cfg Config) *Watcher {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	cfg.Log = cfg.Log.Named("sla")
	return &Watcher{cfg: cfg, raised: map[string]bool{}}
}

// Run checks the queue every cfg.Every until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Every)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Log.Error("checking the hold queue against its SLAs", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Result is what one check found.
type Result struct {
	// Breaches counts the holds over their SLA; Raised those new since
	// the last check, Digest whether they were raised as one digest.
	Breaches, Raised int
	Digest           bool
}

// Check reads the queue once and raises the new breaches.
func (w *Watcher) Check(ctx context.Context) (Result, error) {
	settings, err := w.cfg.Store.Settings(ctx)
	if err != nil {
		return Result{}, err
	}
	ages := settings.HoldSLA.MaxAges()
	now := w.cfg.Now()
	var found []host.HoldSLAExceeded
	for _, reason := range slices.Sorted(maps.Keys(ages)) {
		b, err := w.breaches(ctx, reason, ages[reason], now)
		if err != nil {
			return Result{}, err
		}
		found = append(found, b...)
	}
	var fresh []host.HoldSLAExceeded
	still := make(map[string]bool, len(found))
	for _, b := range found {
		k := b.Key()
		still[k] = true
		if !w.raised[k] {
			fresh = append(fresh, b)
		}
	}
	w.raised = still
	res := Result{Breaches: len(found), Raised: len(fresh)}
	switch {
	case len(fresh) > settings.HoldSLA.Digest():
		res.Digest = true
		w.cfg.Ops.Raise(ctx, host.HoldSLADigest{Breaches: fresh})
	default:
		for _, b := range fresh {
			w.cfg.Ops.Raise(ctx, b)
		}
	}
	return res, nil
}

// breaches lists the holds of reason older than max at now. A hold is
// placed after its order was imported, so only orders imported before
// now - max can have one.
func (w *Watcher) breaches(ctx context.Context, reason string, max time.Duration, now time.Time) ([]host.HoldSLAExceeded, error) {
	var out []host.HoldSLAExceeded
	f := host.OrderFilter{Status: string(sdk.StatusOnHold), HoldReason: reason, ImportedBefore: now.Add(-max), Limit: 500, Basic: true}
	for {
		page, next, err := w.cfg.Store.ListOrders(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			for _, h := range r.Holds {
				if h.Reason != reason {
					continue
				}
				at := h.HeldAt
				if at == nil {
					at = r.ImportedAt
				}
				if at != nil && now.Sub(*at) > max {
					out = append(out, host.HoldSLAExceeded{OrderID: r.ID, Number: r.Number, ChannelID: r.ChannelID,
						Hold: h, HeldAt: *at, Age: now.Sub(*at), MaxAge: max})
				}
			}
		}
		if next == "" {
			return out, nil
		}
		f.After = next
	}
}
