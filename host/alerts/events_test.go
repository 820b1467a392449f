package alerts_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/internal/webhooktest"
	"github.com/ordergate/ordergate/sdk"
)

// import1203 imports the reference order #1203 (V789 × 5), which the
// shipped policies hold for review.
func (f *fixture) import1203(t *testing.T) *host.Record {
	t.Helper()
	r := f.importOrder(t, order1203(t))
	if r.Status != sdk.StatusOnHold {
		t.Fatalf("order #1203 is %s, want on_hold", r.Status)
	}
	return r
}

// fanOut runs the fan-out until the test ends.
func fanOut(t *testing.T, f *fixture, d *alerts.Dispatcher) {
	t.Helper()
	fo := alerts.NewFanOut(f.db, nil, nil, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fo.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

var admin = &host.APIKey{ID: "ops-lead", Role: host.RoleAdmin}

func TestEventsDeliveredSignedStandardWebhooks(t *testing.T) {
	f := setup(t)
	secret := host.NewSecret()
	rcv := webhooktest.New(t, secret)
	// Every first attempt fails: the retry must carry the same webhook-id.
	rcv.Fail = func(_ webhooktest.Delivery, attempt int) bool { return attempt == 1 }
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "erp", Kind: host.DestinationWebhook, URL: rcv.URL, Secret: secret,
		Events: []string{"order.*"}}); err != nil {
		t.Fatal(err)
	}
	r := f.import1203(t)
	if _, err := f.svc.Release(host.WithActor(context.Background(), admin), r.ID, "checked with the customer"); err != nil {
		t.Fatal(err)
	}
	d := run(t, f, alerts.Config{})
	fanOut(t, f, d)
	got := rcv.WaitFor(t, 20*time.Second, "three events", func(ds []webhooktest.Delivery) bool { return len(ds) >= 3 })
	// Deliveries may arrive in any order (they are sent concurrently and
	// retried); each says when its change was.
	var types []string
	byType := map[string]webhooktest.Delivery{}
	for _, d := range got {
		types = append(types, d.Event.Type)
		byType[d.Event.Type] = d
		if d.Event.Data.ID != d.ID || d.Event.Data.Order["number"] != "#1203" || d.Event.Data.Order["id"] != r.ID {
			t.Errorf("delivery %s: data = %+v", d.ID, d.Event.Data)
		}
		if n := rcv.Attempts(d.ID); n != 2 {
			t.Errorf("delivery %s: %d attempts with its webhook-id, want 2 (a failed one, then the retry with the same id)", d.ID, n)
		}
	}
	slices.Sort(types)
	if want := []string{host.EventOrderHeld, host.EventOrderImported, host.EventOrderReleased}; !slices.Equal(types, want) {
		t.Errorf("received %v, want %v", types, want)
	}
	if rel := byType[host.EventOrderReleased]; rel.Event.Data.Order["status"] != "open" || rel.Event.Data.Actor != "key:ops-lead" {
		t.Errorf("order.released: order %v, actor %q", rel.Event.Data.Order["status"], rel.Event.Data.Actor)
	}
	if held := byType[host.EventOrderHeld]; held.Event.Data.Order["status"] != "on_hold" || !slices.Contains(held.Event.Data.Order["tags"].([]any), any("Review Needed")) {
		t.Errorf("order.held: order %v", held.Event.Data.Order)
	}
	if bad := rcv.Refused(); len(bad) > 0 {
		t.Errorf("refused: %v", bad)
	}
}

// TestSignatureOptions: a destination may ask for the ordergate-v1
// signature on events (receivers written for alerts keep verifying), or
// for Standard Webhooks on rules' alerts too.
func TestSignatureOptions(t *testing.T) {
	for _, tc := range []struct {
		signature    string
		wantStandard bool
	}{
		{host.SignatureOrdergate, false},
		{host.SignatureStandard, true},
	} {
		t.Run(tc.signature, func(t *testing.T) {
			f := setup(t)
			secret := host.NewSecret()
			var mu sync.Mutex
			verified := map[string]int{} // by type or "alert"
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				body, _ := io.ReadAll(req.Body)
				var ok bool
				if tc.wantStandard {
					ok = webhooktest.Verify(secret, req.Header, body, time.Now(), time.Minute) == nil
				} else {
					ts, _ := strconv.ParseInt(req.Header.Get(alerts.HeaderTimestamp), 10, 64)
					ok = hmac.Equal([]byte(alerts.Sign(secret, ts, body)), []byte(req.Header.Get(alerts.HeaderSignature))) && req.Header.Get("webhook-signature") == ""
				}
				if !ok {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				var p struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(body, &p)
				if p.Type == "" {
					p.Type = "alert"
				}
				mu.Lock()
				verified[p.Type]++
				mu.Unlock()
			}))
			t.Cleanup(srv.Close)
			if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationWebhook, URL: srv.URL, Secret: secret,
				Signature: tc.signature, Events: []string{host.EventOrderImported}}); err != nil {
				t.Fatal(err)
			}
			f.importLarge(t, "big-1") // raises an alert to "sales"
			d := run(t, f, alerts.Config{})
			fanOut(t, f, d)
			waitStatus(t, f, host.DeliveryDelivered, 2)
			mu.Lock()
			defer mu.Unlock()
			if verified["alert"] != 1 || verified[host.EventOrderImported] != 1 {
				t.Errorf("verified deliveries = %v, want the alert and the order.imported, each signed %s", verified, tc.signature)
			}
		})
	}
}

// TestEventDeadLetterAndRedeliver: an event whose receiver keeps failing
// is dead-lettered like an alert; redelivered, it arrives with the same
// webhook-id.
func TestEventDeadLetterAndRedeliver(t *testing.T) {
	f := setup(t)
	secret := host.NewSecret()
	rcv := webhooktest.New(t, secret)
	var down atomic.Bool
	down.Store(true)
	rcv.Fail = func(webhooktest.Delivery, int) bool { return down.Load() }
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "erp", Kind: host.DestinationWebhook, URL: rcv.URL, Secret: secret,
		Events: []string{host.EventOrderImported}, Retry: &host.RetryPolicy{MaxAttempts: 1}}); err != nil {
		t.Fatal(err)
	}
	f.import1203(t)
	d := run(t, f, alerts.Config{})
	fanOut(t, f, d)
	dead := waitStatus(t, f, host.DeliveryFailed, 1)[0]
	if dead.Event == nil || dead.Event.Type != host.EventOrderImported {
		t.Fatalf("dead letter = %+v", dead)
	}
	down.Store(false)
	if err := alerts.Redeliver(host.WithActor(context.Background(), admin), f.db, dead.ID); err != nil {
		t.Fatal(err)
	}
	got := rcv.WaitFor(t, 20*time.Second, "the redelivered event", func(ds []webhooktest.Delivery) bool { return len(ds) == 1 })
	if got[0].ID != dead.Event.ID || rcv.Attempts(dead.Event.ID) != 2 {
		t.Errorf("redelivered with webhook-id %s after %d attempts, want %s and 2", got[0].ID, rcv.Attempts(dead.Event.ID), dead.Event.ID)
	}
}

// TestFanOutPrunesTheFeed: events older than the retention go once they
// are fanned out; newer ones stay.
func TestFanOutPrunesTheFeed(t *testing.T) {
	f := setup(t)
	past := time.Now().UTC().Add(-48 * time.Hour)
	if _, err := f.db.AppendEvent(context.Background(), &host.Event{ID: "evt_old", Type: host.EventOrderImported, At: past, OrderID: "old"}); err != nil {
		t.Fatal(err)
	}
	r := f.import1203(t) // imported and held now: two events
	fo := alerts.NewFanOut(f.db, nil, nil, time.Hour)
	fo.KeepEvents(24 * time.Hour)
	if n := fo.Prune(context.Background()); n != 0 {
		t.Fatalf("pruned %d before the events were fanned out", n)
	}
	for fo.Once(context.Background()) {
	}
	if n := fo.Prune(context.Background()); n != 1 {
		t.Fatalf("pruned %d, want the event of two days ago", n)
	}
	evs, _, err := f.db.Events(context.Background(), host.EventFilter{})
	if err != nil || len(evs) != 2 || evs[0].OrderID != r.ID {
		t.Errorf("left: %d events (%v), want order %s's two", len(evs), err, r.ID)
	}
}
