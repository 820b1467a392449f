// Package app is the composition root of a host: it builds every part
// from one Config (the policy engine, the metrics, the services, the
// connectors, the importer, the alert dispatcher and the HTTP API), runs
// the parts that work in the background until its context ends, and
// stops them. `ordergate serve` and the tests build hosts with it.
package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/api"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/catalog"
	"github.com/ordergate/ordergate/host/channels"
	"github.com/ordergate/ordergate/host/cluster"
	"github.com/ordergate/ordergate/host/connectors"
	"github.com/ordergate/ordergate/host/console"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/keys"
	"github.com/ordergate/ordergate/host/metrics"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/rulestats"
	"github.com/ordergate/ordergate/host/sla"
	"github.com/ordergate/ordergate/host/timer"
	"github.com/ordergate/ordergate/host/users"
)

// Config is what a host is built from. The store is the caller's: it
// opens it before New and closes it after Run has returned.
type Config struct {
	Store host.Store
	// Backup writes a consistent copy of the store (nil when it cannot).
	Backup func(w io.Writer) (int64, error)

	// Policies is the policy directory; EvalTimeout bounds one
	// evaluation (policy.DefaultEvalTimeout when 0); Watch reloads the
	// policies when their files change.
	Policies    string
	EvalTimeout time.Duration
	Watch       bool
	// MaxHoldFor bounds how far ahead a timed hold may fall due
	// (policy.DefaultMaxHoldFor when 0).
	MaxHoldFor time.Duration
	// EventRetention is how long the change feed keeps events
	// (host.DefaultEventRetention when 0; negative keeps them forever).
	EventRetention time.Duration
	// SLAEvery is how often the hold queue is checked against its SLAs
	// (sla.DefaultEvery when 0).
	SLAEvery time.Duration
	// CanaryOrders is how many recently decided orders a reloaded
	// revision is replayed on before it serves
	// (backtest.DefaultCanaryOrders when 0; negative runs no canary).
	// CanaryWarnOnly lets a revision that cannot decide some of them
	// serve all the same, with a warning, instead of refusing it.
	CanaryOrders   int
	CanaryWarnOnly bool
	// RuleHitsEvery is how often rule hit counts are stored
	// (rulestats.DefaultFlushEvery when 0); they are stored at
	// shutdown too.
	RuleHitsEvery time.Duration

	// Plugins is the connector directory, PluginPins the SHA-256 pin of
	// each connector (none pinned when nil).
	Plugins    string
	PluginPins map[string]string

	// API sets the HTTP API's limits; its services, store, engine and the
	// like are set by New.
	API api.Config
	// Importer and Alerts tune the importer and the dispatcher; their
	// Ops, observers and wake signal are set by New.
	Importer importer.Config
	Alerts   alerts.Config

	// Console tunes the operator console (its cookies, its sign-in
	// throttle); its services are set by New. UserOptions tune the user
	// service (argon2id's costs, the session lifetime).
	Console     console.Config
	UserOptions []users.Option

	// LeaseTTL is the channel lease TTL when hosts share the store
	// (cluster.DefaultTTL when 0); Addr is the address the host serves
	// on, shown to the other hosts.
	LeaseTTL time.Duration
	Addr     string

	Log hclog.Logger
	// Now is the host's clock (time.Now in UTC when nil): every service
	// sets times from it.
	Now     func() time.Time
	Version string
}

// App is a host: every part, built and wired.
type App struct {
	Store        host.Store
	Engine       *policy.Engine
	Metrics      *metrics.Metrics
	Orders       *orders.Service
	Channels     *channels.Service
	Catalog      *catalog.Service
	Keys         *keys.Service
	Destinations *alerts.Destinations
	Connectors   *connectors.Manager
	Importer     *importer.Importer
	// Cluster is the host's membership among the hosts sharing the store;
	// nil when the store is the host's alone (bbolt).
	Cluster    *cluster.Node
	Dispatcher *alerts.Dispatcher
	// FanOut queues deliveries of the events destinations subscribe to.
	FanOut *alerts.FanOut
	Ops    *alerts.Ops
	// SLA raises alerts for orders held longer than their SLA.
	SLA *sla.Watcher
	// Timer acts on timed holds when they fall due.
	Timer *timer.Timer
	// RuleStats counts each output rule's hits in recorded decisions;
	// Backtests runs the API's backtest jobs.
	RuleStats *rulestats.Recorder
	Backtests *backtest.Jobs
	// Users keeps the console's accounts and sessions; Console serves the
	// console's pages, behind the API's routes.
	Users   *users.Service
	Console *console.Console
	API     *api.Server

	cfg      Config
	log      hclog.Logger
	stopJobs context.CancelFunc
}

// New builds a host and loads its policies: a revision that does not
// compile or pass its tests is an error, as no order could be decided.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	a := &App{Store: cfg.Store, cfg: cfg, log: cfg.Log}
	a.Engine = policy.NewEngine(cfg.Policies, cfg.Log, cfg.EvalTimeout)
	if cfg.MaxHoldFor > 0 {
		a.Engine.SetMaxHoldFor(cfg.MaxHoldFor)
	}
	revision := func() string {
		if rev := a.Engine.Revision(); rev != nil {
			return rev.ID
		}
		return ""
	}
	a.Metrics = metrics.New(metrics.Sources{Counts: cfg.Store, Version: cfg.Version, Revision: revision})
	a.Engine.Observe(a.Metrics)
	if o, ok := cfg.Store.(host.CommitsObserved); ok {
		o.ObserveCommits(a.Metrics)
	}
	if _, err := a.Engine.Reload(ctx); err != nil {
		return nil, fmt.Errorf("the policies in %s cannot serve: %w", cfg.Policies, err)
	}

	manager, err := connectors.New(cfg.Plugins, cfg.PluginPins, cfg.Log)
	if err != nil {
		return nil, err
	}
	manager.OnRestart(a.Metrics.ObserveConnectorRestart)
	a.Connectors = manager

	wake := alerts.NewWake()
	a.Ops = alerts.NewOps(cfg.Store, cfg.Store, cfg.Log, wake)
	alertCfg := cfg.Alerts
	alertCfg.Ops, alertCfg.Attempts, alertCfg.Wake = a.Ops, a.Metrics, wake
	a.Dispatcher = alerts.New(cfg.Store, cfg.Log, alertCfg)
	a.FanOut = alerts.NewFanOut(cfg.Store, cfg.Log, wake, 0)
	switch {
	case cfg.EventRetention == 0:
		a.FanOut.KeepEvents(host.DefaultEventRetention)
	case cfg.EventRetention > 0:
		a.FanOut.KeepEvents(cfg.EventRetention)
	}
	a.Engine.OnRefused(func(previous string, err error) {
		a.Ops.Raise(context.Background(), host.PolicyReloadRefused{Serving: previous, Error: err.Error()})
	})

	a.Orders = orders.NewService(cfg.Store, a.Engine, cfg.Log)
	a.Orders.SetClock(cfg.Now)
	a.RuleStats = rulestats.NewRecorder(cfg.Store, func(id string) []policy.OutputRule {
		if rev := a.Engine.Revision(); rev != nil && rev.ID == id {
			return rev.Rules
		}
		return nil
	})
	a.RuleStats.ObserveHits(a.Metrics.ObserveRuleHit)
	a.RuleStats.OnError = func(err error) { a.log.Warn("rule statistics", "error", err) }
	a.Orders.OnDecisionsRecorded(a.RuleStats.Recorded)
	factsNow := func(ctx context.Context, r *host.Record) (*host.OrderContext, error) {
		return a.Orders.FactsNow(host.WithActor(ctx, host.System), r)
	}
	if cfg.CanaryOrders >= 0 {
		n := cfg.CanaryOrders
		if n == 0 {
			n = backtest.DefaultCanaryOrders
		}
		a.Engine.SetCanary(backtest.Canary(cfg.Store, factsNow, n, a.Engine.Replay), cfg.CanaryWarnOnly)
		a.Engine.OnCanary(func(outcome string, r *policy.CanaryReport) { a.Metrics.ObserveCanary(outcome, r.Changed) })
	}
	var jobsCtx context.Context
	jobsCtx, a.stopJobs = context.WithCancel(context.WithoutCancel(ctx))
	a.Backtests = backtest.NewJobs(jobsCtx, 20)
	a.Backtests.Observe(a.Metrics.ObserveBacktest)
	a.SLA = sla.New(sla.Config{Store: cfg.Store, Ops: a.Ops, Now: cfg.Now, Every: cfg.SLAEvery, Log: cfg.Log})
	a.Timer = timer.New(timer.Config{Store: cfg.Store, Orders: a.Orders, Now: cfg.Now, Log: cfg.Log})
	importCfg := cfg.Importer
	importCfg.Ops, importCfg.Runs = a.Ops, a.Metrics
	if cs, ok := cfg.Store.(host.ClusterStore); ok {
		a.Cluster = cluster.New(cluster.Config{Store: cs, TTL: cfg.LeaseTTL, Addr: cfg.Addr, Version: cfg.Version,
			Revision: revision, Channels: importedChannels(cfg.Store), Raise: a.Ops.Raise, Log: cfg.Log})
		importCfg.Leases = a.Cluster
	}
	a.Importer = importer.New(cfg.Store, manager, a.Orders, cfg.Log, importCfg)
	if a.Cluster != nil {
		a.Cluster.OnTakeOver(a.Importer.TakeOver)
		a.Cluster.OnImportRequested(func(ctx context.Context, channelID string) {
			if _, err := a.Importer.ImportNow(ctx, channelID); err != nil && host.ErrorCode(err) != host.ECONFLICT {
				a.log.Warn("starting an import another host asked for", "channel", channelID, "error", err)
			}
		})
	}
	a.Channels = channels.New(cfg.Store, manager, a.Importer, cfg.Now)
	a.Catalog = catalog.New(cfg.Store, a.Orders, cfg.Now, cfg.Log)
	a.Keys = keys.New(cfg.Store, cfg.Now)
	a.Destinations = alerts.NewDestinations(cfg.Store, a.Dispatcher, cfg.Now)

	a.Users = users.New(cfg.Store, cfg.Now, cfg.UserOptions...)
	consoleCfg := cfg.Console
	consoleCfg.Store, consoleCfg.Orders, consoleCfg.Users, consoleCfg.Engine = cfg.Store, a.Orders, a.Users, a.Engine
	consoleCfg.Importer, consoleCfg.Notify, consoleCfg.Log, consoleCfg.Now = a.Importer, a.Dispatcher.Notify, cfg.Log, cfg.Now
	if a.Console, err = console.New(consoleCfg); err != nil {
		return nil, err
	}

	apiCfg := cfg.API
	apiCfg.Store, apiCfg.Orders, apiCfg.Channels, apiCfg.Catalog = cfg.Store, a.Orders, a.Channels, a.Catalog
	apiCfg.Destinations, apiCfg.Keys, apiCfg.Dispatcher = a.Destinations, a.Keys, a.Dispatcher
	apiCfg.Connectors, apiCfg.Importer, apiCfg.Engine, apiCfg.Backup = manager, a.Importer, a.Engine, cfg.Backup
	apiCfg.Log, apiCfg.Version, apiCfg.Metrics = cfg.Log, cfg.Version, a.Metrics
	apiCfg.Console = a.Console
	apiCfg.Backtests, apiCfg.RuleStats = a.Backtests, a.RuleStats
	if a.Cluster != nil {
		apiCfg.Hosts = a.Cluster
	} else {
		apiCfg.Hosts = newSoloHost(cfg.Addr, cfg.Version, revision, importedChannels(cfg.Store))
	}
	a.API = api.New(apiCfg)
	return a, nil
}

// Handler is the HTTP API.
func (a *App) Handler() http.Handler { return a.API.Handler() }

// Run runs the importer, the alert dispatcher, the timer and (with Watch) the policy
// watcher until ctx ends, then waits for them to stop: imports in flight
// end interrupted, deliveries in flight stay pending for the next start.
func (a *App) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { a.Importer.Run(ctx); return nil })
	eg.Go(func() error { a.Dispatcher.Run(ctx); return nil })
	eg.Go(func() error { a.FanOut.Run(ctx); return nil })
	eg.Go(func() error { a.Timer.Run(ctx); return nil })
	eg.Go(func() error { a.SLA.Run(ctx); return nil })
	eg.Go(func() error { a.pruneSessions(ctx); return nil })
	eg.Go(func() error { return a.RuleStats.Run(ctx, a.cfg.RuleHitsEvery) })
	if a.Cluster != nil {
		eg.Go(func() error { return a.Cluster.Run(ctx) })
	}
	if a.cfg.Watch {
		eg.Go(func() error {
			if err := a.Engine.Watch(ctx); err != nil {
				a.log.Warn("policy files are not watched; reload with SIGHUP or the API", "error", err)
			}
			return nil
		})
	}
	return eg.Wait()
}

// SessionPruneEvery is how often expired console sessions are removed.
const SessionPruneEvery = time.Hour

// pruneSessions removes expired console sessions at start and then
// hourly (an expired session is refused before then all the same).
func (a *App) pruneSessions(ctx context.Context) {
	t := time.NewTicker(SessionPruneEvery)
	defer t.Stop()
	for {
		if n, err := a.Users.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("removing expired console sessions", "error", err)
		} else if n > 0 {
			a.log.Debug("removed expired console sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the connector processes. Call it after Run has returned.
func (a *App) Close() {
	a.stopJobs()
	a.Connectors.Close()
	// Decisions committed while the HTTP server drained, after Run's
	// last flush, are counted too.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.RuleStats.Flush(ctx); err != nil {
		a.log.Warn("rule statistics", "error", err)
	}
}

// importedChannels lists the channels the importer imports: those a host
// sharing the store leases.
func importedChannels(store host.ChannelStore) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		channels, err := store.Channels(ctx)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, ch := range channels {
			if importer.Imported(ch) {
				out = append(out, ch.ID)
			}
		}
		return out, nil
	}
}
