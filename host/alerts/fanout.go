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
}

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
	return &FanOut{store: store, log: log.Named("events"), wake: wake, tick: tick, now: func() time.Time { return time.Now().UTC() }}
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
