package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/api"
	"github.com/ordergate/ordergate/host/app"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/cluster"
	"github.com/ordergate/ordergate/host/connectors"
	"github.com/ordergate/ordergate/host/keys"
	"github.com/ordergate/ordergate/host/metrics"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/host/sla"
	"github.com/ordergate/ordergate/sdk/plugin"
)

// serveConfig is the configuration of `ordergate serve`.
type serveConfig struct {
	addr, data, store, policies, plugins string
	pluginChecksums                      string
	reattachConnectors                   string
	logFormat, logLevel                  string
	evalTimeout                          time.Duration
	maxHoldFor                           time.Duration
	slaEvery                             time.Duration
	canaryOrders                         int
	canaryMode                           string
	eventRetention                       time.Duration
	bodyLimit, batchBodyLimit            int64
	keyRate                              float64
	tlsCert, tlsKey                      string
	secretKeyFile                        string
	timeouts                             api.Timeouts
	keyBurst                             int
	shutdownTimeout                      time.Duration
	watch                                bool
	gcPercent                            int
	metricsAddr, pprofAddr               string
	leaseTTL                             time.Duration
	commitDelay                          time.Duration
}

// DefaultGCPercent is the host's garbage collector target (as GOGC): the
// heap may grow to five times the live data before a collection. The live
// heap of a serving host is small (tens of MB) while intake allocates
// about 150 KB per order, so Go's default of 100 collects every few
// hundred orders; at 400 intake takes about 1.25 times as many orders per
// second (make bench, BenchmarkIntake) for a few tens of MB more heap.
const DefaultGCPercent = 400

// gcTarget is the collector target serve sets: percent from --gc-percent
// (or ORDERGATE_GC_PERCENT) when given, else none (false) when the GOGC
// environment variable is set, as the runtime has applied it, else
// percent, which is then DefaultGCPercent.
func gcTarget(percent int, given bool, gogc string) (int, bool) {
	if !given && gogc != "" {
		return 0, false
	}
	return percent, true
}

func serve(ctx context.Context, env Env, args []string) error {
	var cfg serveConfig
	fs := newFlags(env, "serve [flags]", "Runs the host: the HTTP API, the workflow, the connectors and the store. On\nthe first start with a data directory that has no API key, it creates an\nadmin key and prints it once on stdout.")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to serve HTTP on")
	fs.StringVar(&cfg.data, "data", "./data", "data directory (the bbolt database, when --store is not PostgreSQL)")
	fs.StringVar(&cfg.store, "store", "", storeUsage)
	fs.StringVar(&cfg.policies, "policies", "./policies", "policy directory (Rego and data files)")
	fs.StringVar(&cfg.plugins, "plugins", "./bin/plugins", "connector plugin directory (binaries ordergate-connector-<name>)")
	fs.StringVar(&cfg.pluginChecksums, "plugin-checksums", "", "sha256sum-format file pinning connector binaries (default: SHA256SUMS in the plugin directory, if present)")
	fs.StringVar(&cfg.reattachConnectors, "reattach-connectors", "", "for connector development: JSON of connectors running in debug mode to attach to instead of starting their binaries, as a connector started with -debug prints it")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	fs.DurationVar(&cfg.evalTimeout, "eval-timeout", policy.DefaultEvalTimeout, "deadline of one workflow evaluation")
	fs.DurationVar(&cfg.maxHoldFor, "max-hold-for", policy.DefaultMaxHoldFor, "how far ahead a timed hold may fall due; a rule's until or for beyond it holds the order as policy_error")
	fs.DurationVar(&cfg.eventRetention, "event-retention", host.DefaultEventRetention, "how long the change feed (GET /api/v1/events) keeps events; older ones are pruned hourly once fanned out (0: keep them forever)")
	fs.DurationVar(&cfg.slaEvery, "hold-sla-every", sla.DefaultEvery, "how often the hold queue is checked against the hold SLAs of the settings (hold_sla)")
	fs.Int64Var(&cfg.bodyLimit, "body-limit", 1<<20, "largest single-order request body, in bytes")
	fs.Int64Var(&cfg.batchBodyLimit, "batch-body-limit", 16<<20, "largest batch request body, in bytes")
	fs.Float64Var(&cfg.keyRate, "key-rate", 20, "requests per second each reseller key may make (0: no limit; admin keys have none)")
	fs.IntVar(&cfg.keyBurst, "key-burst", 40, "requests a reseller key may make at once above its rate")
	fs.StringVar(&cfg.secretKeyFile, "secret-key-file", "", "file with the key (32 bytes, base64 or hex) sealing stored secrets; or the key itself in ORDERGATE_SECRET_KEY")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS (with --tls-key)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.DurationVar(&cfg.timeouts.ReadHeader, "read-header-timeout", api.DefaultTimeouts.ReadHeader, "how long a client may take to send a request's headers")
	fs.DurationVar(&cfg.timeouts.Read, "read-timeout", api.DefaultTimeouts.Read, "how long a client may take to send a whole request")
	fs.DurationVar(&cfg.timeouts.Write, "write-timeout", api.DefaultTimeouts.Write, "how long writing a response may take (backups are exempt)")
	fs.DurationVar(&cfg.timeouts.Idle, "idle-timeout", api.DefaultTimeouts.Idle, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long shutdown waits for in-flight requests")
	fs.DurationVar(&cfg.commitDelay, "commit-delay", bolt.DefaultCommitDelay, "with the bbolt store: how long a commit waits for more writes when the one before had several (a group commit under concurrent writers; 0: never wait)")
	fs.IntVar(&cfg.gcPercent, "gc-percent", DefaultGCPercent, "garbage collector target, as GOGC: how far the heap may grow past live data before a collection (when not given, GOGC wins if set)")
	fs.BoolVar(&cfg.watch, "watch", true, "reload the policies when their files change")
	fs.IntVar(&cfg.canaryOrders, "canary-orders", backtest.DefaultCanaryOrders, "how many recently decided orders a reloaded revision is replayed on before it serves (0: no canary)")
	fs.StringVar(&cfg.canaryMode, "canary-mode", "refuse", "what a canary does with a revision that cannot decide orders the serving one decided: refuse it, or warn and let it serve")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "also serve /metrics on this address, without a key (off by default; /metrics on --addr needs an admin or metrics key)")
	fs.DurationVar(&cfg.leaseTTL, "lease-ttl", cluster.DefaultTTL, "with a PostgreSQL store shared by several hosts: the lease TTL of a channel's imports; another host takes a dead host's channels within 1.5 times it")
	fs.StringVar(&cfg.pprofAddr, "pprof-addr", "", "serve Go's net/http/pprof on this address, e.g. 127.0.0.1:6060 (off by default)")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	gcGiven := false // on the command line or in ORDERGATE_GC_PERCENT
	fs.Visit(func(f *flag.Flag) { gcGiven = gcGiven || f.Name == "gc-percent" })
	if cfg.commitDelay < 0 || cfg.commitDelay > time.Second {
		return fmt.Errorf("--commit-delay must be from 0 to 1s, not %s", cfg.commitDelay)
	}
	if cfg.gcPercent == 0 || cfg.gcPercent < -1 {
		return fmt.Errorf("--gc-percent must be positive, or -1 to turn collection off, not %d", cfg.gcPercent)
	}
	if cfg.leaseTTL < 3*time.Second {
		return fmt.Errorf("--lease-ttl must be at least 3s (renewed every third of it), not %s", cfg.leaseTTL)
	}
	if cfg.eventRetention < 0 || (cfg.eventRetention > 0 && cfg.eventRetention < time.Hour) {
		return fmt.Errorf("--event-retention must be at least 1h, or 0 to keep events forever, not %s", cfg.eventRetention)
	}
	if cfg.canaryOrders < 0 {
		return fmt.Errorf("--canary-orders must be 0 (no canary) or more, not %d", cfg.canaryOrders)
	}
	if cfg.canaryMode != "refuse" && cfg.canaryMode != "warn" {
		return fmt.Errorf("--canary-mode must be refuse or warn, not %q", cfg.canaryMode)
	}
	if cfg.slaEvery < 100*time.Millisecond {
		return fmt.Errorf("--hold-sla-every must be at least 100ms, not %s", cfg.slaEvery)
	}
	if cfg.maxHoldFor <= 0 {
		return fmt.Errorf("--max-hold-for must be positive, not %s", cfg.maxHoldFor)
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", cfg.logFormat)
	}
	if hclog.LevelFromString(cfg.logLevel) == hclog.NoLevel {
		return fmt.Errorf("--log-level must be trace, debug, info, warn or error, not %q", cfg.logLevel)
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "ordergate",
		Level:      hclog.LevelFromString(cfg.logLevel),
		Output:     env.Stderr,
		JSONFormat: cfg.logFormat == "json",
	})
	gogc := env.Getenv("GOGC")
	if percent, ok := gcTarget(cfg.gcPercent, gcGiven, gogc); ok {
		debug.SetGCPercent(percent)
		log.Debug("garbage collector target", "gc_percent", percent)
	} else {
		log.Debug("garbage collector target from GOGC", "gogc", gogc)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// What can fail without touching the data directory comes first: the
	// certificate and the address. Another process on the port must not
	// leave an admin key behind, created and printed but never served.
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("loading --tls-cert and --tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	// Shutdown closes ln once it serves; this closes it if serve returns
	// before that.
	defer ln.Close()
	extra, err := listenExtra(cfg)
	if err != nil {
		return err
	}
	defer extra.close()

	box, err := secrets.Load(cfg.secretKeyFile, env.Getenv("ORDERGATE_SECRET_KEY"))
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg.store, cfg.data, log)
	if err != nil {
		return err
	}
	defer db.close()
	if err := db.useSecrets(ctx, box); err != nil {
		return err
	}
	if db.setCommitDelay != nil {
		db.setCommitDelay(cfg.commitDelay)
	}

	checksums := cfg.pluginChecksums
	if checksums == "" {
		checksums = filepath.Join(cfg.plugins, connectors.ChecksumsFile)
	} else if _, err := os.Stat(checksums); err != nil {
		// A pin file named on purpose must exist: pinning must not switch
		// itself off.
		return fmt.Errorf("--plugin-checksums: %w", err)
	}
	pins, err := connectors.ReadChecksums(checksums)
	if err != nil {
		return fmt.Errorf("reading connector pins: %w", err)
	}
	a, err := app.New(ctx, app.Config{
		Store: db.Store, Backup: db.backup, Policies: cfg.policies, EvalTimeout: cfg.evalTimeout, MaxHoldFor: cfg.maxHoldFor, SLAEvery: cfg.slaEvery, CanaryOrders: canaryOrders(cfg.canaryOrders), CanaryWarnOnly: cfg.canaryMode == "warn", EventRetention: eventRetention(cfg.eventRetention), Watch: cfg.watch,
		Plugins: cfg.plugins, PluginPins: pins, Log: log, Version: Version, LeaseTTL: cfg.leaseTTL, Addr: ln.Addr().String(),
		API: api.Config{StoreName: db.name, BodyLimit: cfg.bodyLimit, BatchBodyLimit: cfg.batchBodyLimit, KeyRate: cfg.keyRate, KeyBurst: cfg.keyBurst},
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := reattachConnectors(a.Connectors, cfg.reattachConnectors, log); err != nil {
		return err
	}

	// The address is bound and the store and policies are ready, so a key
	// printed now is not lost to a host that cannot start.
	if err := firstAdminKey(ctx, env, a.Keys, db.Store); err != nil {
		return err
	}

	appDone := make(chan error, 1)
	appCtx, stopApp := context.WithCancel(ctx)
	defer func() { stopApp(); <-appDone }()
	go func() { appDone <- a.Run(appCtx) }()
	engine, m := a.Engine, a.Metrics

	httpServer := a.API.NewHTTPServer(cfg.addr, cfg.timeouts)
	if tlsConfig != nil {
		httpServer.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
	}

	go reloadOnHangup(ctx, engine, log)

	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	extra.serve(m, log)
	log.Info("ordergate serving", "addr", ln.Addr().String(), "store", db.name, "policies", cfg.policies,
		"revision", engine.Revision().ID, "version", Version, "tls", cfg.tlsCert != "")

	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down; finishing in-flight requests", "timeout", cfg.shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown did not finish cleanly", "error", err)
	}
	extra.shutdown(shutdownCtx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// extraListeners are the optional listeners of /metrics without a key
// and of pprof, bound with the API's address so a busy port fails first.
type extraListeners struct {
	metrics, pprof net.Listener
	servers        []*http.Server
}

func listenExtra(cfg serveConfig) (*extraListeners, error) {
	x := &extraListeners{}
	for _, l := range []struct {
		flag, addr string
		ln         *net.Listener
	}{{"--metrics-addr", cfg.metricsAddr, &x.metrics}, {"--pprof-addr", cfg.pprofAddr, &x.pprof}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			x.close()
			return nil, fmt.Errorf("%s: listening on %s: %w", l.flag, l.addr, err)
		}
		*l.ln = ln
	}
	return x, nil
}

// serve starts the servers of the bound listeners.
func (x *extraListeners) serve(m *metrics.Metrics, log hclog.Logger) {
	if x.metrics != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		x.start(x.metrics, mux, "metrics", log)
	}
	if x.pprof != nil {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		x.start(x.pprof, mux, "pprof", log)
	}
}

func (x *extraListeners) start(ln net.Listener, h http.Handler, name string, log hclog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	x.servers = append(x.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving "+name, "addr", ln.Addr().String(), "error", err)
		}
	}()
	log.Info("serving "+name, "addr", ln.Addr().String())
}

func (x *extraListeners) shutdown(ctx context.Context) {
	for _, srv := range x.servers {
		_ = srv.Shutdown(ctx)
	}
}

func (x *extraListeners) close() {
	for _, ln := range []net.Listener{x.metrics, x.pprof} {
		if ln != nil {
			ln.Close()
		}
	}
}

// firstAdminKey creates and prints an admin key when the store has no key
// at all, so a new installation can be used at once. The secret goes to
// stdout only, never to the log.
func firstAdminKey(ctx context.Context, env Env, svc *keys.Service, store host.KeyStore) error {
	existing, err := store.Keys(ctx)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return nil
	}
	k, secret, err := svc.Create(host.WithActor(ctx, host.System), "admin", "", "first admin key")
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "No API key existed, so an admin key (%s) was created. It is shown this once; keep it:\n%s\n", k.ID, secret)
	return nil
}

func reloadOnHangup(ctx context.Context, engine *policy.Engine, log hclog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP: reloading policies")
			_, _ = engine.Reload(ctx)
		}
	}
}

// reattachConnectors has the manager attach to the connectors of
// --reattach-connectors (ORDERGATE_REATTACH_CONNECTORS), which run in
// debug mode, instead of starting their binaries.
func reattachConnectors(manager *connectors.Manager, value string, log hclog.Logger) error {
	cfgs, err := plugin.ParseReattach(value)
	if err == nil {
		err = manager.Reattach(cfgs)
	}
	if err != nil {
		return fmt.Errorf("--reattach-connectors (%s): %w", plugin.ReattachEnv, err)
	}
	if len(cfgs) > 0 {
		names := slices.Sorted(maps.Keys(cfgs))
		log.Warn("attaching to connectors in debug mode instead of starting them (for connector development only)", "connectors", strings.Join(names, ","))
	}
	return nil
}

// eventRetention is the app's event retention for the flag's value: 0
// keeps events forever.
// canaryOrders is --canary-orders as app.Config takes it (negative: no
// canary).
func canaryOrders(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func eventRetention(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
