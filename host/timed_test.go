package host_test

import (
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// timedDecision decides, at at, one custom hold "fraud_review" for two
// hours (then release) and, with review, one for a day (then review).
func timedDecision(at time.Time, review bool) *sdk.Decision {
	until := at.Add(2 * time.Hour)
	d := &sdk.Decision{EvaluatedAt: at, Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "fraud_review", Until: &until, For: "2h", Then: sdk.HoldThenRelease}}}
	if review {
		day := at.Add(24 * time.Hour)
		d.Holds = append(d.Holds, sdk.Hold{Reason: sdk.HoldCustomRule, Rule: "big_order", Until: &day, For: "1d", Then: sdk.HoldThenReview})
	}
	return d
}

// TestTimedHoldKeepsItsTime: re-evaluating a hold "for" a duration keeps
// the time it first fell due; the order is due at its earliest hold.
func TestTimedHoldKeepsItsTime(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	r := &host.Record{Order: sdk.Order{ID: "o1"}}
	r.Decide(timedDecision(t0, true), "workflow", sdk.EventDecision)
	if due := r.DueAt(); due == nil || !due.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("due at %v, want %v", due, t0.Add(2*time.Hour))
	}
	r.Decide(timedDecision(t0.Add(time.Hour), true), "workflow", sdk.EventReevaluate)
	if due := r.DueAt(); !due.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("a re-evaluation an hour later moved the hold to %v", due)
	}
}

// TestLiftDue: at its time a release hold lifts (once: it stays released
// when decided again), a review hold stays, marked due for review, and
// the order opens only when no hold remains.
func TestLiftDue(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	r := &host.Record{Order: sdk.Order{ID: "o1"}}
	r.Decide(timedDecision(t0, true), "workflow", sdk.EventDecision)
	if lifted, review := r.LiftDue(host.ActorTimer, t0.Add(time.Hour)); len(lifted)+len(review) != 0 {
		t.Fatalf("lifted %v and %v before they were due", lifted, review)
	}
	lifted, review := r.LiftDue(host.ActorTimer, t0.Add(2*time.Hour))
	if len(lifted) != 1 || lifted[0].Rule != "fraud_review" || len(review) != 0 || r.Status != sdk.StatusOnHold {
		t.Fatalf("at 2h: lifted %v, review %v, status %s", lifted, review, r.Status)
	}
	if last := r.Events[len(r.Events)-1]; last.Type != sdk.EventHoldLifted || last.Actor != host.ActorTimer {
		t.Errorf("timeline ends with %+v, want hold_lifted by %s", last, host.ActorTimer)
	}
	// Decided again (the timer re-evaluates), the lifted hold stays lifted.
	r.Decide(timedDecision(t0, true), host.ActorTimer, sdk.EventReevaluate)
	if len(r.Holds) != 1 || r.Holds[0].Rule != "big_order" {
		t.Fatalf("holds after re-evaluation = %+v, want only big_order", r.Holds)
	}
	lifted, review = r.LiftDue(host.ActorTimer, t0.Add(25*time.Hour))
	if len(lifted) != 0 || len(review) != 1 || r.Status != sdk.StatusOnHold || !r.Holds[0].ReviewDue {
		t.Fatalf("at 25h: lifted %v, review %v, status %s, holds %+v", lifted, review, r.Status, r.Holds)
	}
	if r.DueAt() != nil {
		t.Errorf("a review hold due already is due again at %v", r.DueAt())
	}
	r.Decide(timedDecision(t0, true), "workflow", sdk.EventReevaluate)
	if len(r.Holds) != 1 || !r.Holds[0].ReviewDue || r.DueAt() != nil {
		t.Errorf("re-evaluation forgot the review was due: %+v", r.Holds)
	}
	if lifted, review := r.LiftDue(host.ActorTimer, t0.Add(48*time.Hour)); len(lifted)+len(review) != 0 {
		t.Errorf("acted twice: %v, %v", lifted, review)
	}
	// Only a release hold: lifting it opens the order.
	o := &host.Record{Order: sdk.Order{ID: "o2"}}
	o.Decide(timedDecision(t0, false), "workflow", sdk.EventDecision)
	if lifted, _ := o.LiftDue(host.ActorTimer, t0.Add(3*time.Hour)); len(lifted) != 1 || o.Status != sdk.StatusOpen || o.DueAt() != nil {
		t.Errorf("lifted %v, status %s", lifted, o.Status)
	}
}

// TestLapsedTimedHold: a new release hold whose time has passed when it
// is decided (a pre-order date gone by) does not hold the order.
func TestLapsedTimedHold(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	past := t0.Add(-time.Hour)
	r := &host.Record{Order: sdk.Order{ID: "o1"}}
	r.Decide(&sdk.Decision{EvaluatedAt: t0, Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "preorder", Until: &past, Then: sdk.HoldThenRelease}}}, "workflow", sdk.EventDecision)
	if r.Status != sdk.StatusOpen || len(r.Holds) != 0 {
		t.Errorf("status %s, holds %+v; want open", r.Status, r.Holds)
	}
	r2 := &host.Record{Order: sdk.Order{ID: "o2"}}
	r2.Decide(&sdk.Decision{EvaluatedAt: t0, Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "preorder", Until: &past, Then: sdk.HoldThenReview}}}, "workflow", sdk.EventDecision)
	if r2.Status != sdk.StatusOnHold || r2.DueAt() == nil {
		t.Errorf("a review hold past its time must hold and be due at once: %s, %v", r2.Status, r2.DueAt())
	}
}

// TestHeldAtIsWhenTheHoldWasPlaced: a hold's held_at is the decision that
// first gave it; a re-evaluation that gives it again keeps it, a new hold
// gets the time of its own decision, and the order's HeldAt is the
// earliest.
func TestHeldAtIsWhenTheHoldWasPlaced(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	r := &host.Record{Order: sdk.Order{ID: "o1"}}
	r.Decide(timedDecision(t0, false), "workflow", sdk.EventDecision)
	if h := r.Holds[0].HeldAt; h == nil || !h.Equal(t0) {
		t.Fatalf("held_at = %v, want %v", h, t0)
	}
	r.Decide(timedDecision(t0.Add(time.Hour), true), "workflow", sdk.EventReevaluate)
	if h := r.Holds[0].HeldAt; !h.Equal(t0) {
		t.Errorf("re-evaluated, the hold's held_at moved to %v", h)
	}
	if h := r.Holds[1].HeldAt; h == nil || !h.Equal(t0.Add(time.Hour)) {
		t.Errorf("the new hold's held_at = %v, want its decision's time", h)
	}
	if at := r.HeldAt(); at == nil || !at.Equal(t0) {
		t.Errorf("the order's HeldAt = %v, want the earliest", at)
	}
	r.Decide(&sdk.Decision{EvaluatedAt: t0.Add(2 * time.Hour)}, "workflow", sdk.EventReevaluate)
	if r.HeldAt() != nil {
		t.Errorf("an open order has HeldAt %v", r.HeldAt())
	}
}
