package orders

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// deciders run the decisions of a call's independent groups on
// long-lived goroutines. OPA's evaluation recurses deeply, and a new
// goroutine grows its stack to that depth by copying it over and over:
// on goroutines started per call, a fifth of the CPU of batch intake went
// to copying stacks. A worker keeps its grown stack (the garbage
// collector halves an idle one at most once per cycle) and stops after
// deciderIdle without work.
//
// A task never waits for a worker: it goes to an idle one or runs on the
// caller's goroutine. So a group that waits for the look-alike of another
// call (inflight.go) cannot hold up that call's decision.
type deciders struct {
	work chan func()
	mu   sync.Mutex
	n    int // workers running
	max  int
}

// deciderIdle is how long a worker waits for work before it stops.
const deciderIdle = 10 * time.Second

func newDeciders() *deciders {
	return &deciders{work: make(chan func()), max: runtime.GOMAXPROCS(0)}
}

// run runs fn(ctx, i) for i in [0, n) on idle workers and the caller's
// goroutine, and returns the first error; it cancels the others' ctx.
func (d *deciders) run(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	task := func(i int) {
		if err := fn(ctx, i); err != nil {
			once.Do(func() { first = err; cancel(err) })
		}
	}
	for i := range n {
		if i == n-1 || !d.hand(func() { defer wg.Done(); task(i) }, &wg) {
			task(i)
		}
	}
	wg.Wait()
	return first
}

// hand gives f to an idle worker, starting one if fewer than max run,
// and reports whether one took it; wg counts it before it is handed.
func (d *deciders) hand(f func(), wg *sync.WaitGroup) bool {
	wg.Add(1)
	select {
	case d.work <- f:
		return true
	default:
	}
	d.mu.Lock()
	start := d.n < d.max
	if start {
		d.n++
	}
	d.mu.Unlock()
	if !start {
		wg.Done()
		return false
	}
	go d.worker(f)
	return true
}

func (d *deciders) worker(f func()) {
	idle := time.NewTimer(deciderIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(deciderIdle)
		select {
		case f = <-d.work:
		case <-idle.C:
			d.mu.Lock()
			d.n--
			d.mu.Unlock()
			return
		}
	}
}
