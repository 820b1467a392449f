package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/ordergate/ordergate/host"
)

// Group commit of intake. Each transaction costs the database far more
// than a row does (BEGIN, COMMIT and its WAL flush, a round of
// statements): PostgreSQL spends about 2.2 ms of CPU per order when each
// order commits alone and about 0.5 ms in batches of 100 (BenchmarkIntake).
// So CreateOrders calls that arrive together are committed together: a
// few committers each take whatever calls are queued, up to maxGroup
// orders, and store them in one transaction, in the order they came, as
// if one after the other. What one call's orders meet (an existing
// order, a look-alike) is what they would meet alone; each call gets its
// own results. Import pages (CommitPage) commit alone: they are large
// already, and fenced by their lease.

// maxGroupOrders bounds the orders of one group's transaction.
const maxGroupOrders = 1000

// committers is how many group transactions may be in flight at once:
// one builds its group while another waits for its COMMIT to flush.
const committers = 2

var errStoreClosing = errors.New("the store is closing")

type groupCall struct {
	orders []host.NewOrder
	done   chan groupResult
}

type groupResult struct {
	results []host.CreateResult
	err     error
}

type grouper struct {
	calls   chan *groupCall
	mu      sync.RWMutex // held for reading while sending, for writing by close
	closing bool
	wg      sync.WaitGroup
}

func (d *DB) startGroups() {
	d.groups = &grouper{calls: make(chan *groupCall, maxGroupOrders)}
	for range committers {
		d.groups.wg.Add(1)
		go d.commitGroups()
	}
}

// closeGroups stops the committers once the queued calls are committed.
func (d *DB) closeGroups() {
	g := d.groups
	g.mu.Lock()
	if !g.closing {
		g.closing = true
		close(g.calls)
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// CreateOrders implements host.OrderStore, committing calls that arrive
// together in one transaction.
func (d *DB) CreateOrders(ctx context.Context, orders []host.NewOrder) ([]host.CreateResult, error) {
	call := &groupCall{orders: orders, done: make(chan groupResult, 1)}
	g := d.groups
	g.mu.RLock()
	if g.closing {
		g.mu.RUnlock()
		return nil, errStoreClosing
	}
	select {
	case g.calls <- call:
	case <-ctx.Done():
		g.mu.RUnlock()
		return nil, ctx.Err()
	}
	g.mu.RUnlock()
	// Once queued, the call is committed or failed: wait for the outcome
	// even if ctx ends, so the caller never reports a write it cannot
	// vouch for.
	res := <-call.done
	return res.results, res.err
}

func (d *DB) commitGroups() {
	defer d.groups.wg.Done()
	for call := range d.groups.calls {
		group := []*groupCall{call}
		n := len(call.orders)
	more:
		for n < maxGroupOrders {
			select {
			case c, ok := <-d.groups.calls:
				if !ok {
					break more
				}
				group = append(group, c)
				n += len(c.orders)
			default:
				break more
			}
		}
		d.commitGroup(group, n)
	}
}

func (d *DB) commitGroup(group []*groupCall, n int) {
	all := make([]host.NewOrder, 0, n)
	for _, c := range group {
		all = append(all, c.orders...)
	}
	results, err := d.createOrders(context.Background(), all, nil)
	if err != nil && len(group) > 1 {
		// A call whose data the database refuses fails alone.
		for _, c := range group {
			results, err := d.createOrders(context.Background(), c.orders, nil)
			c.done <- groupResult{results, err}
		}
		return
	}
	for _, c := range group {
		if err != nil {
			c.done <- groupResult{err: err}
			continue
		}
		c.done <- groupResult{results: results[:len(c.orders):len(c.orders)]}
		results = results[len(c.orders):]
	}
}
