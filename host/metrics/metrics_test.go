package metrics_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/metrics"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// The metrics are the observer of each part that reports.
var (
	_ policy.Observer        = (*metrics.Metrics)(nil)
	_ host.CommitObserver    = (*metrics.Metrics)(nil)
	_ importer.RunObserver   = (*metrics.Metrics)(nil)
	_ alerts.AttemptObserver = (*metrics.Metrics)(nil)
	// The rule statistics' hit observer (rulestats.Recorder.ObserveHits).
	_ func(*metrics.Metrics, string, policy.OutputRule) = (*metrics.Metrics).ObserveRuleHit
)

type counts host.Counts

func (c counts) Counts(context.Context) (host.Counts, error) { return host.Counts(c), nil }

// TestExposition: every series the host exports follows Prometheus's
// naming rules (promlint finds nothing) and the scrape parses as the text
// exposition format, with the values observed.
func TestExposition(t *testing.T) {
	m := metrics.New(metrics.Sources{
		Counts: counts{Orders: map[sdk.Status]int64{sdk.StatusOnHold: 3, sdk.StatusOpen: 7}, Held: map[string]int64{sdk.HoldCustomRule: 2, sdk.HoldDuplicateOrder: 1},
			Outbox: map[string]map[string]int64{"sales": {host.OutboxRetrying: 4}}},
		Revision: func() string { return "d98a7890b05ab0bb" },
		Version:  "test",
	})
	m.ObserveRequest("/api/v1/orders", "POST", 201, 3*time.Millisecond)
	m.ObserveRequest("", "GET", 404, time.Millisecond)
	m.ObserveDecision(&sdk.Decision{Status: sdk.StatusOnHold, Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule}}}, 100*time.Microsecond)
	m.ObserveRun(&host.Run{ChannelID: "shop", Status: host.RunPartial, Imported: 5, Rejected: 1})
	m.ObserveConnectorRestart("shopify")
	m.ObserveAttempt("sales", "retry")
	m.ObserveCommit(12, 2*time.Millisecond)
	m.ObserveRuleHit("d98a7890b05ab0bb", policy.OutputRule{Package: "holds.duplicate_order", Output: "holds", Rule: "same_email"})
	m.ObserveRuleHit("d98a7890b05ab0bb", policy.OutputRule{Package: "holds.duplicate_order", Output: "holds", Rule: "same_email"})
	m.ObserveRuleHit("0ld", policy.OutputRule{Package: "review", Output: "tags", Rule: "vip"})
	m.ObserveBacktest("succeeded", 120)
	m.ObserveBacktest("failed", 30)
	m.ObserveBacktest("succeeded", 50)
	m.ObserveCanary("accepted", 4)
	m.ObserveCanary("warned", 9)

	problems, err := testutil.GatherAndLint(m.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, rec.Body.String())
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"ordergate_http_requests_total", map[string]string{"route": "/api/v1/orders", "method": "POST", "code": "201"}, 1},
		{"ordergate_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1},
		{"ordergate_decisions_total", map[string]string{"status": "on_hold"}, 1},
		{"ordergate_holds_total", map[string]string{"reason": "custom_rule"}, 1},
		{"ordergate_import_runs_total", map[string]string{"channel": "shop", "status": "partial"}, 1},
		{"ordergate_import_orders_total", map[string]string{"channel": "shop", "outcome": "imported"}, 5},
		{"ordergate_connector_restarts_total", map[string]string{"connector": "shopify"}, 1},
		{"ordergate_alert_attempts_total", map[string]string{"destination": "sales", "result": "retry"}, 1},
		{"ordergate_orders", map[string]string{"status": "on_hold"}, 3},
		{"ordergate_held_orders", map[string]string{"reason": "custom_rule"}, 2},
		{"ordergate_alerts_outbox", map[string]string{"destination": "sales", "state": "retrying"}, 4},
		{"ordergate_alerts_outbox", map[string]string{"destination": "sales", "state": "dead"}, 0},
		{"ordergate_policy_revision_info", map[string]string{"revision": "d98a7890b05ab0bb"}, 1},
		{"ordergate_build_info", map[string]string{"version": "test"}, 1},
		{"ordergate_store_up", nil, 1},
		{"ordergate_rule_hits_total", map[string]string{"revision": "d98a7890b05ab0bb", "package": "holds.duplicate_order", "output": "holds", "rule": "same_email"}, 2},
		{"ordergate_rule_hits_total", map[string]string{"revision": "0ld", "package": "review", "output": "tags", "rule": "vip"}, 1},
		{"ordergate_backtest_runs_total", map[string]string{"status": "succeeded"}, 2},
		{"ordergate_backtest_runs_total", map[string]string{"status": "failed"}, 1},
		{"ordergate_backtest_orders_total", nil, 200},
		{"ordergate_canary_reloads_total", map[string]string{"outcome": "accepted"}, 1},
		{"ordergate_canary_reloads_total", map[string]string{"outcome": "warned"}, 1},
		{"ordergate_canary_reloads_total", map[string]string{"outcome": "refused"}, 0},
		{"ordergate_canary_changed_orders", nil, 9},
	} {
		if got, ok := value(families, tc.name, tc.labels); !ok || got != tc.value {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.value)
		}
	}
	for name, want := range map[string][]string{
		"ordergate_rule_hits_total":       {"output", "package", "revision", "rule"},
		"ordergate_backtest_runs_total":   {"status"},
		"ordergate_backtest_orders_total": nil,
		"ordergate_canary_reloads_total":  {"outcome"},
		"ordergate_canary_changed_orders": nil,
	} {
		if families[name] == nil {
			t.Errorf("no %s", name)
			continue
		}
		for _, m := range families[name].GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName())
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s has labels %v, want %v", name, got, want)
			}
		}
	}
	for _, name := range []string{"ordergate_decision_duration_seconds", "ordergate_store_commit_duration_seconds", "ordergate_store_commit_writes", "ordergate_http_request_duration_seconds", "go_goroutines", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// value finds the value of the series with the labels (a counter, gauge
// or untyped value).
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestDashboardQueriesExportedSeries: every series the shipped Grafana
// dashboard (docs/grafana/ordergate.json) queries is one the host
// exports, so a renamed metric cannot leave a panel empty.
func TestDashboardQueriesExportedSeries(t *testing.T) {
	data, err := os.ReadFile("../../docs/grafana/ordergate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	m := metrics.New(metrics.Sources{Counts: counts{Outbox: map[string]map[string]int64{"x": {}}, Held: map[string]int64{"x": 1}}, Revision: func() string { return "r" }})
	m.ObserveRequest("/x", "GET", 200, 0)
	m.ObserveDecision(&sdk.Decision{Status: sdk.StatusOpen, Holds: []sdk.Hold{{Reason: "x"}}}, 0)
	m.ObserveRun(&host.Run{ChannelID: "x", Status: host.RunSucceeded})
	m.ObserveConnectorRestart("x")
	m.ObserveAttempt("x", "retry")
	m.ObserveCommit(1, 0)
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range families {
		exported[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exported[f.GetName()+suffix] = true
			}
		}
	}
	series := regexp.MustCompile(`\b(ordergate_[a-z_]+|process_[a-z_]+|go_[a-z_]+)\b`)
	queried := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range series.FindAllString(target.Expr, -1) {
				queried++
				if !exported[name] {
					t.Errorf("panel %q queries %s, which the host does not export", p.Title, name)
				}
			}
		}
	}
	if queried < 15 {
		t.Errorf("the dashboard queries %d series; is it the shipped one?", queried)
	}
}
