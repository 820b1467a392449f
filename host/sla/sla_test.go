package sla_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/sla"
	"github.com/ordergate/ordergate/sdk"
)

var ctx = context.Background()

// held stores an order imported and held for reason at heldAt.
func held(t *testing.T, db host.Store, n int, reason string, heldAt time.Time) *host.Record {
	t.Helper()
	r := &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(heldAt), ulid.DefaultEntropy()).String(), ChannelID: "shop",
		ExternalID: fmt.Sprint(n), Number: fmt.Sprintf("#%d", n), PlacedAt: heldAt, Currency: "USD", ImportedAt: &heldAt,
		ShippingAddress: sdk.Address{Country: "US"}, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 5, UnitPrice: "1.00"}}, Totals: sdk.Totals{Total: "5.00"}}}
	r.Decide(&sdk.Decision{EvaluatedAt: heldAt, Holds: []sdk.Hold{{Reason: reason, Rule: "r", Message: "m"}}}, "workflow", sdk.EventDecision)
	if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
		t.Fatal(err)
	}
	return r
}

func setSLA(t *testing.T, db host.Store, maxAge map[string]string, digestOver int) {
	t.Helper()
	if _, err := db.UpdateSettings(ctx, func(s *host.Settings) error {
		s.HoldSLA = host.HoldSLA{MaxAge: maxAge, DigestOver: digestOver}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// opsEvents counts the feed's events of an operational alert kind.
func opsEvents(t *testing.T, db host.Store, rule string) []*host.Event {
	t.Helper()
	evs, _, err := db.Events(ctx, host.EventFilter{Types: []string{host.EventOpsPrefix + rule}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestSLABreachesRaisedOnce: orders held longer than their reason's SLA
// raise one hold_sla_exceeded each, however often the queue is checked
// and by however many watchers (a restart, another host); those within it
// and reasons without an SLA raise nothing.
func TestSLABreachesRaisedOnce(t *testing.T) {
	db := e2e.OpenStore(t)
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	setSLA(t, db, map[string]string{sdk.HoldCustomRule: "4h"}, 10)
	late1 := held(t, db, 1, sdk.HoldCustomRule, now.Add(-5*time.Hour))
	held(t, db, 2, sdk.HoldCustomRule, now.Add(-6*time.Hour))
	held(t, db, 3, sdk.HoldCustomRule, now.Add(-time.Hour))        // within its SLA
	held(t, db, 4, sdk.HoldDuplicateOrder, now.Add(-30*time.Hour)) // no SLA for its reason
	ops := alerts.NewOps(db, db, nil, nil)
	clock := func() time.Time { return now }
	w := sla.New(sla.Config{Store: db, Ops: ops, Now: clock})
	for i, want := range []sla.Result{{Breaches: 2, Raised: 2}, {Breaches: 2}} {
		if got, err := w.Check(ctx); err != nil || got != want {
			t.Fatalf("check %d = %+v, %v; want %+v", i+1, got, err, want)
		}
	}
	// A new watcher (a restart, another host) raises them again, and the
	// store keeps them once.
	if got, _ := sla.New(sla.Config{Store: db, Ops: ops, Now: clock}).Check(ctx); got.Raised != 2 {
		t.Fatalf("a new watcher raised %d", got.Raised)
	}
	evs := opsEvents(t, db, host.OpsHoldSLAExceeded)
	if len(evs) != 2 {
		t.Fatalf("%d hold_sla_exceeded events, want 2 (once per order and hold)", len(evs))
	}
	// Released and held again, the same order breaches anew later.
	if _, err := db.UpdateOrder(ctx, late1.ID, func(r *host.Record) error {
		r.Decide(&sdk.Decision{EvaluatedAt: now}, "workflow", sdk.EventReevaluate)
		r.Decide(&sdk.Decision{EvaluatedAt: now, Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r", Message: "m"}}}, "workflow", sdk.EventReevaluate)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return now.Add(5 * time.Hour) }
	w2 := sla.New(sla.Config{Store: db, Ops: ops, Now: later})
	if got, _ := w2.Check(ctx); got.Breaches != 3 {
		t.Fatalf("5 hours later: %+v, want orders 1 (held again), 2 and 3", got)
	}
	if evs := opsEvents(t, db, host.OpsHoldSLAExceeded); len(evs) != 4 {
		t.Errorf("%d events, want 4: order 1's new hold and order 3 join the first two", len(evs))
	}
}

// TestSLADigest: more breaches at once than digest_over raise one digest.
func TestSLADigest(t *testing.T) {
	db := e2e.OpenStore(t)
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	setSLA(t, db, map[string]string{sdk.HoldCustomRule: "1h", sdk.HoldDuplicateOrder: "1d"}, 2)
	for i := range 3 {
		held(t, db, i, sdk.HoldCustomRule, now.Add(-2*time.Hour))
	}
	ops := alerts.NewOps(db, db, nil, nil)
	w := sla.New(sla.Config{Store: db, Ops: ops, Now: func() time.Time { return now }})
	if got, err := w.Check(ctx); err != nil || got != (sla.Result{Breaches: 3, Raised: 3, Digest: true}) {
		t.Fatalf("check = %+v, %v", got, err)
	}
	digests := opsEvents(t, db, host.OpsHoldSLADigest)
	if len(digests) != 1 || len(opsEvents(t, db, host.OpsHoldSLAExceeded)) != 0 {
		t.Fatalf("%d digests, want 1 and no single alerts", len(digests))
	}
	if msg := digests[0].Alert.Message; msg == "" || digests[0].Alert.Rule != host.OpsHoldSLADigest {
		t.Errorf("digest = %+v", digests[0].Alert)
	}
	// One more breach later is raised alone.
	held(t, db, 9, sdk.HoldCustomRule, now.Add(-3*time.Hour))
	if got, _ := w.Check(ctx); got.Raised != 1 || got.Digest {
		t.Errorf("then = %+v, want the one new breach alone", got)
	}
}
