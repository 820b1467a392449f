package main_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/webhooktest"
)

// TestOrderEventsEndToEnd: through the real host on each store, a
// subscriber receives every event of orders' lives (imported, held,
// edited, released by an operator, by the timer and in bulk by a filter
// after a dry run, canceled in bulk),
// each verified by an independent Standard Webhooks verifier and by the
// project's library; the change feed has the same events, and a reader
// resumes it from its cursor after the host is killed with SIGKILL,
// skipping and repeating nothing.
func TestOrderEventsEndToEnd(t *testing.T) { onEachStore(t, testOrderEventsEndToEnd) }

func testOrderEventsEndToEnd(t *testing.T, store []string) {
	args := append([]string{"--policies", timedPolicies(t)}, store...)
	h := e2e.Start(t, bin, nil, args...)
	key := h.AdminKey
	rcv := webhooktest.New(t, "")
	dest := decode(t, mustDo(t, h, "POST", "/api/v1/alert-destinations", key,
		map[string]any{"name": "erp", "kind": "webhook", "url": rcv.URL, "events": []string{"order.*"}}, 201))
	secret := fmt.Sprint(dest["secret"])
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("created without a secret, the destination shows %q, want a new whsec_ secret, once", secret)
	}
	if shown := decode(t, mustDo(t, h, "GET", "/api/v1/alert-destinations/erp", key, nil, 200)); shown["secret"] == secret {
		t.Fatal("the secret is shown again after creation")
	}
	if err := rcv.SetSecret(secret); err != nil {
		t.Fatal(err)
	}
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)

	// Order #1203 (V789 × 5): held for review, tagged by hand, approved.
	ref := tutorialOrder(t)
	ref["channel_id"] = "acme"
	o1203 := decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, ref, 201))
	id1203 := fmt.Sprint(o1203["id"])
	mustDo(t, h, "PATCH", "/api/v1/orders/"+id1203, key, map[string]any{"add_tags": []string{"vip"}, "note": "called the customer"}, 200)
	mustDo(t, h, "POST", "/api/v1/orders/"+id1203+"/release", key, map[string]any{"note": "quantity confirmed"}, 200)
	// A timed hold of 1 second, lifted by the timer.
	timed := fmt.Sprint(decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, coolingOrder(t, "cool-1", "1s"), 201))["id"])
	// A long hold, canceled in bulk.
	long := fmt.Sprint(decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, coolingOrder(t, "cool-2", "1h"), 201))["id"])
	bulk := decode(t, mustDo(t, h, "POST", "/api/v1/orders:cancel", key, map[string]any{"note": "customer asked", "ids": []string{long}}, 200))
	if fmt.Sprint(bulk["changed"]) != "1" {
		t.Fatalf("bulk cancel = %v", bulk)
	}
	// Another order held for review, released in bulk by a filter, after a
	// dry run that changes nothing.
	ref2 := tutorialOrder(t)
	ref2["channel_id"], ref2["external_id"], ref2["number"] = "acme", "5531204", "#1204"
	ref2["shipping_address"] = map[string]any{"address1": "2 Main St", "city": "Austin", "country": "US"}
	id1204 := fmt.Sprint(decode(t, mustDo(t, h, "POST", "/api/v1/orders", key, ref2, 201))["id"])
	dry := decode(t, mustDo(t, h, "POST", "/api/v1/orders:release?tag=Review+Needed&channel_id=acme&dry_run=true", key, map[string]any{"note": "stock checked"}, 200))
	if fmt.Sprint(dry["matched"], dry["changed"]) != "1 0" {
		t.Fatalf("dry run = %v, want matched 1 (order #1204), changed 0", dry)
	}
	if o := decode(t, mustDo(t, h, "GET", "/api/v1/orders/"+id1204, key, nil, 200)); o["status"] != "on_hold" {
		t.Fatalf("the dry run changed order #1204: %v", o["status"])
	}
	released := decode(t, mustDo(t, h, "POST", "/api/v1/orders:release?tag=Review+Needed&channel_id=acme", key, map[string]any{"note": "stock checked"}, 200))
	if fmt.Sprint(released["matched"], released["changed"]) != "1 1" {
		t.Fatalf("bulk release = %v", released)
	}
	want := map[string][]string{
		id1203: {"order.imported", "order.held", "order.edited", "order.released"},
		timed:  {"order.imported", "order.held", "order.reevaluated", "order.released"}, // the timer re-evaluates, then lifts
		long:   {"order.imported", "order.held", "order.canceled"},
		id1204: {"order.imported", "order.held", "order.released"},
	}
	total := 0
	for _, types := range want {
		total += len(types)
	}

	got := rcv.WaitFor(t, 30*time.Second, fmt.Sprintf("%d events", total), func(ds []webhooktest.Delivery) bool { return len(ds) >= total })
	byOrder := map[string][]string{}
	ids := map[string]bool{}
	for _, d := range got {
		id := fmt.Sprint(d.Event.Data.Order["id"])
		byOrder[id] = append(byOrder[id], d.Event.Type)
		ids[d.ID] = true
	}
	for id, types := range want {
		gotTypes := slices.Sorted(slices.Values(byOrder[id]))
		if !slices.Equal(gotTypes, slices.Sorted(slices.Values(types))) {
			t.Errorf("order %s: subscriber received %v, want %v", id, byOrder[id], types)
		}
	}
	if len(ids) != total {
		t.Errorf("%d distinct webhook-ids for %d events", len(ids), total)
	}
	if bad := rcv.Refused(); len(bad) > 0 {
		t.Errorf("deliveries that failed verification: %v", bad)
	}

	// The feed: the same events, each order's in the order they happened.
	readFeed := func(h *e2e.Host, after string, pages int) (events []map[string]any, cursor string) {
		cursor = after
		for i := 0; pages == 0 || i < pages; i++ {
			page := decode(t, mustDo(t, h, "GET", "/api/v1/events?limit=2&types=order.*&after="+cursor, key, nil, 200))
			list, _ := page["events"].([]any)
			for _, e := range list {
				ev := e.(map[string]any)
				events = append(events, ev)
				cursor = fmt.Sprint(ev["cursor"])
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				return events, cursor
			}
			cursor = next
		}
		return events, cursor
	}
	first, cursor := readFeed(h, "", 3)
	h.Kill()
	h2 := e2e.Start(t, bin, nil, args...)
	rest, _ := readFeed(h2, cursor, 0)
	feed := append(first, rest...)
	feedByOrder := map[string][]string{}
	seen := map[string]bool{}
	for _, ev := range feed {
		id := fmt.Sprint(ev["id"])
		if seen[id] {
			t.Errorf("event %s read twice across the restart", id)
		}
		seen[id] = true
		if !ids[id] {
			t.Errorf("feed event %s (%v) was not delivered to the subscriber", id, ev["type"])
		}
		feedByOrder[fmt.Sprint(ev["order_id"])] = append(feedByOrder[fmt.Sprint(ev["order_id"])], fmt.Sprint(ev["type"]))
	}
	for id, types := range want {
		if !slices.Equal(feedByOrder[id], types) {
			t.Errorf("feed of order %s = %v, want %v in this order", id, feedByOrder[id], types)
		}
	}
	if len(feed) != total {
		t.Errorf("the feed read across a SIGKILL has %d events, want %d", len(feed), total)
	}
}
