package host

import (
	"slices"
	"testing"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

func TestOrderEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	rec := func(status sdk.Status, entries ...string) *Record {
		r := &Record{Order: sdk.Order{ID: "o1", ChannelID: "shop", Number: "#1203", Status: status}}
		for i, e := range entries {
			at := t0.Add(time.Duration(i) * time.Minute)
			r.Events = append(r.Events, sdk.Event{At: at, Type: e, Actor: "a"})
			r.UpdatedAt = &at
		}
		return r
	}
	for _, tc := range []struct {
		name     string
		old, new *Record
		want     []string
	}{
		{"imported open", nil, rec(sdk.StatusOpen, "imported", "decision"), []string{EventOrderImported}},
		{"imported held", nil, rec(sdk.StatusOnHold, "imported", "decision"), []string{EventOrderImported, EventOrderHeld}},
		{"imported canceled", nil, rec(sdk.StatusCanceled, "imported", "decision"), []string{EventOrderImported, EventOrderCanceled}},
		{"released", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusOpen, "imported", "released"), []string{EventOrderReleased}},
		{"canceled from hold", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusCanceled, "imported", "canceled"), []string{EventOrderCanceled}},
		{"re-evaluated and released", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusOpen, "imported", "reevaluated", "decision"), []string{EventOrderReevaluated, EventOrderReleased}},
		{"re-evaluated, still held", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusOnHold, "imported", "reevaluated", "decision"), []string{EventOrderReevaluated}},
		{"edited", rec(sdk.StatusOpen, "imported"), rec(sdk.StatusOpen, "imported", "edited"), []string{EventOrderEdited}},
		{"open order held again", rec(sdk.StatusOpen, "imported"), rec(sdk.StatusOnHold, "imported", "channel_updated", "decision"), []string{EventOrderUpdated, EventOrderHeld}},
		{"timed hold lifted", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusOpen, "imported", "hold_lifted"), []string{EventOrderReleased}},
		{"one of two holds lifted", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusOnHold, "imported", "hold_lifted"), nil},
		{"review hold due", rec(sdk.StatusOnHold, "imported"), rec(sdk.StatusOnHold, "imported", "hold_due"), []string{EventOrderHoldDue}},
		{"nothing changed", rec(sdk.StatusOpen, "imported"), rec(sdk.StatusOpen, "imported"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := OrderEvents(tc.old, tc.new)
			var got []string
			ids := map[string]bool{}
			for _, ev := range evs {
				got = append(got, ev.Type)
				ids[ev.ID] = true
				if ev.OrderID != "o1" || ev.ChannelID != "shop" || ev.Order == nil || ev.Order.Events != nil || ev.Entry == nil {
					t.Errorf("%s: %+v, want the order (without its timeline) and the entry", ev.Type, ev)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events = %v, want %v", got, tc.want)
			}
			if len(ids) != len(evs) {
				t.Errorf("event ids repeat: %v", ids)
			}
			again := OrderEvents(tc.old, tc.new)
			for i := range again {
				if again[i].ID != evs[i].ID {
					t.Errorf("the same change gave event id %s, then %s", evs[i].ID, again[i].ID)
				}
			}
		})
	}
}

func TestEventTypesAndSubscriptions(t *testing.T) {
	d := &Destination{Events: []string{"order.released", "ops.*"}}
	for typ, want := range map[string]bool{"order.released": true, "order.held": false, "ops.channel_failing": true} {
		if d.Subscribes(typ) != want {
			t.Errorf("Subscribes(%s) = %v", typ, !want)
		}
	}
	for _, typ := range []string{"order.released", "order.*", "*", "ops.alert_dead_lettered"} {
		if !ValidEventType(typ) {
			t.Errorf("%s refused", typ)
		}
	}
	for _, typ := range []string{"order.shipped", "order", "", "ops.nothing"} {
		if ValidEventType(typ) {
			t.Errorf("%q taken", typ)
		}
	}
}

func TestDestinationEventsAndSecrets(t *testing.T) {
	now := time.Now()
	d, generated, bad := (&DestinationRequest{Name: "erp", Kind: DestinationWebhook, URL: "https://erp.example/hooks", Events: []string{"order.*"}}).Destination(now)
	if len(bad) > 0 || !generated || len(SigningKey(d.Secret)) != 32 || d.Secret[:6] != SecretPrefix {
		t.Fatalf("a webhook without a secret: %+v, generated %v, %v; want a new whsec_ secret of 32 bytes", d, generated, bad)
	}
	// Signed the ordergate-v1 way only (alerts), any secret goes, as
	// before events: receivers in use keep theirs.
	if _, _, bad := (&DestinationRequest{Name: "a", Kind: DestinationWebhook, URL: "https://x.example", Secret: "whsec_long_random"}).Destination(now); len(bad) > 0 {
		t.Errorf("an alert webhook's secret refused: %v", bad)
	}
	for _, tc := range []struct {
		req   DestinationRequest
		field string
	}{
		{DestinationRequest{Name: "a", Kind: DestinationWebhook, URL: "https://x.example", Secret: "whsec_notbase64!", Events: []string{"order.*"}}, "secret"},
		{DestinationRequest{Name: "a", Kind: DestinationWebhook, URL: "https://x.example", Secret: "whsec_c2hvcnQ=", Signature: SignatureStandard}, "secret"},
		{DestinationRequest{Name: "a", Kind: DestinationWebhook, URL: "https://x.example", Signature: "hmac"}, "signature"},
		{DestinationRequest{Name: "a", Kind: DestinationWebhook, URL: "https://x.example", Events: []string{"order.shipped"}}, "events[0]"},
		{DestinationRequest{Name: "a", Kind: DestinationSlack, URL: "https://x.example", Events: []string{"order.*"}}, "events"},
	} {
		_, _, bad := tc.req.Destination(now)
		if !slices.ContainsFunc(bad, func(e sdk.FieldError) bool { return e.Field == tc.field }) {
			t.Errorf("%+v: %v, want an error naming %s", tc.req, bad, tc.field)
		}
	}
}
