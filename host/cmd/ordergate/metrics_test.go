package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestMetricsAndPprof runs the real host with --metrics-addr and
// --pprof-addr: after the tutorial order, /metrics (without a key on its
// own address, with one on the API's) shows it held for custom_rule, the
// decision, the store's commits and the policy revision, and pprof serves.
func TestMetricsAndPprof(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--metrics-addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0")
	metricsAddr, pprofAddr := loggedAddr(t, h, "serving metrics"), loggedAddr(t, h, "serving pprof")
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "shopify", "kind": "b2c"}, 201)
	mustDo(t, h, "POST", "/api/v1/orders", h.AdminKey, tutorialOrder(t), 201)

	if code, _, _ := h.Do(t.Context(), "GET", "/metrics", "", nil); code != 401 {
		t.Errorf("/metrics on the API address without a key: %d, want 401", code)
	}
	_, onAPI := mustGet(t, h.URL+"/metrics", h.AdminKey)
	_, text := mustGet(t, "http://"+metricsAddr+"/metrics", "")
	revision := decode(t, mustDo(t, h, "GET", "/readyz", "", nil, 200))["revision"].(string)
	for name, body := range map[string]string{"the API address": onAPI, "--metrics-addr": text} {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: the scrape does not parse: %v", name, err)
		}
		for _, want := range []string{
			`ordergate_held_orders{reason="custom_rule"} 1`,
			`ordergate_orders{status="on_hold"} 1`,
			`ordergate_decisions_total{status="on_hold"} 1`,
			`ordergate_holds_total{reason="custom_rule"} 1`,
			`ordergate_policy_revision_info{revision="` + revision + `"} 1`,
			`ordergate_http_requests_total{code="201",method="POST",route="/api/v1/orders"} 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: /metrics lacks %s", name, want)
			}
		}
		if f := families["ordergate_store_commit_duration_seconds"]; f == nil || f.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
			t.Errorf("%s: no store commit observed", name)
		}
	}
	if code, body := mustGet(t, "http://"+pprofAddr+"/debug/pprof/", ""); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index: %d", code)
	}
}

// loggedAddr returns the addr of the host's log line with the message.
func loggedAddr(t *testing.T, h *e2e.Host, message string) string {
	t.Helper()
	h.WaitLog(t, `"@message":"`+message+`"`, 1, 10*time.Second)
	for _, line := range strings.Split(h.Logs(), "\n") {
		var entry struct {
			Message string `json:"@message"`
			Addr    string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == message {
			return entry.Addr
		}
	}
	t.Fatalf("no %q line with an addr", message)
	return ""
}

func mustGet(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, data)
	}
	return res.StatusCode, string(data)
}
