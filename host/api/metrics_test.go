package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsEndpoint: /metrics serves the Prometheus text format to an
// admin or metrics key, labels requests by their route's pattern (not the
// path asked for), and a metrics key can read nothing else.
func TestMetricsEndpoint(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	key := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "metrics"}), http.StatusCreated).json(t)["secret"].(string)
	h.createChannel("shopify", "b2c")
	o := h.expect(h.do("POST", "/api/v1/orders", h.admin, order(t, map[string]any{"channel_id": "shopify"})), http.StatusCreated).json(t)
	h.expect(h.do("GET", "/api/v1/orders/"+o["id"].(string), h.admin, nil), http.StatusOK)
	h.expect(h.do("GET", "/api/v1/orders/nope", h.admin, nil), http.StatusNotFound)

	r := h.expect(h.do("GET", "/metrics", key, nil), http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(r.body)
	for _, want := range []string{
		`ordergate_http_requests_total{code="201",method="POST",route="/api/v1/orders"} 1`,
		`ordergate_http_requests_total{code="200",method="GET",route="/api/v1/orders/{id}"} 1`,
		`ordergate_http_requests_total{code="404",method="GET",route="/api/v1/orders/{id}"} 1`,
		`ordergate_http_request_duration_seconds_bucket{method="POST",route="/api/v1/orders",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, o["id"].(string)) {
		t.Error("an order id reached a metric label")
	}
	h.expect(h.do("GET", "/api/v1/orders", key, nil), http.StatusForbidden)
	h.expect(h.do("GET", "/metrics", h.resellerKey("acme"), nil), http.StatusForbidden)
	h.expect(h.do("GET", "/metrics", h.admin, nil), http.StatusOK)
}
