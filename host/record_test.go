package host_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

func TestViewLayersReceivedDecisionAndManualEdits(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	r := &host.Record{Order: sdk.Order{ID: "o1", Note: "door", ShippingMethod: "Std", Tags: []string{"web"}, CustomFields: map[string]string{"a": "1"}}}
	r.Decide(&sdk.Decision{
		EvaluatedAt: now,
		Tags:        []sdk.TagDecision{{Tag: "Rule"}, {Tag: "web"}},
		Fields:      []sdk.FieldEdit{{Path: "shipping_method", Value: "Ground"}, {Path: "custom_fields.b", Value: "2"}},
		Notes:       []sdk.NoteDecision{{Note: "checked"}},
	}, "workflow", sdk.EventDecision)

	v := r.View()
	if !slices.Equal(v.Tags, []string{"web", "Rule"}) || v.ShippingMethod != "Ground" || v.Note != "door\nchecked" || v.CustomFields["b"] != "2" {
		t.Fatalf("view = %+v", v)
	}
	if r.Tags[0] != "web" || len(r.Tags) != 1 || r.CustomFields["b"] != "" {
		t.Fatal("View changed the record")
	}

	err := r.Edit("key:op", &sdk.Edit{AddTags: []string{"VIP"}, RemoveTags: []string{"Rule"}, Fields: map[string]string{"shipping_method": "Express"}}, "phone call", now)
	if err != nil {
		t.Fatal(err)
	}
	v = r.View()
	if !slices.Equal(v.Tags, []string{"web", "VIP"}) || v.ShippingMethod != "Express" || v.Note != "door\nchecked" {
		t.Errorf("view after edit = %+v", v)
	}
	if in := r.Input(); in.ShippingMethod != "Express" || in.Note != "door" || slices.Contains(in.Tags, "VIP") {
		t.Errorf("rules see %+v", in)
	}
	// A later edit can undo an earlier one.
	r.Edit("key:op", &sdk.Edit{AddTags: []string{"Rule"}}, "", now)
	if v := r.View(); !slices.Contains(v.Tags, "Rule") {
		t.Errorf("re-added tag missing: %v", v.Tags)
	}
	if last := r.Events[len(r.Events)-1]; last.Type != sdk.EventEdited || last.Actor != "key:op" {
		t.Errorf("last event = %+v", last)
	}
}

func TestValidateEdit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  sdk.Edit
		field string
	}{
		{"nothing", sdk.Edit{}, "$"},
		{"a field rules may not edit", sdk.Edit{Fields: map[string]string{"totals.total": "1"}}, "fields.totals.total"},
		{"an empty tag", sdk.Edit{AddTags: []string{""}}, "add_tags[0]"},
		{"a bad custom field key", sdk.Edit{Fields: map[string]string{"custom_fields.a b": "x"}}, "fields.custom_fields.a b"},
	} {
		errs := host.ValidateEdit(&tc.edit)
		if len(errs) == 0 || errs[0].Field != tc.field {
			t.Errorf("%s: errors %v, want field %s", tc.name, errs, tc.field)
		}
	}
	if errs := host.ValidateEdit(&sdk.Edit{AddTags: []string{"VIP"}, Fields: map[string]string{"note": "", "custom_fields.gift": "yes"}}); len(errs) != 0 {
		t.Errorf("a good edit: %v", errs)
	}
}

func TestReleaseStaysUntilTheHoldChanges(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	held := func(msg string) *sdk.Decision {
		return &sdk.Decision{EvaluatedAt: now, Holds: []sdk.Hold{{Reason: sdk.HoldInsufficientQuantity, Rule: "insufficient_quantity", Message: msg}}}
	}
	r := &host.Record{Order: sdk.Order{ID: "o1"}}
	r.Decide(held("available 1"), "workflow", sdk.EventDecision)
	if err := r.Release("key:op", "backorder", now); err != nil || r.Status != sdk.StatusOpen {
		t.Fatalf("release: %v %s", err, r.Status)
	}
	if err := r.Release("key:op", "again", now); host.ErrorCode(err) != host.ECONFLICT {
		t.Errorf("releasing an open order: %v", err)
	}
	r.Decide(held("available 1"), "workflow", sdk.EventReevaluate)
	if r.Status != sdk.StatusOpen {
		t.Errorf("the same hold came back")
	}
	r.Decide(held("available 2"), "workflow", sdk.EventReevaluate)
	if r.Status != sdk.StatusOnHold {
		t.Errorf("a changed hold did not come back")
	}
}

func TestChangedFields(t *testing.T) {
	base := sdk.Order{ExternalID: "5531203", Number: "#1203", PlacedAt: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC), Currency: "USD",
		ShippingAddress: sdk.Address{Country: "US"}, LineItems: []sdk.LineItem{{SKU: "V789", Quantity: 5, UnitPrice: "19.99"}},
		Totals: sdk.Totals{Total: "99.95"}, Tags: []string{"web"}}
	canceled := time.Date(2026, 11, 29, 10, 0, 0, 0, time.FixedZone("EST", -5*3600))
	for _, tc := range []struct {
		name   string
		change func(o *sdk.Order)
		want   []string
	}{
		{"the same order", func(*sdk.Order) {}, nil},
		{"the same time in another zone", func(o *sdk.Order) { o.PlacedAt = o.PlacedAt.In(time.FixedZone("CET", 3600)) }, nil},
		{"no tags and an empty list", func(o *sdk.Order) { o.Tags = nil; o.CustomFields = map[string]string{} }, []string{"tags"}},
		{"ids the host set do not count", func(o *sdk.Order) { o.ID, o.ChannelID = "01JD", "shopify" }, nil},
		{"a quantity and the total", func(o *sdk.Order) {
			o.LineItems = []sdk.LineItem{{SKU: "V789", Quantity: 2, UnitPrice: "19.99"}}
			o.Totals.Total = "39.98"
		}, []string{"line_items", "totals"}},
		{"canceled in the channel", func(o *sdk.Order) { o.CanceledAt, o.CancelReason = &canceled, "customer" }, []string{"canceled_at", "cancel_reason"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.LineItems = slices.Clone(base.LineItems)
			tc.change(&o)
			if got := host.ChangedFields(&base, &o); !slices.Equal(got, tc.want) {
				t.Errorf("ChangedFields = %q, want %q", got, tc.want)
			}
		})
	}
}
