package policy

import (
	"context"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/topdown"
)

// watchdog cancels the evaluations of a revision that run past their
// deadline or whose context ends. One goroutine checks them all, and only
// while some run, instead of a timer and a goroutine per evaluation (what
// context.WithTimeout and OPA's own context watch would cost each).
type watchdog struct {
	mu      sync.Mutex
	running map[*watched]struct{}
	active  bool // the checking goroutine runs
}

// watched is one evaluation under the watchdog.
type watched struct {
	ctx      context.Context
	deadline time.Time
	cancel   topdown.Cancel
	every    time.Duration
	expired  bool // set, under the watchdog's lock, when it ran past the deadline
}

// watchdogTick bounds how often the watchdog checks: a deadline is
// enforced within a tenth of the timeout, at most this late.
const watchdogTick = 10 * time.Millisecond

// watch puts an evaluation with the timeout under the watchdog; call
// the returned function when it ends, to learn whether it was cancelled
// for running past its deadline.
func (w *watchdog) watch(ctx context.Context, timeout time.Duration) (*watched, func() bool) {
	e := &watched{ctx: ctx, deadline: time.Now().Add(timeout), cancel: topdown.NewCancel(), every: min(watchdogTick, max(timeout/10, time.Millisecond))}
	w.mu.Lock()
	if w.running == nil {
		w.running = map[*watched]struct{}{}
	}
	w.running[e] = struct{}{}
	if !w.active {
		w.active = true
		go w.check(e.every)
	}
	w.mu.Unlock()
	return e, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.running, e)
		return e.expired
	}
}

// check cancels what is due every tick, and returns once nothing runs.
func (w *watchdog) check(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for now := range t.C {
		w.mu.Lock()
		if len(w.running) == 0 {
			w.active = false
			w.mu.Unlock()
			return
		}
		shortest := every
		for e := range w.running {
			switch {
			case e.cancel.Cancelled():
			case now.After(e.deadline):
				e.expired = true
				e.cancel.Cancel()
			case e.ctx.Err() != nil:
				e.cancel.Cancel()
			}
			shortest = min(shortest, e.every)
		}
		w.mu.Unlock()
		if shortest < every {
			every = shortest
			t.Reset(every)
		}
	}
}
