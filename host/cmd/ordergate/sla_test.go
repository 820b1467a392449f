package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/webhooktest"
)

// TestHoldSLAAlertOncePerOrder: through the real host, an order held
// longer than its reason's SLA raises one hold_sla_exceeded, delivered to
// a subscribed webhook and verified; later checks, and a host killed and
// started again, raise it no more, while another order's breach is
// raised in its turn.
func TestHoldSLAAlertOncePerOrder(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data", dir, "--policies", policies, "--hold-sla-every", "200ms"}
	h := e2e.Start(t, bin, nil, args...)
	key := h.AdminKey
	rcv := webhooktest.New(t, "")
	dest := decode(t, mustDo(t, h, "POST", "/api/v1/alert-destinations", key,
		map[string]any{"name": "pager", "kind": "webhook", "url": rcv.URL, "events": []string{"ops.hold_sla_exceeded"}}, 201))
	if err := rcv.SetSecret(fmt.Sprint(dest["secret"])); err != nil {
		t.Fatal(err)
	}
	mustDo(t, h, "PATCH", "/api/v1/settings", key, map[string]any{"hold_sla": map[string]any{"max_age": map[string]string{"custom_rule": "1s"}}}, 200)
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	post := func(h *e2e.Host, n int) string {
		o := tutorialOrder(t)
		o["channel_id"], o["external_id"], o["number"] = "acme", fmt.Sprint("sla-", n), fmt.Sprint("#SLA-", n)
		o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d SLA St", n), "city": "Austin", "country": "US"}
		got := decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, o, 201))
		if got["status"] != "on_hold" {
			t.Fatalf("order %d is %v", n, got["status"])
		}
		return fmt.Sprint("#SLA-", n)
	}
	// alertsFor counts the alerts (distinct webhook-ids: deliveries are at
	// least once, so a host killed mid-delivery may send one again) naming
	// each order number.
	alertsFor := func(ds []webhooktest.Delivery) map[string]int {
		n := map[string]int{}
		seen := map[string]bool{}
		for _, d := range ds {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			msg := fmt.Sprint(d.Event.Data.Alert["message"])
			for i := 1; i <= 3; i++ {
				if strings.Contains(msg, fmt.Sprintf("#SLA-%d ", i)) {
					n[fmt.Sprint("#SLA-", i)]++
				}
			}
		}
		return n
	}
	first := post(h, 1)
	rcv.WaitFor(t, 30*time.Second, "the first order's SLA alert", func(ds []webhooktest.Delivery) bool { return alertsFor(ds)[first] > 0 })
	// Another order's alert comes after more checks of the first.
	second := post(h, 2)
	got := rcv.WaitFor(t, 30*time.Second, "the second order's SLA alert", func(ds []webhooktest.Delivery) bool { return alertsFor(ds)[second] > 0 })
	if n := alertsFor(got); n[first] != 1 || n[second] != 1 {
		t.Fatalf("alerts by order = %v, want one each", n)
	}
	h.Kill()
	h2 := e2e.Start(t, bin, nil, args...)
	third := post(h2, 3)
	got = rcv.WaitFor(t, 30*time.Second, "the third order's SLA alert", func(ds []webhooktest.Delivery) bool { return alertsFor(ds)[third] > 0 })
	if n := alertsFor(got); n[first] != 1 || n[second] != 1 || n[third] != 1 {
		t.Errorf("after a restart, alerts by order = %v, want still one each", n)
	}
	for _, d := range got {
		if d.Event.Type != "ops.hold_sla_exceeded" || d.Event.Data.Alert["rule"] != "hold_sla_exceeded" {
			t.Errorf("delivery %s: %+v", d.ID, d.Event)
		}
	}
	if bad := rcv.Refused(); len(bad) > 0 {
		t.Errorf("refused: %v", bad)
	}
	events := decode(t, mustDo(t, h2, "GET", "/api/v1/events?types=ops.hold_sla_exceeded", key, nil, 200))["events"].([]any)
	if len(events) != 3 {
		t.Errorf("the feed has %d hold_sla_exceeded events, want 3", len(events))
	}
}
