package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// TestTimedHolds: a hold's until, for and then are read into the decided
// hold (until = decision time + for), and every invalid value, or one
// beyond the maximum, holds the order as policy_error naming the rule and
// the field.
func TestTimedHolds(t *testing.T) {
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	tests := []struct {
		name, hold string
		// want is the decided hold's timing; wantErr, if set, the
		// policy_error's message must contain it.
		until         *time.Time
		forText, then string
		wantErr       string
	}{
		{name: "no timing", hold: `{"rule": "r"}`},
		{name: "for a duration", hold: `{"rule": "r", "for": "2h"}`, until: ptr(fixedNow.Add(2 * time.Hour)), forText: "2h", then: "release"},
		{name: "for days and hours", hold: `{"rule": "r", "for": "1d12h", "then": "review"}`, until: ptr(fixedNow.Add(36 * time.Hour)), forText: "1d12h", then: "review"},
		{name: "until a time, in UTC", hold: `{"rule": "r", "until": "2026-12-24T09:00:00+01:00"}`, until: at("2026-12-24T08:00:00Z"), then: "release"},
		{name: "until, for review", hold: `{"rule": "r", "until": "2026-12-01T00:00:00Z", "then": "review"}`, until: at("2026-12-01T00:00:00Z"), then: "review"},
		{name: "bad until", hold: `{"rule": "preorder", "until": "24 Dec"}`, wantErr: `hold of rule "preorder": until "24 Dec" is not an RFC 3339 time`},
		{name: "bad for", hold: `{"rule": "fraud", "for": "2 hours"}`, wantErr: `hold of rule "fraud": for "2 hours" is not a duration`},
		{name: "negative for", hold: `{"rule": "fraud", "for": "-2h"}`, wantErr: `for "-2h" must be positive`},
		{name: "for over the maximum", hold: `{"rule": "fraud", "for": "91d"}`, wantErr: `for "91d" is over the maximum of 90d`},
		{name: "until over the maximum", hold: `{"rule": "preorder", "until": "2027-06-01T00:00:00Z"}`, wantErr: "more than the maximum of 90d away"},
		{name: "both until and for", hold: `{"rule": "r", "until": "2026-12-24T09:00:00Z", "for": "2h"}`, wantErr: "until and for are both given"},
		{name: "unknown then", hold: `{"rule": "r", "for": "2h", "then": "cancel"}`, wantErr: `then "cancel" is not "release" or "review"`},
		{name: "then without a time", hold: `{"rule": "r", "then": "review"}`, wantErr: `then "review" needs until or for`},
		{name: "until that is not a string", hold: `{"rule": "r", "until": 1767000000}`, wantErr: `"until" must be a string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writePolicies(t, map[string]string{"h.rego": "package ordergate.workflow.timed\nholds contains " + tc.hold + " if true\n"})
			d := mustEngine(t, dir).Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
			if tc.wantErr != "" {
				if !strings.Contains(d.Error, tc.wantErr) || !strings.Contains(d.Error, "ordergate.workflow.timed.holds") {
					t.Fatalf("error = %q, want it to name ordergate.workflow.timed.holds and contain %q", d.Error, tc.wantErr)
				}
				if len(d.Holds) != 1 || d.Holds[0].Reason != sdk.HoldPolicyError {
					t.Errorf("holds = %+v, want one policy_error hold", d.Holds)
				}
				return
			}
			if d.Error != "" || len(d.Holds) != 1 {
				t.Fatalf("decision = %+v", d)
			}
			h := d.Holds[0]
			if (h.Until == nil) != (tc.until == nil) || (h.Until != nil && (!h.Until.Equal(*tc.until) || h.Until.Location() != time.UTC)) {
				t.Errorf("until = %v, want %v (UTC)", h.Until, tc.until)
			}
			if h.For != tc.forText || h.Then != tc.then {
				t.Errorf("for, then = %q, %q; want %q, %q", h.For, h.Then, tc.forText, tc.then)
			}
		})
	}
}

// TestMaxHoldForIsConfigured: the maximum is the engine's (serve
// --max-hold-for).
func TestMaxHoldForIsConfigured(t *testing.T) {
	dir := writePolicies(t, map[string]string{"h.rego": "package ordergate.workflow.timed\nholds contains {\"rule\": \"r\", \"for\": \"3h\"} if true\n"})
	e := mustEngine(t, dir)
	e.SetMaxHoldFor(2 * time.Hour)
	d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
	if !strings.Contains(d.Error, `for "3h" is over the maximum of 2h0m0s`) {
		t.Errorf("error = %q, want the 2h maximum", d.Error)
	}
	e.SetMaxHoldFor(policy.DefaultMaxHoldFor)
	if d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c")); d.Error != "" {
		t.Errorf("error = %q under the default maximum", d.Error)
	}
}

func ptr[T any](v T) *T { return &v }
