package alerts

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
)

// FanOut turns the change feed into deliveries: each event, to every
// destination subscribed to its type (host.EventStore.FanOutEvents),
// once, however many hosts share the store. The dispatcher then sends
// them like alerts, with the same retries and dead letters.
type FanOut struct {
	store host.EventStore
	log   hclog.Logger
	wake  *Wake // the dispatcher's
	tick  time.Duration
	now   func() time.Time
	// retention is how long events are kept (0: forever); the feed is
	// pruned every pruneEvery.
	retention  time.Duration
	pruneEvery time.Duration
	pruned     time.Time
}

// PruneEvery is how often the fan-out prunes the feed.
const PruneEvery = time.Hour

// KeepEvents sets how long the feed keeps events: older ones that were
// fanned out are pruned every PruneEvery (and at start); 0 keeps them.
func (f *FanOut) KeepEvents(retention time.Duration) { f.retention = retention }

// fanOutBatch bounds the events one transaction fans out.
const fanOutBatch = 500

// NewFanOut returns the fan-out; wake is the dispatcher's signal, sent
// when deliveries were queued; tick is how often it looks for new events
// (default 200ms).
func NewFanOut(store host.EventStore, log hclog.Logger, wake *Wake, tick time.Duration) *FanOut {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if tick <= 0 {
		tick = 200 * time.Millisecond
	}
	return &FanOut{store: store, log: log.Named("events"), wake: wake, tick: tick, now: func() time.Time { return time.Now().UTC() }, pruneEvery: PruneEvery}
}

// Run fans events out until ctx ends.
func (f *FanOut) Run(ctx context.Context) {
	t := time.NewTicker(f.tick)
	defer t.Stop()
	for {
		more := f.Once(ctx)
		if more {
			continue
		}
		if f.retention > 0 && f.now().Sub(f.pruned) >= f.pruneEvery {
			f.Prune(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once fans out one batch of events and reports whether more wait.
func (f *FanOut) Once(ctx context.Context) bool {
	queued, more, err := f.store.FanOutEvents(ctx, f.now(), fanOutBatch)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Error("fanning out events", "error", err)
		}
		return false
	}
	if queued > 0 {
		f.wake.Notify()
	}
	return more && ctx.Err() == nil
}

// pruneBatch bounds the events one prune transaction removes.
const pruneBatch = 10000

// Prune removes the events older than the retention that were fanned out,
// a batch at a time, and returns how many.
func (f *FanOut) Prune(ctx context.Context) int {
	f.pruned = f.now()
	total := 0
	for ctx.Err() == nil {
		n, err := f.store.PruneEvents(ctx, f.pruned.Add(-f.retention), pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				f.log.Error("pruning the change feed", "error", err)
			}
			break
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		f.log.Info("pruned the change feed", "events", total, "older_than", f.pruned.Add(-f.retention))
	}
	return total
}
