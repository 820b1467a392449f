package orders

import (
	"context"
	"crypto/rand"
	"io"
	"slices"
	"sync"

	"github.com/oklog/ulid/v2"
)

// Look-alikes in flight.
//
// Two look-alike orders imported at the same moment must not both pass as
// originals: the store refuses an order whose look-alike was stored after
// the order's facts were read (host.ErrLookAlikeRaced), and the order is
// decided again. Under a burst of look-alikes (one address, a few
// baskets) that would be the rule, not the exception: most orders would
// be decided several times, and some given up on.
//
// So the host lines up its own look-alikes. A new order joins the line of
// its fingerprint, and takes its id there, so that ids follow the line.
// It is decided once the orders ahead of it are decided, counting them as
// look-alikes though they are not stored yet, and it is given to the
// store once those ahead of it have their place in the store's queue
// (host.LookAlikeCheck.Queued): the store then checks it after them, and
// refuses it should one of them not be stored. Look-alikes from other
// hosts (PostgreSQL) still race and are decided again.

// flights are the lines of the orders this host is importing, by
// fingerprint.
type flights struct {
	mu    sync.Mutex
	lines map[string][]*prepared
	// ids are the ids of the orders in line: ulid's monotonic entropy, so
	// that an order joining later gets a greater id in the same
	// millisecond as well.
	ids    io.Reader
	lastMs uint64
}

func newFlights() *flights {
	return &flights{lines: map[string][]*prepared{}, ids: ulid.Monotonic(rand.Reader, 0)}
}

// flight is an order's place in its line.
type flight struct {
	// ahead are the orders of other calls that joined the line before it.
	ahead []*prepared
	// decided is closed once the order is decided or will not be; ok tells
	// which (written before decided is closed).
	decided    chan struct{}
	ok         bool
	decideOnce sync.Once
	// queued is closed once the store has the order's place in its queue,
	// or the order will not be stored.
	queued    chan struct{}
	queueOnce sync.Once
}

// join puts the orders of one call in their lines, all at once so that
// two calls' orders are never interleaved, and gives each a new id in
// line order.
func (f *flights) join(pending []*prepared) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pending {
		p.flight = &flight{ahead: slices.Clone(f.lines[p.fingerprint]), decided: make(chan struct{}), queued: make(chan struct{})}
	}
	for _, p := range pending {
		ms := max(ulid.Timestamp(*p.record.ImportedAt), f.lastMs)
		f.lastMs = ms
		p.record.ID = ulid.MustNew(ms, f.ids).String()
		f.lines[p.fingerprint] = append(f.lines[p.fingerprint], p)
	}
}

// leave takes the orders of a call out of their lines once the store has
// answered, or the call gave up: the orders that follow no longer wait
// for them.
func (f *flights) leave(pending []*prepared) {
	f.mu.Lock()
	for _, p := range pending {
		line := slices.DeleteFunc(f.lines[p.fingerprint], func(q *prepared) bool { return q == p })
		if len(line) == 0 {
			delete(f.lines, p.fingerprint)
		} else {
			f.lines[p.fingerprint] = line
		}
	}
	f.mu.Unlock()
	for _, p := range pending {
		p.flight.markDecided(false)
		p.flight.markQueued()
	}
}

func (fl *flight) markDecided(ok bool) {
	fl.decideOnce.Do(func() {
		fl.ok = ok
		close(fl.decided)
	})
}

func (fl *flight) markQueued() { fl.queueOnce.Do(func() { close(fl.queued) }) }

// waitDecided waits until the orders ahead of p are decided.
func waitDecided(ctx context.Context, p *prepared) error {
	if p.flight == nil {
		return nil
	}
	for _, a := range p.flight.ahead {
		select {
		case <-a.flight.decided:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// waitQueued waits until the orders ahead of those pending have their
// place in the store's queue.
func waitQueued(ctx context.Context, pending []*prepared) error {
	for _, p := range pending {
		if p.flight == nil {
			continue
		}
		for _, a := range p.flight.ahead {
			select {
			case <-a.flight.queued:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
	}
	return nil
}
