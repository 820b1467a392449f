package main_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// timedPolicies is a copy of the shipped policies with one more rule: an
// order whose custom field hold_for is set is held for that long.
func timedPolicies(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.CopyFS(dir, os.DirFS(policies)); err != nil {
		t.Fatal(err)
	}
	rule := `package ordergate.workflow.cooling

holds contains {"rule": "cool_off", "message": "cooling off", "for": input.order.custom_fields.hold_for} if {
	input.order.custom_fields.hold_for
}
`
	if err := os.WriteFile(filepath.Join(dir, "workflow", "cooling.rego"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// coolingOrder is an order of channel acme held only by the cooling rule,
// for holdFor.
func coolingOrder(t *testing.T, external, holdFor string) map[string]any {
	o := tutorialOrder(t)
	o["channel_id"], o["external_id"] = "acme", external
	o["line_items"] = []map[string]any{{"sku": "V789", "title": "Valve", "quantity": 1, "unit_price": "19.99"}}
	o["shipping_address"] = map[string]any{"address1": external + " Main St", "city": "Austin", "country": "US"}
	o["custom_fields"] = map[string]any{"hold_for": holdFor}
	return o
}

// TestTimedHoldLiftsItself: through the real host on each store, an order
// held for 2 seconds is listed by due_before, lifts by itself (on the
// timeline as system:timer), and one whose hold falls due while the host
// is down is lifted once at the next start.
func TestTimedHoldLiftsItself(t *testing.T) { onEachStore(t, testTimedHoldLiftsItself) }

func testTimedHoldLiftsItself(t *testing.T, store []string) {
	dir := timedPolicies(t)
	args := append([]string{"--policies", dir}, store...)
	h := e2e.Start(t, bin, nil, args...)
	key := h.AdminKey
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)

	posted := time.Now()
	a := decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, coolingOrder(t, "cool-a", "2s"), 201))
	holds, _ := a["holds"].([]any)
	if a["status"] != "on_hold" || len(holds) != 1 {
		t.Fatalf("order = %v", a)
	}
	hold := holds[0].(map[string]any)
	until, err := time.Parse(time.RFC3339Nano, fmt.Sprint(hold["until"]))
	if err != nil || until.Before(posted.Add(2*time.Second-time.Second)) || until.After(time.Now().Add(2*time.Second)) || hold["for"] != "2s" || hold["then"] != "release" {
		t.Fatalf("hold = %v, want until 2s after it was decided, for 2s, then release", hold)
	}
	soon := url.QueryEscape(time.Now().Add(time.Minute).Format(time.RFC3339))
	list := decode(t, mustDo(t, h, "GET", "/api/v1/orders?status=on_hold&due_before="+soon, key, nil, 200))
	if orders, _ := list["orders"].([]any); len(orders) != 1 {
		t.Errorf("due_before lists %v, want the held order", list)
	}
	id := fmt.Sprint(a["id"])
	e2e.Eventually(t, 20*time.Second, func() error {
		o := decode(t, mustDo(t, h, "GET", "/api/v1/orders/"+id, key, nil, 200))
		if o["status"] != "open" {
			return fmt.Errorf("order is %v", o["status"])
		}
		if n := countEvents(o, "hold_lifted", "system:timer"); n != 1 {
			return fmt.Errorf("%d hold_lifted events by system:timer", n)
		}
		return nil
	})

	// A hold that falls due while the host is down lifts at the next start.
	b := decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, coolingOrder(t, "cool-b", "3s"), 201))
	bUntil, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(b["holds"].([]any)[0].(map[string]any)["until"]))
	h.Kill()
	e2e.Eventually(t, 10*time.Second, func() error {
		if time.Now().Before(bUntil) {
			return fmt.Errorf("the hold is due at %s", bUntil)
		}
		return nil
	})
	h2 := e2e.Start(t, bin, nil, args...)
	e2e.Eventually(t, 20*time.Second, func() error {
		o := decode(t, mustDo(t, h2, "GET", "/api/v1/orders/"+fmt.Sprint(b["id"]), key, nil, 200))
		if o["status"] != "open" || countEvents(o, "hold_lifted", "system:timer") != 1 {
			return fmt.Errorf("order is %v, events %v", o["status"], o["events"])
		}
		return nil
	})
}

func countEvents(o map[string]any, typ, actor string) int {
	n := 0
	events, _ := o["events"].([]any)
	for _, e := range events {
		if e, ok := e.(map[string]any); ok && e["type"] == typ && e["actor"] == actor {
			n++
		}
	}
	return n
}

// TestTimedHoldsOnceAcrossHosts: two hosts on one PostgreSQL database
// each run a timer; every timed hold lifts once (one hold_lifted and one
// re-evaluation by system:timer per order), whichever host acted.
func TestTimedHoldsOnceAcrossHosts(t *testing.T) {
	hosts, key := startHosts(t, postgresServer(t).NewDatabase(t), 2, "--policies", timedPolicies(t))
	mustDo(t, hosts[0], "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	var ids []string
	for i := range 20 {
		o := decode(t, mustDo(t, hosts[i%2], "POST", "/api/v1/orders", key, coolingOrder(t, fmt.Sprintf("cool-%d", i), "1s"), 201))
		ids = append(ids, fmt.Sprint(o["id"]))
	}
	e2e.Eventually(t, 30*time.Second, func() error {
		for _, id := range ids {
			if o := decode(t, mustDo(t, hosts[1], "GET", "/api/v1/orders/"+id, key, nil, 200)); o["status"] != "open" {
				return fmt.Errorf("order %s is %v", id, o["status"])
			}
		}
		return nil
	})
	for _, id := range ids {
		o := decode(t, mustDo(t, hosts[0], "GET", "/api/v1/orders/"+id, key, nil, 200))
		if countEvents(o, "hold_lifted", "system:timer") != 1 || countEvents(o, "reevaluated", "system:timer") != 1 {
			t.Errorf("order %s: events %v, want one hold_lifted and one reevaluated by system:timer", id, o["events"])
		}
	}
}
