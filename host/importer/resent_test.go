package importer_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/sdk"
)

// TestResentOrders: what a connector's re-sent order means. The host
// compares it with the order as received: unchanged, it is existing;
// changed, the timeline records channel_updated with the changed fields,
// the order as received is replaced and re-evaluated (an operator's
// release stays while its hold is unchanged); canceled in the channel, the
// order is canceled by "channel:<id>"; an operator's cancellation is
// final.
func TestResentOrders(t *testing.T) {
	// An operator's key does the manual work below.
	ctx := host.WithActor(context.Background(), &host.APIKey{ID: "ops", Role: host.RoleAdmin})
	c := &paged{}
	f := setup(t, c, importer.Config{})
	base := numbered("o", 4) // each V789 x 5: held for review
	c.script(page{orders: base})
	if run := f.runOnce(t); run.Imported != 4 || run.Held != 4 {
		t.Fatalf("first import: %+v", run)
	}
	stored := map[string]*host.Record{}
	for _, o := range base {
		got, err := f.db.OrdersByExternalID(ctx, "shop", []string{o.ExternalID})
		if err != nil {
			t.Fatal(err)
		}
		stored[o.ExternalID] = got[o.ExternalID]
	}
	svc := f.service
	// o-1 is approved by an operator, o-3 canceled by one.
	if _, err := svc.Release(ctx, stored["o-1"].ID, "checked"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Cancel(ctx, stored["o-3"].ID, "customer called"); err != nil {
		t.Fatal(err)
	}

	// The channel sends them all again: o-0 with a smaller quantity, o-1
	// with a new note, o-2 canceled, o-3 with a new note; and o-4, new and
	// canceled already.
	changed := slices.Clone(base)
	changed[0].LineItems = []sdk.LineItem{{SKU: "V789", Title: "Valve V789", Quantity: 2, UnitPrice: "19.99"}}
	changed[1].Note = "ring twice"
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	changed[2].CanceledAt, changed[2].CancelReason = &at, "customer"
	changed[3].Note = "ring twice"
	fresh := numbered("o", 5)[4]
	fresh.CanceledAt = &at
	c.script(page{orders: append(changed, fresh)})
	if cur, _ := f.db.Cursor(ctx, "shop"); cur != "1" {
		t.Fatalf("cursor %q", cur)
	}
	if err := f.db.SaveCursor(ctx, "shop", ""); err != nil {
		t.Fatal(err)
	}
	run := f.runOnce(t)
	if run.Updated != 4 || run.Imported != 1 || run.Existing != 0 || run.Status != host.RunSucceeded {
		t.Fatalf("re-import: %+v", run)
	}

	get := func(ext string) *host.Record {
		t.Helper()
		got, err := f.db.OrdersByExternalID(ctx, "shop", []string{ext})
		if err != nil || got[ext] == nil {
			t.Fatalf("order %s: %v", ext, err)
		}
		return got[ext]
	}
	lastOf := func(r *host.Record, typ string) *sdk.Event {
		for i := len(r.Events) - 1; i >= 0; i-- {
			if r.Events[i].Type == typ {
				return &r.Events[i]
			}
		}
		return nil
	}

	o0 := get("o-0")
	if ev := lastOf(o0, sdk.EventChannelUpdated); ev == nil || ev.Actor != "channel:shop" || !slices.Equal(ev.Fields, []string{"line_items"}) {
		t.Errorf("o-0 channel_updated event = %+v", ev)
	}
	if o0.Status != sdk.StatusOpen || o0.LineItems[0].Quantity != 2 || lastOf(o0, sdk.EventReevaluate) == nil {
		t.Errorf("o-0 after a smaller quantity: status %s, quantity %d", o0.Status, o0.LineItems[0].Quantity)
	}

	o1 := get("o-1")
	if o1.Status != sdk.StatusOpen || o1.Note != "ring twice" {
		t.Errorf("o-1, released before, after a note change: status %s note %q; the release should stay", o1.Status, o1.Note)
	}

	o2 := get("o-2")
	if o2.Status != sdk.StatusCanceled || o2.Cancellation == nil || o2.Cancellation.By != "channel:shop" || o2.Cancellation.Message != "canceled in the channel: customer" {
		t.Errorf("o-2 canceled in the channel: status %s cancellation %+v", o2.Status, o2.Cancellation)
	}

	o3 := get("o-3")
	if o3.Status != sdk.StatusCanceled || o3.Cancellation.By != "key:ops" || lastOf(o3, sdk.EventChannelUpdated) == nil || o3.Note != "ring twice" {
		t.Errorf("o-3 canceled by an operator: status %s by %+v", o3.Status, o3.Cancellation)
	}

	o4 := get("o-4")
	if o4.Status != sdk.StatusCanceled || o4.Cancellation.By != "channel:shop" {
		t.Errorf("o-4, new and canceled in the channel: status %s cancellation %+v", o4.Status, o4.Cancellation)
	}

	// The same page once more changes nothing: all existing.
	if err := f.db.SaveCursor(ctx, "shop", ""); err != nil {
		t.Fatal(err)
	}
	if run := f.runOnce(t); run.Existing != 5 || run.Updated != 0 {
		t.Errorf("the same page again: %+v", run)
	}
	if again := get("o-0"); len(again.Events) != len(o0.Events) {
		t.Errorf("an unchanged re-send added timeline entries: %d, was %d", len(again.Events), len(o0.Events))
	}
}
