// Package importer runs "Get Orders" for b2c channels: on each enabled
// channel's poll interval, or at once when asked. Every order a connector
// streams goes through the same workflow and store path as B2B intake
// (orders.Service.Import); a page's cursor is saved only after its orders
// are stored, so a crash or a failing connector re-imports (recognised by
// channel + external id) and never loses an order. Each import is recorded
// as a Run on the channel.
package importer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/sdk"
)

// Store is what the importer reads and writes.
type Store interface {
	host.ChannelStore
	host.RunStore
}

// Connectors starts connectors; *connectors.Manager is the real one.
type Connectors interface {
	Connector(ctx context.Context, name string) (*sdk.Client, sdk.Description, error)
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
	// base is the context of every import; it ends when Run's does.
	base       context.Context
	cancelBase context.CancelFunc
}

// channelState is the scheduler's memory of one channel.
type channelState struct {
	running     *host.Run
	nextAt      time.Time
	failures    int       // consecutive failed runs
	lastSuccess time.Time // of the last successful run (or when first seen)
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
	base, cancel := context.WithCancel(context.Background())
	return &Importer{store: store, connectors: conns, orders: svc, log: log.Named("importer"), cfg: cfg,
		now: func() time.Time { return time.Now().UTC() }, state: map[string]*channelState{}, base: base, cancelBase: cancel}
}

// Run schedules imports until ctx ends, then waits for running imports to
// stop (they are canceled with ctx).
func (im *Importer) Run(ctx context.Context) {
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
		if !ch.Enabled || ch.Kind != host.ChannelB2C || ch.Connector == "" {
			continue
		}
		im.mu.Lock()
		st := im.stateOf(ch.ID)
		due := st.running == nil && !now.Before(st.nextAt)
		lastSuccess := st.lastSuccess
		im.mu.Unlock()
		if im.cfg.Ops != nil {
			if now.Sub(lastSuccess) > silence {
				im.cfg.Ops.Raise(ctx, "channel_silent", "warning",
					fmt.Sprintf("channel %s has had no successful import since %s (more than %s); see GET /api/v1/channels/%s/runs", ch.ID, lastSuccess.Format(time.RFC3339), silence, ch.ID),
					ch.ID+lastSuccess.String())
			}
		}
		if due {
			if _, err := im.start(ctx, ch, "schedule"); err != nil && host.ErrorCode(err) != host.ECONFLICT {
				im.log.Error("starting a scheduled import", "channel", ch.ID, "error", err)
			}
		}
	}
}

func (im *Importer) stateOf(id string) *channelState {
	st := im.state[id]
	if st == nil {
		st = &channelState{lastSuccess: im.now()}
		im.state[id] = st
	}
	return st
}

// ImportNow starts an import of the channel and returns its run, as it
// starts. An import already running is a conflict.
func (im *Importer) ImportNow(ctx context.Context, channelID string) (*host.Run, error) {
	ch, err := im.store.Channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if ch.Kind != host.ChannelB2C || ch.Connector == "" {
		return nil, host.Errorf(host.EINVALID, "channel %s has no connector; only b2c channels are imported", ch.ID)
	}
	// The import outlives the request that started it and ends with the
	// scheduler.
	return im.start(im.base, ch, "manual")
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
// many runs in a row have failed.
func (im *Importer) NextRun(channelID string) (time.Time, int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	st := im.stateOf(channelID)
	return st.nextAt, st.failures
}

func (im *Importer) start(ctx context.Context, ch *host.Channel, trigger string) (*host.Run, error) {
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
		err := im.runImport(ctx, ch, run)
		im.finish(ch, run, err)
	}()
	return &snapshot, nil
}

// finish records the end of a run and schedules the channel's next one.
func (im *Importer) finish(ch *host.Channel, run *host.Run, err error) {
	now := im.now()
	im.mu.Lock()
	run.FinishedAt = &now
	st := im.stateOf(ch.ID)
	if err != nil {
		run.Status = host.RunFailed
		run.Errors = append([]string{err.Error()}, run.Errors...)
		st.failures++
		backoff := min(5*time.Second<<min(st.failures-1, 16), im.cfg.MaxBackoff, ch.Interval())
		st.nextAt = now.Add(backoff)
	} else {
		run.Status = host.RunSucceeded
		st.failures = 0
		st.lastSuccess = now
		st.nextAt = now.Add(ch.Interval())
	}
	failures := st.failures
	final := *run
	im.mu.Unlock()

	// The run's record is written with a fresh context: the host may be
	// stopping, and the record says so.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if perr := im.store.PutRun(ctx, &final); perr != nil {
		im.log.Error("recording an import run", "channel", ch.ID, "run", run.ID, "error", perr)
	}
	if err != nil && im.cfg.Ops != nil && failures == im.cfg.Ops.Config(ctx).ChannelFailures {
		im.cfg.Ops.Raise(ctx, "channel_failing", "critical",
			fmt.Sprintf("channel %s: %d imports in a row failed; the last: %v. The channel stays enabled and is retried with back-off", ch.ID, failures, err),
			ch.ID+run.ID)
	}
	// Only now is the run over: its record and alerts are written.
	im.mu.Lock()
	st.running = nil
	im.mu.Unlock()
	if err != nil {
		im.log.Warn("import failed", "channel", ch.ID, "run", run.ID, "failures_in_a_row", failures, "error", err)
	} else {
		im.log.Info("import finished", "channel", ch.ID, "run", run.ID, "seen", run.OrdersSeen, "imported", run.Imported, "held", run.Held)
	}
}

// errIdle ends an import whose connector went quiet.
var errIdle = errors.New("the connector sent nothing")

// runImport streams the channel's orders into the workflow and store.
func (im *Importer) runImport(ctx context.Context, ch *host.Channel, run *host.Run) error {
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

	err = client.GetOrders(streamCtx, cfg, run.CursorBefore, func(page sdk.Page) error {
		idle.Stop()
		defer idle.Reset(im.cfg.IdleTimeout)
		return im.storePage(ctx, ch, run, page)
	})
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

// storePage imports one page, then saves its cursor.
func (im *Importer) storePage(ctx context.Context, ch *host.Channel, run *host.Run, page sdk.Page) error {
	incoming := make([]orders.Incoming, len(page.Orders))
	for i := range page.Orders {
		o := page.Orders[i]
		o.ChannelID = ""
		incoming[i] = orders.Incoming{Order: &o}
	}
	var results []orders.Result
	if len(incoming) > 0 {
		var err error
		if results, err = im.orders.Import(ctx, ch, incoming); err != nil {
			return fmt.Errorf("storing orders: %w", err)
		}
	}
	im.mu.Lock()
	run.Pages++
	run.OrdersSeen += len(page.Orders)
	for i, res := range results {
		switch {
		case res.Err != nil:
			run.Rejected++
			run.AddError(fmt.Sprintf("order %s rejected: %v", page.Orders[i].ExternalID, res.Err))
		case res.Created:
			run.Imported++
			if res.Record.Status == sdk.StatusOnHold {
				run.Held++
			}
		default:
			run.Existing++
		}
	}
	for _, p := range page.Problems {
		run.AddError(fmt.Sprintf("%s: %s", p.Source, p.Message))
	}
	im.mu.Unlock()
	// The orders above are committed: only now may the cursor move past them.
	if page.Cursor != "" {
		if err := im.store.SaveCursor(ctx, ch.ID, page.Cursor); err != nil {
			return fmt.Errorf("saving the cursor: %w", err)
		}
		im.mu.Lock()
		run.CursorAfter = page.Cursor
		im.mu.Unlock()
	}
	return nil
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
