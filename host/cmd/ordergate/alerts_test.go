package main_test

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestPendingAlertsSurviveAKill: alerts are queued with their orders; the
// receiver is down while the host runs, the host is killed, and after a
// restart every alert reaches the receiver (signed), each id counted once.
func TestPendingAlertsSurviveAKill(t *testing.T) {
	var up atomic.Bool
	var mu sync.Mutex
	got := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(alerts.HeaderTimestamp), 10, 64)
		if !hmac.Equal([]byte(alerts.Sign("whsec_test", ts, body)), []byte(r.Header.Get(alerts.HeaderSignature))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p alerts.Payload
		json.Unmarshal(body, &p)
		mu.Lock()
		got[p.ID]++
		mu.Unlock()
	}))
	defer rcv.Close()

	data := t.TempDir()
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	key := h.AdminKey
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	mustDo(t, h, "POST", "/api/v1/alert-destinations", key, map[string]any{"name": "sales", "kind": "webhook", "url": rcv.URL, "secret": "whsec_test"}, 201)
	const n = 5
	for i := range n {
		o := tutorialOrder(t)
		o["channel_id"], o["external_id"] = "acme", fmt.Sprintf("big-%d", i)
		o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d Main St", i), "city": "Austin", "country": "US"}
		o["totals"] = map[string]any{"total": "2500.00"}
		mustDo(t, h, "POST", "/api/v1/orders", key, o, 201)
	}
	// The receiver is down: the alerts are retried, still pending.
	e2e.Eventually(t, 20*time.Second, func() error {
		list := decode(t, mustDo(t, h, "GET", "/api/v1/alerts?status=pending", key, nil, 200))["alerts"].([]any)
		tried := 0
		for _, a := range list {
			if a.(map[string]any)["attempts"].(float64) > 0 {
				tried++
			}
		}
		if len(list) != n || tried == 0 {
			return fmt.Errorf("%d pending, %d tried", len(list), tried)
		}
		return nil
	})
	h.Kill()

	up.Store(true)
	again := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	e2e.Eventually(t, 60*time.Second, func() error {
		list := decode(t, mustDo(t, again, "GET", "/api/v1/alerts?status=delivered", key, nil, 200))["alerts"].([]any)
		if len(list) != n {
			return fmt.Errorf("%d of %d delivered", len(list), n)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Errorf("the receiver got %d distinct alerts, want %d", len(got), n)
	}
}
