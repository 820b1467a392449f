// Package importer runs "Get Orders" for b2c channels: on each enabled
// channel's poll interval, or at once when asked. Every order a connector
// streams goes through the same workflow and store path as B2B intake
// (orders.Service.Import); a page's cursor is saved only after its orders
// are stored, so a crash or a failing connector re-imports (recognised by
// channel + external id) and never loses an order. A page's orders are
// decided while the page before it commits; pages commit in their order.
// Each import is recorded as a Run on the channel.
package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/plugin"
)

// Store is what the importer reads and writes.
type Store interface {
	host.ChannelStore
	host.RunStore
}

// Connectors starts connectors; *connectors.Manager is the real one.
type Connectors interface {
	Connector(ctx context.Context, name string) (*plugin.Client, sdk.Description, error)
	Restart(name string)
}

// Config tunes the importer.
type Config struct {
	// Tick is how often the scheduler looks for due channels (default 1s).
	Tick time.Duration
	// IdleTimeout ends an import whose connector sends nothing for this
	// long, and restarts the connector (default 2m).
	IdleTimeout time.Duration
	// RunTimeout bounds one import (default 1h).
	RunTimeout time.Duration
	// TestTimeout bounds a connection test (default 30s).
	TestTimeout time.Duration
	// MaxBackoff caps the wait before retrying a failing channel; the wait
	// starts at 5s and doubles (default 5m, and never above the channel's
	// interval).
	MaxBackoff time.Duration
	// Ops, when set, raises operational alerts about failing and silent
	// channels. Failing channels are never switched off.
	Ops *alerts.Ops
	// Runs, when set, is told of every run that ended (the metrics).
	Runs RunObserver
	// Leases, when several hosts share the store, says which channels
	// this host imports: those it holds the lease of. nil: every channel.
	Leases Leases
}

// Leases are the channel leases of a host sharing its store with others
// (*cluster.Node).
type Leases interface {
	// Lease returns this host's lease of the channel and a channel that
	// is closed when the lease is lost; ok is false when the host does not
	// hold it.
	Lease(channelID string) (lease host.Lease, lost <-chan struct{}, ok bool)
	// RequestImport asks the lease's holder for an import of the channel
	// and returns the holder's id ("" when no live host holds it).
	RequestImport(ctx context.Context, channelID string) (string, error)
}

// errLeaseLost ends an import whose lease another host took over.
var errLeaseLost = errors.New("the host lost the channel's lease to another host, which imports it now")

// RunObserver is told of every import run that ended.
type RunObserver interface {
	ObserveRun(r *host.Run)
}

// Importer schedules and runs imports.
type Importer struct {
	store      Store
	connectors Connectors
	orders     *orders.Service
	log        hclog.Logger
	cfg        Config
	now        func() time.Time

	mu      sync.Mutex
	state   map[string]*channelState
	wg      sync.WaitGroup
	stopped bool
	// base is the context of every import, set by Run from its context
	// (its values, not its cancellation: Run cancels base itself once it
	// has marked the importer stopped, so that the imports it ends are
	// interrupted, not failed). nil while Run is not running.
	base       context.Context
	cancelBase context.CancelFunc
	started    chan struct{} // closed once Run has set base
}

// channelState is the scheduler's memory of one channel. The failure
// streak and the last success start from the channel's stored runs
// (host.HistoryOf), so a restart forgets neither.
type channelState struct {
	running     *host.Run
	nextAt      time.Time
	failures    int       // consecutive failing runs
	lastSuccess time.Time // of the last run that stored orders (or the channel's creation)
}

// New returns an importer.
func New(store Store, conns Connectors, svc *orders.Service, log hclog.Logger, cfg Config) *Importer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = time.Hour
	}
	if cfg.TestTimeout <= 0 {
		cfg.TestTimeout = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	return &Importer{store: store, connectors: conns, orders: svc, log: log.Named("importer"), cfg: cfg,
		now: func() time.Time { return time.Now().UTC() }, state: map[string]*channelState{}, started: make(chan struct{})}
}

// Run schedules imports until ctx ends, then waits for running imports to
// stop (they are canceled with ctx, and end interrupted). It first closes
// the runs a previous process left open (see CloseInterrupted).
func (im *Importer) Run(ctx context.Context) {
	im.mu.Lock()
	if im.base != nil || im.stopped {
		im.mu.Unlock()
		im.log.Error("the importer runs already, or has stopped")
		return
	}
	im.base, im.cancelBase = context.WithCancel(context.WithoutCancel(ctx))
	close(im.started)
	im.mu.Unlock()
	// Sharing the store, other hosts may be importing now: a run left open
	// is closed by the host that takes its channel's lease (TakeOver).
	if im.cfg.Leases == nil {
		if err := im.CloseInterrupted(ctx); err != nil {
			im.log.Error("closing the runs the host left open", "error", err)
		}
	}
	t := time.NewTicker(im.cfg.Tick)
	defer t.Stop()
	for {
		im.startDue(im.base)
		select {
		case <-ctx.Done():
			im.mu.Lock()
			im.stopped = true
			im.mu.Unlock()
			im.cancelBase()
			im.wg.Wait()
			return
		case <-t.C:
		}
	}
}

// startDue starts an import of every enabled b2c channel that is due.
func (im *Importer) startDue(ctx context.Context) {
	channels, err := im.store.Channels(ctx)
	if err != nil {
		im.log.Error("listing channels", "error", err)
		return
	}
	now := im.now()
	var silence time.Duration // read once per pass, not per channel
	if im.cfg.Ops != nil {
		silence = im.cfg.Ops.Config(ctx).SilenceDuration()
	}
	for _, ch := range channels {
		if !Imported(ch) {
			continue
		}
		if im.cfg.Leases != nil {
			if _, _, ok := im.cfg.Leases.Lease(ch.ID); !ok {
				continue // another host imports it, and watches its silence
			}
		}
		if err := im.loadState(ctx, ch); err != nil {
			im.log.Error("reading a channel's import history", "channel", ch.ID, "error", err)
			continue
		}
		im.mu.Lock()
		st := im.stateOf(ch.ID)
		due := st.running == nil && !now.Before(st.nextAt)
		lastSuccess := st.lastSuccess
		im.mu.Unlock()
		if im.cfg.Ops != nil {
			if now.Sub(lastSuccess) > silence {
				im.cfg.Ops.Raise(ctx, host.ChannelSilent{ChannelID: ch.ID, LastSuccess: lastSuccess, Window: silence})
			}
		}
		if due {
			if _, err := im.start(ctx, ch, "schedule"); err != nil && host.ErrorCode(err) != host.ECONFLICT {
				im.log.Error("starting a scheduled import", "channel", ch.ID, "error", err)
			}
		}
	}
}

// Imported reports whether the scheduler imports the channel: an enabled
// b2c channel with a connector.
func Imported(ch *host.Channel) bool {
	return ch.Enabled && ch.Kind == host.ChannelB2C && ch.Connector != ""
}

// stateOf returns the channel's state; call it with im.mu held, after
// loadState.
func (im *Importer) stateOf(id string) *channelState {
	st := im.state[id]
	if st == nil {
		st = &channelState{lastSuccess: im.now()}
		im.state[id] = st
	}
	return st
}

// loadState reads the channel's failure streak and last success from its
// stored runs, the first time the importer meets the channel.
func (im *Importer) loadState(ctx context.Context, ch *host.Channel) error {
	im.mu.Lock()
	_, ok := im.state[ch.ID]
	im.mu.Unlock()
	if ok {
		return nil
	}
	runs, err := im.store.Runs(ctx, ch.ID, host.HistoryRuns)
	if err != nil {
		return err
	}
	h := host.HistoryOf(ch, runs)
	im.mu.Lock()
	defer im.mu.Unlock()
	if _, ok := im.state[ch.ID]; !ok {
		im.state[ch.ID] = &channelState{failures: h.FailuresInARow, lastSuccess: h.LastSuccess}
	}
	return nil
}

// CloseInterrupted ends, as interrupted, every run a previous host
// process left running (it stopped or crashed mid-import). The run keeps
// the counters of the pages it committed.
func (im *Importer) CloseInterrupted(ctx context.Context) error {
	channels, err := im.store.Channels(ctx)
	if err != nil {
		return err
	}
	for _, ch := range channels {
		if err := im.closeOpenRun(ctx, ch.ID, "the host stopped before the import finished; the next import resumes from the saved cursor"); err != nil {
			return err
		}
	}
	return nil
}

// TakeOver is called when this host takes a channel's lease: the run the
// previous holder left open (it died or lost the lease) is closed as
// interrupted, and the channel is imported at once.
func (im *Importer) TakeOver(ctx context.Context, channelID string) {
	if err := im.closeOpenRun(ctx, channelID, "the host importing the channel stopped or lost its lease before the import finished; the host that took the channel over resumes from the saved cursor"); err != nil {
		im.log.Error("closing the run another host left open", "channel", channelID, "error", err)
	}
	im.mu.Lock()
	delete(im.state, channelID) // read again from the stored runs
	im.mu.Unlock()
}

// closeOpenRun closes the channel's newest run as interrupted if it is
// still running and not here.
func (im *Importer) closeOpenRun(ctx context.Context, channelID, why string) error {
	// Imports of a channel run one at a time: only the newest run can be
	// open.
	runs, err := im.store.Runs(ctx, channelID, 1)
	if err != nil {
		return err
	}
	if len(runs) == 0 || runs[0].Status != host.RunRunning || im.Running(channelID) != nil {
		return nil
	}
	ended := false
	closed, err := im.store.EndRun(ctx, channelID, runs[0].ID, func(stored *host.Run) *host.Run {
		ended = true
		return stored.Interrupt(why, im.now())
	})
	if err != nil {
		return fmt.Errorf("closing run %s of channel %s: %w", runs[0].ID, channelID, err)
	}
	if ended {
		im.log.Warn("closed an import left running", "channel", channelID, "run", closed.ID, "imported", closed.Imported)
	}
	return nil
}

// Started is closed once Run runs: ImportNow waits for it.
func (im *Importer) Started() <-chan struct{} { return im.started }

// Started is what ImportNow started: the run, when this host imports the
// channel, or the host asked to import it (RequestedOf) when another host
// holds the channel's lease.
type Started struct {
	Run         *host.Run
	RequestedOf string
}

// ImportNow starts an import of the channel and returns its run, as it
// starts. An import already running is a conflict. When another host
// holds the channel's lease, that host is asked to import it.
func (im *Importer) ImportNow(ctx context.Context, channelID string) (Started, error) {
	ch, err := im.store.Channel(ctx, channelID)
	if err != nil {
		return Started{}, err
	}
	if ch.Kind != host.ChannelB2C || ch.Connector == "" {
		return Started{}, host.Errorf(host.EINVALID, "channel %s has no connector; only b2c channels are imported", ch.ID)
	}
	if im.cfg.Leases != nil {
		if _, _, ok := im.cfg.Leases.Lease(ch.ID); !ok {
			holder, err := im.cfg.Leases.RequestImport(ctx, ch.ID)
			if err != nil {
				return Started{}, err
			}
			if holder == "" {
				return Started{}, host.Errorf(host.EUNAVAILABLE, "no host holds channel %s's lease yet (it is disabled, or hosts are starting); try again in a few seconds", ch.ID)
			}
			return Started{RequestedOf: holder}, nil
		}
	}
	// The import outlives the request that started it and ends with the
	// scheduler: it waits for the scheduler to start, if it has not yet.
	select {
	case <-im.started:
	case <-ctx.Done():
		return Started{}, host.Errorf(host.EUNAVAILABLE, "the importer is not running: %v", ctx.Err())
	}
	im.mu.Lock()
	base := im.base
	im.mu.Unlock()
	run, err := im.start(base, ch, "manual")
	return Started{Run: run}, err
}

// Running returns the channel's running import, or nil.
func (im *Importer) Running(channelID string) *host.Run {
	im.mu.Lock()
	defer im.mu.Unlock()
	if st := im.state[channelID]; st != nil && st.running != nil {
		r := *st.running
		return &r
	}
	return nil
}

// Reschedule makes the channel due at once and forgets its failures:
// after its schedule or configuration changed, or it was deleted.
func (im *Importer) Reschedule(channelID string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if st := im.state[channelID]; st != nil {
		st.nextAt, st.failures = time.Time{}, 0
	}
}

// NextRun returns when the scheduler imports the channel next and how
// many runs in a row have failed (read from its stored runs the first
// time).
func (im *Importer) NextRun(ctx context.Context, ch *host.Channel) (time.Time, int, error) {
	if err := im.loadState(ctx, ch); err != nil {
		return time.Time{}, 0, err
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	st := im.stateOf(ch.ID)
	return st.nextAt, st.failures, nil
}

func (im *Importer) start(ctx context.Context, ch *host.Channel, trigger string) (*host.Run, error) {
	if err := im.loadState(ctx, ch); err != nil {
		return nil, err
	}
	cursor, err := im.store.Cursor(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	now := im.now()
	run := &host.Run{ID: ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String(), ChannelID: ch.ID, Trigger: trigger,
		Status: host.RunRunning, StartedAt: now, CursorBefore: cursor, CursorAfter: cursor}
	im.mu.Lock()
	st := im.stateOf(ch.ID)
	if im.stopped {
		im.mu.Unlock()
		return nil, host.Errorf(host.EUNAVAILABLE, "the host is stopping")
	}
	if st.running != nil {
		im.mu.Unlock()
		return nil, host.Errorf(host.ECONFLICT, "channel %s is importing already (run %s)", ch.ID, st.running.ID)
	}
	st.running = run
	im.wg.Add(1)
	im.mu.Unlock()

	if err := im.store.PutRun(ctx, run); err != nil {
		im.finish(ch, run, err)
		im.wg.Done()
		return nil, err
	}
	snapshot := *run
	go func() {
		defer im.wg.Done()
		err := im.runLeased(ctx, ch, run)
		im.finish(ch, run, err)
	}()
	return &snapshot, nil
}

// runLeased runs the import under the channel's lease, when hosts share
// the store: the import ends when the lease is lost, and its pages
// commit only while the lease is held.
func (im *Importer) runLeased(ctx context.Context, ch *host.Channel, run *host.Run) error {
	if im.cfg.Leases == nil {
		return im.runImport(ctx, ch, run, nil)
	}
	lease, lost, ok := im.cfg.Leases.Lease(ch.ID)
	if !ok {
		return errLeaseLost
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lost:
			cancel(errLeaseLost)
		case <-ctx.Done():
		}
	}()
	err := im.runImport(ctx, ch, run, &lease)
	if err == nil {
		return nil
	}
	// An import that failed once its lease was gone (refused by the
	// store, or cut off while the host was paused) is not the channel's
	// failure: the lease's new holder resumes it.
	if now, _, held := im.cfg.Leases.Lease(ch.ID); errors.Is(err, host.ErrLeaseLost) || errors.Is(context.Cause(ctx), errLeaseLost) || !held || now.Epoch != lease.Epoch {
		return fmt.Errorf("%w (%v)", errLeaseLost, err)
	}
	return err
}

// finish records the end of a run and schedules the channel's next one.
// A run the host's stop canceled ends interrupted; one that failed or
// rejected input counts toward the failure streak.
func (im *Importer) finish(ch *host.Channel, run *host.Run, err error) {
	now := im.now()
	im.mu.Lock()
	var end func(*host.Run) *host.Run
	switch {
	case err != nil && im.stopped && errors.Is(err, context.Canceled):
		end = func(r *host.Run) *host.Run {
			return r.Interrupt("the host stopped before the import finished; the next import resumes from the saved cursor", now)
		}
	case errors.Is(err, errLeaseLost):
		// Not the channel's failure: the host that took the lease resumes.
		end = func(r *host.Run) *host.Run { return r.Interrupt(err.Error(), now) }
	default:
		end = func(r *host.Run) *host.Run { return r.Finish(err, now) }
	}
	im.mu.Unlock()

	// The run's record is written with a fresh context: the host may be
	// stopping, and the record says so. The run ends as stored: its
	// counters are what committed (a page may have committed whose answer
	// was lost), and a run another host closed already stays as it is.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	final, perr := im.store.EndRun(ctx, ch.ID, run.ID, end)
	if perr != nil {
		im.log.Error("recording an import run", "channel", ch.ID, "run", run.ID, "error", perr)
		final = end(run)
	}

	im.mu.Lock()
	st := im.stateOf(ch.ID)
	switch {
	case final.Failing():
		st.failures++
		backoff := min(5*time.Second<<min(st.failures-1, 16), im.cfg.MaxBackoff, ch.Interval())
		st.nextAt = now.Add(backoff)
	case final.Status == host.RunSucceeded:
		st.failures = 0
		st.nextAt = now.Add(ch.Interval())
	}
	if final.Status == host.RunSucceeded || final.Status == host.RunPartial {
		st.lastSuccess = now
	}
	failures := st.failures
	*run = *final
	im.mu.Unlock()

	if im.cfg.Runs != nil {
		im.cfg.Runs.ObserveRun(final)
	}
	if final.Failing() && im.cfg.Ops != nil && failures == im.cfg.Ops.Config(ctx).ChannelFailures {
		im.cfg.Ops.Raise(ctx, host.ChannelFailing{ChannelID: ch.ID, RunID: run.ID, Failures: failures, LastStatus: final.Status, LastError: final.Errors[0]})
	}
	// Only now is the run over: its record and alerts are written.
	im.mu.Lock()
	st.running = nil
	im.mu.Unlock()
	switch final.Status {
	case host.RunSucceeded:
		im.log.Info("import finished", "channel", ch.ID, "run", run.ID, "seen", final.OrdersSeen, "imported", final.Imported, "updated", final.Updated, "held", final.Held)
	case host.RunInterrupted:
		im.log.Info("import interrupted", "channel", ch.ID, "run", run.ID, "imported", final.Imported, "why", final.Errors[0])
	default:
		im.log.Warn("import failed", "channel", ch.ID, "run", run.ID, "status", final.Status, "failures_in_a_row", failures, "error", final.Errors[0])
	}
}

// errIdle ends an import whose connector went quiet.
var errIdle = errors.New("the connector sent nothing")

// runImport streams the channel's orders into the workflow and store.
func (im *Importer) runImport(ctx context.Context, ch *host.Channel, run *host.Run, lease *host.Lease) error {
	ctx, cancel := context.WithTimeoutCause(ctx, im.cfg.RunTimeout, fmt.Errorf("the import took longer than %s", im.cfg.RunTimeout))
	defer cancel()
	client, desc, err := im.connectors.Connector(ctx, ch.Connector)
	if err != nil {
		return err
	}
	cfg, err := desc.Check(ch.Config)
	if err != nil {
		return fmt.Errorf("the channel's configuration does not suit connector %s %s: %w", desc.Name, desc.Version, err)
	}

	// A watchdog cancels the stream when no page arrives for IdleTimeout.
	streamCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	idle := time.AfterFunc(im.cfg.IdleTimeout, func() {
		stop(fmt.Errorf("%w for %s", errIdle, im.cfg.IdleTimeout))
	})
	defer idle.Stop()

	pages := &pipeline{im: im, ch: ch, run: run, lease: lease}
	err = client.GetOrders(streamCtx, cfg, run.CursorBefore, func(page sdk.Page) error {
		idle.Stop()
		defer idle.Reset(im.cfg.IdleTimeout)
		return pages.add(ctx, page)
	})
	if last := pages.wait(); err == nil {
		err = last
	}
	if cause := context.Cause(streamCtx); cause != nil && errors.Is(cause, errIdle) {
		im.connectors.Restart(ch.Connector)
		return fmt.Errorf("connector %s stopped answering and was restarted: %w", ch.Connector, cause)
	}
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return fmt.Errorf("connector %s: %w", ch.Connector, err)
	}
	return nil
}

// pipeline imports the pages of one run: a page's orders are decided
// while the page before it commits. Each page's new orders, its cursor
// and the run with the page counted are committed in one transaction, and
// pages commit in their order, so the cursor never moves past an order
// that is not stored, and the run's counters are what was committed. At
// most two pages are in flight; once one fails, no later page commits.
type pipeline struct {
	im    *Importer
	ch    *host.Channel
	run   *host.Run
	lease *host.Lease
	// last is the page added last and beforeLast the one before it (nil
	// before the first and second pages).
	last, beforeLast *pageJob
}

// pageJob is one page in flight. err is set before done is closed, and
// done is closed only once the page before it is done too. prev is the
// job's own (its goroutine's); known is the pipeline's.
type pageJob struct {
	done  chan struct{}
	err   error
	prev  *pageJob
	known map[string]bool // the page's external ids
}

// errEarlierPage stops a page whose predecessor failed; the run fails
// with the predecessor's error.
var errEarlierPage = errors.New("an earlier page of the import was not stored")

// add prepares a page and starts its decisions and commit. It waits for
// the page before the last to be stored first, and for the last when the
// page has an order of it (sent again, perhaps changed: it must see the
// stored order).
func (p *pipeline) add(ctx context.Context, page sdk.Page) error {
	if b := p.beforeLast; b != nil {
		if err := b.wait(ctx); err != nil {
			return err
		}
	}
	if last := p.last; last != nil {
		if slices.ContainsFunc(page.Orders, func(o sdk.Order) bool { return last.known[o.ExternalID] }) {
			if err := last.wait(ctx); err != nil {
				return err
			}
		}
		select {
		case <-last.done:
			if last.err != nil {
				return last.err
			}
		default:
		}
	}
	pending, err := p.im.orders.PreparePage(ctx, p.ch, page, p.lease)
	if err != nil {
		return fmt.Errorf("storing orders: %w", err)
	}
	job := &pageJob{done: make(chan struct{}), prev: p.last, known: make(map[string]bool, len(page.Orders))}
	for _, o := range page.Orders {
		job.known[o.ExternalID] = true
	}
	p.last, p.beforeLast = job, p.last
	before := func(ctx context.Context) error {
		if prev := job.prev; prev != nil && prev.wait(ctx) != nil {
			return errEarlierPage
		}
		return nil
	}
	go func() {
		defer close(job.done)
		_, committed, err := pending.Commit(ctx, p.committed, before)
		if job.prev != nil {
			<-job.prev.done // also when this page failed before its commit
		}
		switch {
		case errors.Is(err, errEarlierPage):
			job.err = job.prev.err
		case err != nil:
			job.err = fmt.Errorf("storing orders: %w", err)
		default:
			p.im.mu.Lock()
			*p.run = *committed
			p.im.mu.Unlock()
		}
		job.prev = nil // the chain holds no more than the pages in flight
	}()
	return nil
}

// committed is the run as the pages committed so far left it.
func (p *pipeline) committed() *host.Run {
	p.im.mu.Lock()
	defer p.im.mu.Unlock()
	r := *p.run
	return &r
}

// wait waits for every page in flight and returns the first error of a
// page.
func (p *pipeline) wait() error {
	if p.last == nil {
		return nil
	}
	<-p.last.done // a page is done only once the page before it is
	return p.last.err
}

// wait waits for the page to be stored and returns its error.
func (j *pageJob) wait(ctx context.Context) error {
	select {
	case <-j.done:
		return j.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// TestConnection runs the connector's connection test with the channel's
// configuration.
func (im *Importer) TestConnection(ctx context.Context, ch *host.Channel) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, im.cfg.TestTimeout)
	defer cancel()
	client, desc, err := im.connectors.Connector(ctx, ch.Connector)
	if err != nil {
		return "", err
	}
	cfg, err := desc.Check(ch.Config)
	if err != nil {
		return "", err
	}
	return client.TestConnection(ctx, cfg)
}
