package orders_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// timedFixture is a service on a real store whose workflow holds every
// order for two hours ("cool_off"), with a clock the test moves.
type timedFixture struct {
	db  host.Store
	svc *orders.Service
	ch  *host.Channel
	now atomic.Pointer[time.Time]
}

func newTimedFixture(t *testing.T) *timedFixture {
	t.Helper()
	dir := t.TempDir()
	rule := "package ordergate.workflow.cool\nholds contains {\"rule\": \"cool_off\", \"message\": \"new customer\", \"for\": \"2h\"} if true\n"
	if err := os.WriteFile(filepath.Join(dir, "cool.rego"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(dir, nil, time.Second)
	if _, err := engine.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := e2e.OpenStore(t)
	f := &timedFixture{db: db, ch: &host.Channel{ID: "shop", Kind: host.ChannelB2C}}
	if _, err := db.EnsureChannel(context.Background(), f.ch); err != nil {
		t.Fatal(err)
	}
	f.set(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	f.svc = orders.NewService(db, engine, nil)
	f.svc.SetClock(func() time.Time { return *f.now.Load() })
	return f
}

func (f *timedFixture) set(t time.Time) { f.now.Store(&t) }

func (f *timedFixture) importOrder(t *testing.T, external string) *host.Record {
	t.Helper()
	o := referenceOrder(t)
	o.ExternalID = external
	res, err := f.svc.Import(context.Background(), f.ch, []orders.Incoming{{Order: &o}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	return res[0].Record
}

// referenceOrder is order #1203 of the SDK's test data.
func referenceOrder(t *testing.T) sdk.Order {
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

func eventTypes(r *host.Record) (types []string) {
	for _, e := range r.Events {
		types = append(types, e.Type+"/"+e.Actor)
	}
	return types
}

// TestTimedHoldLiftsOnce: the timer's LiftDueHolds does nothing before
// the hold is due, lifts it when due (hold_lifted, then a re-evaluation,
// both by system:timer), and does nothing when called again.
func TestTimedHoldLiftsOnce(t *testing.T) {
	f := newTimedFixture(t)
	t0 := *f.now.Load()
	r := f.importOrder(t, "1")
	if r.Status != sdk.StatusOnHold || r.Holds[0].Until == nil || !r.Holds[0].Until.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("imported %s with holds %+v; want on_hold until %v", r.Status, r.Holds, t0.Add(2*time.Hour))
	}
	ctx := context.Background()
	f.set(t0.Add(time.Hour))
	if _, acted, err := f.svc.LiftDueHolds(ctx, r.ID); err != nil || acted {
		t.Fatalf("an hour early: acted %v, %v", acted, err)
	}
	f.set(t0.Add(2 * time.Hour))
	lifted, acted, err := f.svc.LiftDueHolds(ctx, r.ID)
	if err != nil || !acted || lifted.Status != sdk.StatusOpen {
		t.Fatalf("when due: acted %v, status %v, %v", acted, lifted, err)
	}
	n := len(lifted.Events)
	tail := eventTypes(lifted)[n-2:]
	if tail[0] != "hold_lifted/system:timer" || tail[1] != "reevaluated/system:timer" {
		t.Errorf("timeline ends %v, want hold_lifted then reevaluated by system:timer", tail)
	}
	f.set(t0.Add(5 * time.Hour))
	again, acted, err := f.svc.LiftDueHolds(ctx, r.ID)
	if err != nil || acted || len(again.Events) != n {
		t.Errorf("called again: acted %v, %d events (was %d), %v", acted, len(again.Events), n, err)
	}
}

// TestTimedHoldRacesARelease: an operator's release and the timer acting
// at once end with the order released once: whichever wins, the other
// does not release it again, and the feed has one order.released.
func TestTimedHoldRacesARelease(t *testing.T) {
	f := newTimedFixture(t)
	t0 := *f.now.Load()
	ctx := host.WithActor(context.Background(), &host.APIKey{ID: "op", Role: host.RoleAdmin})
	var records []*host.Record
	for i := range 20 {
		records = append(records, f.importOrder(t, string(rune('a'+i))))
	}
	f.set(t0.Add(2 * time.Hour))
	for _, r := range records {
		var wg sync.WaitGroup
		var releaseErr, timerErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, releaseErr = f.svc.Release(ctx, r.ID, "looked fine") }()
		go func() { defer wg.Done(); _, _, timerErr = f.svc.LiftDueHolds(context.Background(), r.ID) }()
		wg.Wait()
		if timerErr != nil {
			t.Fatalf("timer: %v", timerErr)
		}
		got, err := f.db.Order(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != sdk.StatusOpen {
			t.Fatalf("order %s is %s", r.ID, got.Status)
		}
		released, lifted, timerDecisions := 0, 0, 0
		for _, e := range got.Events {
			switch {
			case e.Type == sdk.EventReleased:
				released++
			case e.Type == sdk.EventHoldLifted:
				lifted++
			case e.Type == sdk.EventReevaluate && e.Actor == host.ActorTimer:
				timerDecisions++
			}
		}
		switch {
		case releaseErr == nil:
			// The operator won: the timer released nothing (it may say
			// the hold fell due after the release).
			if released != 1 || timerDecisions != 0 || lifted > 1 {
				t.Errorf("operator won, timeline %v", eventTypes(got))
			}
		case host.ErrorCode(releaseErr) == host.ECONFLICT:
			if released != 0 || lifted != 1 || timerDecisions != 1 {
				t.Errorf("timer won, timeline %v", eventTypes(got))
			}
		default:
			t.Fatalf("release: %v", releaseErr)
		}
		// Whoever won, the change feed has one order.released.
		evs, _, err := f.db.Events(context.Background(), host.EventFilter{Types: []string{host.EventOrderReleased}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.OrderID == r.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("order %s: %d order.released events, want 1", r.ID, n)
		}
	}
}
