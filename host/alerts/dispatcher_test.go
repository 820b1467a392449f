package alerts_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// receiver is a webhook receiver on loopback that verifies signatures and
// fails the first failFirst requests.
type receiver struct {
	srv       *httptest.Server
	secret    string
	failFirst int

	mu       sync.Mutex
	requests int
	ids      map[string]int
	badSigs  int
}

func newReceiver(t *testing.T, secret string, failFirst int) *receiver {
	r := &receiver{secret: secret, failFirst: failFirst, ids: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ts, _ := strconv.ParseInt(req.Header.Get(alerts.HeaderTimestamp), 10, 64)
		want := alerts.Sign(r.secret, ts, body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		if !hmac.Equal([]byte(want), []byte(req.Header.Get(alerts.HeaderSignature))) || time.Since(time.Unix(ts, 0)) > 5*time.Minute {
			r.badSigs++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.requests <= r.failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p alerts.Payload
		if err := json.Unmarshal(body, &p); err != nil || p.ID != req.Header.Get(alerts.HeaderID) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.ids[p.ID]++
	}))
	t.Cleanup(r.srv.Close)
	return r
}

type fixture struct {
	db  *bolt.DB
	svc *orders.Service
	ch  *host.Channel
}

func setup(t *testing.T) *fixture {
	t.Helper()
	db := e2e.OpenStore(t)
	engine := policy.NewEngine("../../policies", nil, time.Second)
	if _, err := engine.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch := &host.Channel{ID: "shop", Name: "Shop", Kind: host.ChannelB2C}
	if _, err := db.EnsureChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, svc: orders.NewService(db, engine, nil), ch: ch}
}

// order1203 reads the reference order #1203 (V789 × 5).
func order1203(t *testing.T) sdk.Order {
	t.Helper()
	data, err := os.ReadFile("../../sdk/testdata/order-1203.json")
	if err != nil {
		t.Fatal(err)
	}
	var o sdk.Order
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// importOrder imports o through the service.
func (f *fixture) importOrder(t *testing.T, o sdk.Order) *host.Record {
	t.Helper()
	res, err := f.svc.Import(context.Background(), f.ch, []orders.Incoming{{Order: &o}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	return res[0].Record
}

// importLarge imports an order over the sales rule's threshold, which
// raises an alert to "sales".
func (f *fixture) importLarge(t *testing.T, id string) *host.Record {
	t.Helper()
	o := order1203(t)
	o.ExternalID, o.Totals.Total = id, "1500.00"
	r := f.importOrder(t, o)
	if len(r.Alerts) != 1 || r.Alerts[0].To != "sales" {
		t.Fatalf("alerts = %v", r.Alerts)
	}
	return r
}

func run(t *testing.T, f *fixture, cfg alerts.Config) *alerts.Dispatcher {
	t.Helper()
	cfg.Tick, cfg.BaseBackoff = 10*time.Millisecond, 10*time.Millisecond
	d := alerts.New(f.db, nil, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

// waitStatus waits until every delivery has the status.
func waitStatus(t *testing.T, f *fixture, status string, n int) []*host.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := f.db.Deliveries(context.Background(), status, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == n {
			return list
		}
		if time.Now().After(deadline) {
			all, _ := f.db.Deliveries(context.Background(), "", 100)
			t.Fatalf("%d deliveries %s, want %d: %+v", len(list), status, n, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebhookRetriesUntilDeliveredOnce(t *testing.T) {
	f := setup(t)
	rcv := newReceiver(t, "s3cret", 2)
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationWebhook, URL: rcv.srv.URL, Secret: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	r := f.importLarge(t, "big-1")
	run(t, f, alerts.Config{})
	got := waitStatus(t, f, host.DeliveryDelivered, 1)[0]
	if got.Attempts != 3 || got.OrderID != r.ID || got.ID != host.DeliveryID(r.ID, &r.Alerts[0]) {
		t.Errorf("delivery = %+v", got)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.requests != 3 || rcv.badSigs != 0 || len(rcv.ids) != 1 {
		t.Errorf("receiver: %d requests, %d bad signatures, ids %v", rcv.requests, rcv.badSigs, rcv.ids)
	}
}

func TestReevaluationDoesNotResend(t *testing.T) {
	f := setup(t)
	r := f.importLarge(t, "big-1")
	// With no destination configured at all, the alert goes to the log.
	run(t, f, alerts.Config{})
	sent := waitStatus(t, f, host.DeliveryDelivered, 1)[0]
	for range 3 {
		if _, err := f.svc.Reevaluate(host.WithActor(context.Background(), &host.APIKey{ID: "test", Role: host.RoleAdmin}), r.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Importing the same channel order again creates nothing either.
	f.importLarge(t, "big-1")
	all, _ := f.db.Deliveries(context.Background(), "", 100)
	if len(all) != 1 || all[0].Status != host.DeliveryDelivered || all[0].Attempts != sent.Attempts {
		t.Fatalf("after re-evaluation: %+v, want the one delivered alert unchanged", all)
	}
}

func TestUnknownDestinationIsVisible(t *testing.T) {
	f := setup(t)
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "ops", Kind: host.DestinationLog}); err != nil {
		t.Fatal(err)
	}
	f.importLarge(t, "big-1")
	run(t, f, alerts.Config{})
	got := waitStatus(t, f, host.DeliveryFailed, 1)[0]
	if got.LastError == "" || got.Attempts != 0 {
		t.Errorf("delivery = %+v", got)
	}
}

func TestDeadLetterAndRedeliver(t *testing.T) {
	f := setup(t)
	rcv := newReceiver(t, "s3cret", 1000)
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationWebhook, URL: rcv.srv.URL, Secret: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	f.importLarge(t, "big-1")
	d := run(t, f, alerts.Config{MaxAttempts: 3, Ops: alerts.NewOps(f.db, f.db, nil, nil)})
	// The alert, and the ops alert about it, which fails too: "ops" is
	// not configured.
	var dead, ops *host.Delivery
	for _, dl := range waitStatus(t, f, host.DeliveryFailed, 2) {
		if dl.Alert.Rule == "alert_dead_lettered" {
			ops = dl
		} else {
			dead = dl
		}
	}
	if dead == nil || dead.Attempts != 3 {
		t.Fatalf("dead letter = %+v", dead)
	}
	if ops == nil || ops.Alert.To != "ops" || !strings.Contains(ops.Alert.Message, dead.ID) {
		t.Fatalf("ops alert = %+v", ops)
	}
	// The receiver recovers; an operator redelivers.
	rcv.mu.Lock()
	rcv.failFirst = 0
	rcv.mu.Unlock()
	if err := alerts.Redeliver(host.WithActor(context.Background(), host.System), f.db, dead.ID); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	if got := waitStatus(t, f, host.DeliveryDelivered, 1)[0]; got.ID != dead.ID {
		t.Errorf("delivered %s, want the redelivered %s", got.ID, dead.ID)
	}
}

// TestSlackMessage posts a readable message with the order number, the
// rule and the path to the order.
func TestSlackMessage(t *testing.T) {
	f := setup(t)
	var mu sync.Mutex
	var texts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		texts = append(texts, body.Text)
		mu.Unlock()
	}))
	defer srv.Close()
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationSlack, URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	r := f.importLarge(t, "big-1")
	run(t, f, alerts.Config{})
	waitStatus(t, f, host.DeliveryDelivered, 1)
	mu.Lock()
	defer mu.Unlock()
	if len(texts) != 1 || !strings.Contains(texts[0], "#1203") || !strings.Contains(texts[0], r.Alerts[0].Rule) || !strings.Contains(texts[0], "/api/v1/orders/"+r.ID) {
		t.Errorf("slack texts = %q", texts)
	}
}

// TestConcurrencyLimit: a destination with max_concurrency 1 never has two
// deliveries in flight.
func TestConcurrencyLimit(t *testing.T) {
	f := setup(t)
	var inflight, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // a slow receiver, so overlaps would show
	}))
	defer srv.Close()
	if err := f.db.CreateDestination(context.Background(), &host.Destination{Name: "sales", Kind: host.DestinationSlack, URL: srv.URL, MaxConcurrency: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		f.importLarge(t, "big-"+strconv.Itoa(i))
	}
	run(t, f, alerts.Config{})
	waitStatus(t, f, host.DeliveryDelivered, 6)
	if most.Load() != 1 {
		t.Errorf("%d deliveries were in flight at once, want at most 1", most.Load())
	}
}
