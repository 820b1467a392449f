// Package metrics is ordergate's Prometheus instrumentation: the one
// package that imports client_golang. Metrics implements the small
// observer interfaces the host's parts declare (policy.Observer,
// bolt.CommitObserver, importer.RunObserver, alerts.AttemptObserver, the
// API's request observer), so they report what they do without knowing
// Prometheus, and it reads the store's counts (held orders, the outbox)
// when scraped, at a cost that does not grow with the orders stored.
//
// Every series is named ordergate_<subsystem>_<name>, with _total on
// counters and _seconds on durations.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// Sources are what the metrics read when scraped.
type Sources struct {
	// Counts are the store's counts (orders by status and hold reason,
	// the outbox by destination and state).
	Counts host.CountStore
	// Revision returns the policy revision in force ("" when none).
	Revision func() string
	// Version is the host's version.
	Version string
}

// Metrics holds the host's series in a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	decisions        *prometheus.CounterVec
	decisionDuration prometheus.Histogram
	holds            *prometheus.CounterVec

	importRuns        *prometheus.CounterVec
	importOrders      *prometheus.CounterVec
	connectorRestarts *prometheus.CounterVec

	alertAttempts *prometheus.CounterVec

	commitDuration prometheus.Histogram
	commitWrites   prometheus.Histogram

	ruleHits *prometheus.CounterVec

	backtestRuns   *prometheus.CounterVec
	backtestOrders prometheus.Counter

	canaryReloads *prometheus.CounterVec
	canaryChanged prometheus.Gauge
}

// New returns the host's metrics, reading src when scraped.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_http_requests_total",
		Help: "HTTP requests answered, by route (its pattern), method and status code."}, []string{"route", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ordergate_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route and method.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route", "method"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_decisions_total",
		Help: "Workflow decisions, by the status they imply (open, on_hold, canceled); a policy_error decision is on_hold."}, []string{"status"})
	m.decisionDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_decision_duration_seconds",
		Help: "Time to evaluate the workflow for one order.", Buckets: prometheus.ExponentialBuckets(0.00002, 2, 16)})
	m.holds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_holds_total",
		Help: "Holds the workflow decided, by hold reason (counted on every decision, re-evaluations included)."}, []string{"reason"})
	m.importRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_import_runs_total",
		Help: "Connector import runs ended, by channel and status (succeeded, partial, failed, interrupted)."}, []string{"channel", "status"})
	m.importOrders = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_import_orders_total",
		Help: "Orders import runs met, by channel and outcome (imported, existing, updated, rejected)."}, []string{"channel", "outcome"})
	m.connectorRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_connector_restarts_total",
		Help: "Connector processes restarted (they exited, or stopped answering), by connector."}, []string{"connector"})
	m.alertAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_alert_attempts_total",
		Help: "Alert delivery attempts, by destination and result (delivered, retry, dead)."}, []string{"destination", "result"})
	m.commitDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_store_commit_duration_seconds",
		Help: "Time of one store commit (a group of writes and its fsync).", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)})
	m.commitWrites = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_store_commit_writes",
		Help: "Writes committed together in one store commit (group commit).", Buckets: prometheus.ExponentialBuckets(1, 2, 11)})
	m.ruleHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_rule_hits_total",
		Help: "Recorded decisions an output rule had an effect in (once per decision), by policy revision, package (below ordergate.workflow), output and rule."},
		[]string{"revision", "package", "output", "rule"})
	m.backtestRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_backtest_runs_total",
		Help: "Backtests ended, by status (succeeded, failed)."}, []string{"status"})
	m.backtestOrders = prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_backtest_orders_total",
		Help: "Orders backtests replayed."})
	m.canaryReloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_canary_reloads_total",
		Help: "Policy reloads checked by a canary replay of recent orders, by outcome (accepted, refused, warned)."}, []string{"outcome"})
	m.canaryChanged = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordergate_canary_changed_orders",
		Help: "Orders whose decision the last canary replay changed."})
	// The statuses and outcomes are few and known: export them at 0 from
	// the start, so that rates and alerts see the first one.
	for _, status := range []string{"succeeded", "failed"} {
		m.backtestRuns.WithLabelValues(status)
	}
	for _, outcome := range []string{"accepted", "refused", "warned"} {
		m.canaryReloads.WithLabelValues(outcome)
	}

	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.decisions, m.decisionDuration, m.holds, m.importRuns, m.importOrders,
		m.connectorRestarts, m.alertAttempts, m.commitDuration, m.commitWrites,
		m.ruleHits, m.backtestRuns, m.backtestOrders, m.canaryReloads, m.canaryChanged,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{src: src})
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gatherer is the registry, for tests and linting.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// ObserveRequest counts an HTTP request.
func (m *Metrics) ObserveRequest(route, method string, code int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // any token is a method: keep the label's values few
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// ObserveDecision counts a workflow decision and its holds.
func (m *Metrics) ObserveDecision(d *sdk.Decision, took time.Duration) {
	m.decisions.WithLabelValues(string(d.Status)).Inc()
	m.decisionDuration.Observe(took.Seconds())
	for _, h := range d.Holds {
		m.holds.WithLabelValues(h.Reason).Inc()
	}
}

// ObserveRun counts an ended import run and its orders.
func (m *Metrics) ObserveRun(r *host.Run) {
	m.importRuns.WithLabelValues(r.ChannelID, r.Status).Inc()
	for outcome, n := range map[string]int{"imported": r.Imported, "existing": r.Existing, "updated": r.Updated, "rejected": r.Rejected} {
		m.importOrders.WithLabelValues(r.ChannelID, outcome).Add(float64(n))
	}
}

// ObserveConnectorRestart counts a connector's restart.
func (m *Metrics) ObserveConnectorRestart(name string) {
	m.connectorRestarts.WithLabelValues(name).Inc()
}

// ObserveAttempt counts an alert delivery attempt.
func (m *Metrics) ObserveAttempt(destination, result string) {
	m.alertAttempts.WithLabelValues(destination, result).Inc()
}

// ObserveCommit records one store commit.
func (m *Metrics) ObserveCommit(writes int, took time.Duration) {
	m.commitDuration.Observe(took.Seconds())
	m.commitWrites.Observe(float64(writes))
}

// ObserveRuleHit counts a recorded decision in which an output rule of
// a revision had an effect (the rule statistics' hit observer, see
// rulestats.Recorder.ObserveHits). The series grow with the revisions
// deployed, until the host restarts.
func (m *Metrics) ObserveRuleHit(revision string, r policy.OutputRule) {
	m.ruleHits.WithLabelValues(revision, r.Package, r.Output, r.Rule).Inc()
}

// ObserveBacktest counts an ended backtest (status succeeded or failed)
// and the orders it replayed.
func (m *Metrics) ObserveBacktest(status string, orders int) {
	m.backtestRuns.WithLabelValues(status).Inc()
	m.backtestOrders.Add(float64(orders))
}

// ObserveCanary counts a reload the canary replay checked (outcome
// accepted, refused or warned) and records how many orders it changed.
func (m *Metrics) ObserveCanary(outcome string, changed int) {
	m.canaryReloads.WithLabelValues(outcome).Inc()
	m.canaryChanged.Set(float64(changed))
}

// stateCollector reads what the host holds when scraped: held orders,
// orders by status, the outbox, the policy revision and the version.
type stateCollector struct{ src Sources }

var (
	descOrders   = prometheus.NewDesc("ordergate_orders", "Stored orders, by status.", []string{"status"}, nil)
	descHeld     = prometheus.NewDesc("ordergate_held_orders", "Orders on hold, by hold reason (an order held for two reasons counts under both).", []string{"reason"}, nil)
	descOutbox   = prometheus.NewDesc("ordergate_alerts_outbox", "Alert deliveries not delivered, by destination and state (pending, retrying, dead).", []string{"destination", "state"}, nil)
	descRevision = prometheus.NewDesc("ordergate_policy_revision_info", "The policy revision in force (value 1).", []string{"revision"}, nil)
	descBuild    = prometheus.NewDesc("ordergate_build_info", "The host's version (value 1).", []string{"version"}, nil)
	descUp       = prometheus.NewDesc("ordergate_store_up", "1 when the store answered the scrape's read of its counts, 0 when it did not.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOrders, descHeld, descOutbox, descRevision, descBuild, descUp} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, c.src.Version)
	if c.src.Revision != nil {
		if rev := c.src.Revision(); rev != "" {
			ch <- prometheus.MustNewConstMetric(descRevision, prometheus.GaugeValue, 1, rev)
		}
	}
	if c.src.Counts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.src.Counts.Counts(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	for _, st := range []sdk.Status{sdk.StatusOpen, sdk.StatusOnHold, sdk.StatusCanceled} {
		ch <- prometheus.MustNewConstMetric(descOrders, prometheus.GaugeValue, float64(counts.Orders[st]), string(st))
	}
	for reason, n := range counts.Held {
		ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(n), reason)
	}
	for dest, states := range counts.Outbox {
		for _, state := range []string{host.OutboxPending, host.OutboxRetrying, host.OutboxDead} {
			ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(states[state]), dest, state)
		}
	}
}
