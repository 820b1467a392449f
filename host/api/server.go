// Package api is ordergate's HTTP API, served with gin. Every route is
// declared once in a table (routes.go) that registers it, checks its query
// parameters (query.go) and generates the OpenAPI document, so the
// document cannot drift from the code.
package api

import (
	"context"
	"golang.org/x/time/rate"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/catalog"
	"github.com/ordergate/ordergate/host/channels"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/keys"
	"github.com/ordergate/ordergate/host/metrics"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/rulestats"
)

// Config holds what the API is built from: the store, read directly, and
// the services, through which every change goes.
type Config struct {
	Store        host.Store
	Orders       *orders.Service
	Channels     *channels.Service
	Catalog      *catalog.Service
	Destinations *alerts.Destinations
	Keys         *keys.Service
	// Dispatcher delivers alerts; nil when none runs.
	Dispatcher *alerts.Dispatcher
	// Connectors and Importer serve b2c channels; nil on a host that runs
	// no connectors.
	Connectors Connectors
	Importer   *importer.Importer
	Engine     *policy.Engine
	// Backtests runs backtest jobs; RuleStats counts rule hits.
	Backtests *backtest.Jobs
	RuleStats *rulestats.Recorder
	// Backup writes a consistent copy of the database (bolt.DB.Backup);
	// nil when the store cannot.
	Backup func(w io.Writer) (int64, error)
	Log    hclog.Logger
	// BodyLimit bounds a single-order request body (default 1 MiB);
	// BatchBodyLimit a batch request (default 16 MiB).
	BodyLimit      int64
	BatchBodyLimit int64
	// KeyRate limits each reseller key to this many requests per second
	// (a token bucket holding KeyBurst); over it, 429 with Retry-After.
	// 0 is no limit. Admin keys are not limited.
	KeyRate  float64
	KeyBurst int
	// InventoryBodyLimit bounds an inventory upload (default 64 MiB).
	InventoryBodyLimit int64
	// Version is reported by /healthz.
	Version string
	// Hosts lists the hosts sharing the store (GET /api/v1/hosts) and
	// describes this one (GET /api/v1/status).
	Hosts Hosts
	// StoreName names the store, without secrets (a DSN redacted).
	StoreName string
	// Metrics records requests and serves GET /metrics; when nil the API
	// keeps metrics of its own requests only.
	Metrics *metrics.Metrics
	// Console serves every path that is not the API's (the operator
	// console's pages); nil answers them with 404 problems.
	Console http.Handler
}

// Server serves the API.
type Server struct {
	cfg     Config
	log     hclog.Logger
	limits  *keyLimits
	router  *gin.Engine
	openapi []byte
	// routeOf maps gin's path patterns to the route table's.
	routeOf map[string]string
}

var setGinMode sync.Once

// New builds the API's handler.
func New(cfg Config) *Server {
	setGinMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.BatchBodyLimit <= 0 {
		cfg.BatchBodyLimit = 16 << 20
	}
	if cfg.InventoryBodyLimit <= 0 {
		cfg.InventoryBodyLimit = 64 << 20
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	s := &Server{cfg: cfg, log: cfg.Log.Named("http"), limits: &keyLimits{rate: cfg.KeyRate, burst: cfg.KeyBurst, byKey: map[string]*rate.Limiter{}}}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// SKUs may contain '/': match on the escaped path (%2F) and unescape
	// the parameters.
	r.UseRawPath = true
	r.UnescapePathValues = true
	if cfg.Metrics == nil {
		s.cfg.Metrics = metrics.New(metrics.Sources{Version: cfg.Version})
	}
	r.Use(s.recoverer, s.requestLog, s.observe)
	r.NoRoute(func(c *gin.Context) {
		if cfg.Console != nil && !isAPIPath(c.Request.URL.Path) {
			c.Status(http.StatusOK) // gin set 404 or 405; the console sets its own
			cfg.Console.ServeHTTP(c.Writer, c.Request)
			return
		}
		s.abort(c, host.Errorf(host.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		if cfg.Console != nil && !isAPIPath(c.Request.URL.Path) {
			c.Status(http.StatusOK) // gin set 404 or 405; the console sets its own
			cfg.Console.ServeHTTP(c.Writer, c.Request)
			return
		}
		s.abort(c, host.Errorf(host.EMETHOD, "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	table := s.routes()
	s.routeOf = make(map[string]string, len(table))
	for _, rt := range table {
		s.routeOf[ginPath(rt.path)] = rt.path
		// The key first (a caller without one learns nothing of the
		// route), then the query, then the handler.
		handlers := []gin.HandlerFunc{}
		if rt.role != "" {
			handlers = append(handlers, s.authenticate(rt.role))
		}
		handlers = append(handlers, s.checkQuery(rt), rt.handler)
		r.Handle(rt.method, ginPath(rt.path), handlers...)
	}
	s.openapi = openAPIDocument(table, cfg.Version)
	s.router = r
	return s
}

// isAPIPath reports whether a path is the API's: those answer problem
// documents, never console pages.
func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/api" || p == "/healthz" || p == "/readyz" || p == "/metrics" || p == "/openapi.json"
}

// Handler returns the http.Handler of the API.
func (s *Server) Handler() http.Handler { return s.router }

// Timeouts bound how long a client may take; zero fields take the
// defaults of DefaultTimeouts.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// DefaultTimeouts are the HTTP server's timeouts unless configured.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 60 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second}

// NewHTTPServer wraps the API in an http.Server with timeouts that protect
// against slow clients.
func (s *Server) NewHTTPServer(addr string, t Timeouts) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Addr:              addr,
		Handler:           s.router,
		ReadHeaderTimeout: or(t.ReadHeader, DefaultTimeouts.ReadHeader),
		ReadTimeout:       or(t.Read, DefaultTimeouts.Read),
		WriteTimeout:      or(t.Write, DefaultTimeouts.Write),
		IdleTimeout:       or(t.Idle, DefaultTimeouts.Idle),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
}

func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			s.abort(c, host.Errorf(host.EINTERNAL, "internal error"))
		}
	}()
	c.Next()
}

// requestLog writes one structured line per request. It never logs headers
// or bodies, so keys and order data stay out of the log.
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	args := []any{"method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration", time.Since(start).String(), "bytes", c.Writer.Size(), "remote", c.ClientIP()}
	if k, ok := c.Get(ctxKey); ok {
		args = append(args, "key", k.(*host.APIKey).ID)
	}
	if c.Writer.Status() >= 500 {
		s.log.Warn("request", args...)
	} else {
		s.log.Debug("request", args...)
	}
}

// observe records each request in the metrics, by its route's pattern
// as the route table writes it (/api/v1/orders/{id}): a bounded set of
// label values, whatever the paths requested.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.cfg.Metrics.ObserveRequest(s.routeOf[c.FullPath()], c.Request.Method, c.Writer.Status(), time.Since(start))
}

// ready reports whether the host can serve orders.
func (s *Server) readyErr(ctx context.Context) error {
	if s.cfg.Engine.Revision() == nil {
		return host.Errorf(host.EUNAVAILABLE, "no policy revision is loaded")
	}
	if _, err := s.cfg.Store.Keys(ctx); err != nil {
		return host.Errorf(host.EUNAVAILABLE, "the store does not answer: %v", err)
	}
	return nil
}
