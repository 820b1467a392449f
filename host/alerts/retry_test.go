package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestDefaultScheduleSpansADay: with the default policy, even the
// shortest waits (the most jitter) keep retrying for more than 24 hours,
// and the longest fit in the default max_age, so it is the attempts that
// end the retries.
func TestDefaultScheduleSpansADay(t *testing.T) {
	var least, most time.Duration
	for n := 1; n < alerts.DefaultRetry.MaxAttempts; n++ {
		lo, hi := alerts.Wait(alerts.DefaultBaseBackoff, alerts.DefaultMaxBackoff, n)
		if lo > hi || hi > alerts.DefaultMaxBackoff {
			t.Fatalf("wait %d = [%v, %v]", n, lo, hi)
		}
		least, most = least+lo, most+hi
	}
	maxAge, _ := time.ParseDuration(alerts.DefaultRetry.MaxAge)
	if least < 24*time.Hour || most > maxAge {
		t.Errorf("the default retries span %v to %v; want at least 24h and at most the max_age %v", least, most, maxAge)
	}
}

// clock is a test clock the dispatcher reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// outage is a receiver that answers 503 until the clock reaches back.
type outage struct {
	srv      *httptest.Server
	requests atomic.Int32
}

func newOutage(t *testing.T, c *clock, back time.Time) *outage {
	o := &outage{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		o.requests.Add(1)
		if c.Now().Before(back) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// advance moves the clock to each retry of the one delivery until it is
// no longer pending, and returns it.
func advance(t *testing.T, f *fixture, c *clock, d *alerts.Dispatcher) *host.Delivery {
	t.Helper()
	for range 200 {
		var dl *host.Delivery
		e2e.Eventually(t, 10*time.Second, func() error {
			all, err := f.db.Deliveries(context.Background(), "", 10)
			if err != nil || len(all) != 1 {
				return fmt.Errorf("deliveries %v, %v", all, err)
			}
			// Wait for the attempt in flight to be recorded: due in the
			// future, or done.
			if all[0].Status == host.DeliveryPending && !all[0].NextAttemptAt.After(c.Now()) {
				return fmt.Errorf("attempt %d not recorded yet", all[0].Attempts+1)
			}
			dl = all[0]
			return nil
		})
		if dl.Status != host.DeliveryPending {
			return dl
		}
		c.Set(dl.NextAttemptAt)
		d.Notify()
	}
	t.Fatal("the delivery was still pending after 200 attempts")
	return nil
}

// TestReceiverDownForADayIsDelivered: a receiver down for 25 hours gets
// the alert when it is back, with the default retry policy.
func TestReceiverDownForADayIsDelivered(t *testing.T) {
	f := setup(t)
	start := time.Now().UTC()
	c := &clock{now: start}
	rcv := newOutage(t, c, start.Add(25*time.Hour))
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationSlack, URL: rcv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	f.importLarge(t, "big-1")
	d := alerts.New(f.db, nil, alerts.Config{Tick: 10 * time.Millisecond, Now: c.Now})
	runDispatcher(t, d)
	dl := advance(t, f, c, d)
	if dl.Status != host.DeliveryDelivered || dl.Attempts < 10 || dl.DeliveredAt.Sub(start) < 25*time.Hour {
		t.Fatalf("after a 25h outage: %s after %d attempts, delivered at %v (%v after the first)", dl.Status, dl.Attempts, dl.DeliveredAt, dl.DeliveredAt.Sub(start))
	}
}

// TestDestinationRetryPolicy: a destination's own retry policy ends the
// retries after its max_attempts, or once the next attempt would come
// after its max_age.
func TestDestinationRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		retry    host.RetryPolicy
		attempts int
	}{
		{"max_attempts", host.RetryPolicy{MaxAttempts: 4}, 4},
		// 30s, 1m, 2m, 4m, 8m, 16m, 32m (at least 3/4 each): the attempt
		// after 47 minutes or more would be past one hour.
		{"max_age", host.RetryPolicy{MaxAge: "1h"}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			start := time.Now().UTC()
			c := &clock{now: start}
			rcv := newOutage(t, c, start.Add(1000*time.Hour))
			retry := tc.retry
			if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationSlack, URL: rcv.srv.URL, Retry: &retry}); err != nil {
				t.Fatal(err)
			}
			f.importLarge(t, "big-1")
			d := alerts.New(f.db, nil, alerts.Config{Tick: 10 * time.Millisecond, Now: c.Now})
			runDispatcher(t, d)
			dl := advance(t, f, c, d)
			if dl.Status != host.DeliveryFailed || !strings.Contains(dl.LastError, "gave up") {
				t.Fatalf("delivery = %+v", dl)
			}
			if tc.retry.MaxAttempts > 0 && dl.Attempts != tc.attempts {
				t.Errorf("%d attempts, want %d", dl.Attempts, tc.attempts)
			}
			if tc.retry.MaxAge != "" && (dl.Attempts < 6 || dl.Attempts > tc.attempts+1 || c.Now().Sub(start) > time.Hour) {
				t.Errorf("%d attempts over %v; want about %d within the hour", dl.Attempts, c.Now().Sub(start), tc.attempts)
			}
			if int(rcv.requests.Load()) != dl.Attempts {
				t.Errorf("the receiver saw %d requests for %d attempts", rcv.requests.Load(), dl.Attempts)
			}
		})
	}
}

// TestRedeliverMatching queues again the dead letters a filter selects,
// and only those.
func TestRedeliverMatching(t *testing.T) {
	f := setup(t)
	ctx := host.WithActor(context.Background(), host.System)
	now := time.Now().UTC()
	for i, to := range []string{"a", "a", "b"} {
		dl := &host.Delivery{ID: fmt.Sprint("alrt_", i), Alert: host.OpsDelivery(to, host.PolicyReloadRefused{Serving: "r", Error: fmt.Sprint(i)}, now).Alert,
			Status: host.DeliveryFailed, Attempts: 20, CreatedAt: now.Add(time.Duration(i) * time.Second), NextAttemptAt: now}
		if err := f.db.PutDelivery(ctx, dl); err != nil {
			t.Fatal(err)
		}
	}
	n, err := alerts.RedeliverMatching(ctx, f.db, host.DeliveryFilter{Destination: "a"})
	if err != nil || n != 2 {
		t.Fatalf("RedeliverMatching(destination a) = %d, %v; want 2", n, err)
	}
	for _, want := range []struct {
		status string
		n      int
	}{{host.DeliveryPending, 2}, {host.DeliveryFailed, 1}} {
		list, _ := f.db.Deliveries(ctx, want.status, 10)
		if len(list) != want.n {
			t.Errorf("%d %s, want %d", len(list), want.status, want.n)
		}
		for _, dl := range list {
			if want.status == host.DeliveryPending && (dl.Attempts != 0 || dl.Alert.To != "a" || dl.QueuedAt.Before(now)) {
				t.Errorf("redelivered %+v", dl)
			}
		}
	}
	if _, err := alerts.RedeliverMatching(ctx, f.db, host.DeliveryFilter{Status: host.DeliveryPending}); host.ErrorCode(err) != host.EINVALID {
		t.Errorf("redelivering pending alerts: %v, want invalid", err)
	}
}

func runDispatcher(t *testing.T, d *alerts.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestDeadLetteredAgainIsReportedAgain: an alert redelivered and given up
// once more raises a second alert_dead_lettered: each series of attempts
// is its own occurrence. The ops alerts reach a webhook without an order.
func TestDeadLetteredAgainIsReportedAgain(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer failing.Close()
	var mu sync.Mutex
	var opsBodies []map[string]any
	ops := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		opsBodies = append(opsBodies, body)
		mu.Unlock()
	}))
	defer ops.Close()
	for _, d := range []*host.Destination{
		{Name: "sales", Kind: host.DestinationSlack, URL: failing.URL, Retry: &host.RetryPolicy{MaxAttempts: 2}},
		{Name: "ops", Kind: host.DestinationWebhook, URL: ops.URL, Secret: "s3cret"},
	} {
		if err := f.db.CreateDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	f.importLarge(t, "big-1")
	d := run(t, f, alerts.Config{Ops: alerts.NewOps(f.db, f.db, nil, nil)})
	deadLetters := func() int {
		all, _ := f.db.Deliveries(ctx, "", 100)
		n := 0
		for _, dl := range all {
			if dl.Alert.Rule == host.OpsAlertDeadLettered {
				n++
			}
		}
		return n
	}
	salesAlert := func() *host.Delivery {
		all, _ := f.db.Deliveries(ctx, "", 100)
		for _, dl := range all {
			if dl.Alert.To == "sales" {
				return dl
			}
		}
		return nil
	}
	e2e.Eventually(t, 20*time.Second, func() error {
		if n := deadLetters(); n != 1 {
			return fmt.Errorf("%d alert_dead_lettered, want 1", n)
		}
		return nil
	})
	if err := alerts.Redeliver(host.WithActor(ctx, host.System), f.db, salesAlert().ID); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	e2e.Eventually(t, 20*time.Second, func() error {
		if n := deadLetters(); n != 2 {
			return fmt.Errorf("%d alert_dead_lettered after the redelivery failed too, want 2", n)
		}
		return nil
	})
	e2e.Eventually(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(opsBodies) < 2 {
			return fmt.Errorf("%d ops alerts received", len(opsBodies))
		}
		for _, b := range opsBodies {
			if _, ok := b["order"]; ok {
				return fmt.Errorf("an ops alert's payload has an order: %v", b)
			}
		}
		return nil
	})
}
