package host

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Record is how the host keeps an order: the channel's fields exactly as
// they were received, the host-owned fields (status, holds, timeline), and
// the hold keys an operator released. The order people and rules see is its
// View: the received order with the latest workflow decision applied. Keeping
// the received order makes re-evaluation repeatable: the workflow always
// runs on what the channel sent, so notes are never appended twice.
type Record struct {
	sdk.Order
	// Released lists Hold.Key values an operator approved; a later
	// re-evaluation does not put those holds back.
	Released []string `json:"released,omitempty"`
}

// LatestDecision returns the decision of the newest decision event, or nil.
func (r *Record) LatestDecision() *sdk.Decision {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Decision != nil {
			return r.Events[i].Decision
		}
	}
	return nil
}

// Received returns the order as the channel sent it, as input.order for the
// workflow: the channel fields plus the id and channel the host assigned.
func (r *Record) Received() *sdk.Order {
	o := r.Order
	o.Status, o.Holds, o.Cancellation, o.Alerts, o.Workflow = "", nil, nil, nil, nil
	o.ImportedAt, o.UpdatedAt, o.Events = nil, nil, nil
	return &o
}

// View returns the order as people and the API see it: the received order
// with the latest decision's tags, field edits and notes applied. Nothing
// of r is modified.
func (r *Record) View() *sdk.Order {
	o := r.Order
	o.Tags = slices.Clone(o.Tags)
	o.CustomFields = maps.Clone(o.CustomFields)
	if d := r.LatestDecision(); d != nil {
		ApplyDecision(&o, d)
	}
	return &o
}

// ApplyDecision applies a decision's tags, field edits and notes to the
// channel fields of o. Tags are the union of the order's own and every
// rule's (never "last rule wins"); field edits come before notes, which are
// appended one per line in the decision's order.
func ApplyDecision(o *sdk.Order, d *sdk.Decision) {
	for _, t := range d.Tags {
		if !slices.Contains(o.Tags, t.Tag) {
			o.Tags = append(o.Tags, t.Tag)
		}
	}
	for _, f := range d.Fields {
		switch {
		case f.Path == "note":
			o.Note = f.Value
		case f.Path == "shipping_method":
			o.ShippingMethod = f.Value
		case strings.HasPrefix(f.Path, "custom_fields."):
			if o.CustomFields == nil {
				o.CustomFields = make(map[string]string)
			}
			o.CustomFields[strings.TrimPrefix(f.Path, "custom_fields.")] = f.Value
		}
	}
	if len(d.Notes) > 0 {
		lines := make([]string, 0, len(d.Notes)+1)
		if o.Note != "" {
			lines = append(lines, o.Note)
		}
		for _, n := range d.Notes {
			lines = append(lines, n.Note)
		}
		o.Note = strings.Join(lines, "\n")
	}
}

// EditablePath reports whether the workflow may edit the field at path.
func EditablePath(path string) bool {
	switch {
	case path == "note", path == "shipping_method":
		return true
	case strings.HasPrefix(path, "custom_fields."):
		key := strings.TrimPrefix(path, "custom_fields.")
		return key != "" && len(key) <= 64 && !strings.ContainsAny(key, ". ")
	}
	return false
}

// Decide records a workflow decision on the record: it becomes the latest
// decision, and the status, holds, cancellation and alerts follow from it.
// Holds an operator released stay released while they are unchanged; an
// operator's cancellation is final and is not undone by a decision.
func (r *Record) Decide(d *sdk.Decision, actor, eventType string) {
	now := d.EvaluatedAt
	r.Workflow = &sdk.WorkflowRun{Revision: d.Revision, EvaluatedAt: now}
	r.Alerts = d.Alerts
	event := sdk.Event{At: now, Type: eventType, Actor: actor, Decision: d}
	if r.Status == sdk.StatusCanceled && r.Cancellation != nil && r.Cancellation.By != "workflow" {
		event.Message = "order was canceled by an operator; decision recorded, status unchanged"
		r.Events = append(r.Events, event)
		r.touch(now)
		return
	}
	r.Holds = nil
	released := 0
	for _, h := range d.Holds {
		if slices.Contains(r.Released, h.Key()) {
			released++
			continue
		}
		r.Holds = append(r.Holds, h)
	}
	r.Cancellation = nil
	switch {
	case len(d.Cancels) > 0:
		c := d.Cancels[0]
		c.By, c.At = "workflow", now
		r.Cancellation = &c
		r.Status = sdk.StatusCanceled
	case len(r.Holds) > 0:
		r.Status = sdk.StatusOnHold
	default:
		r.Status = sdk.StatusOpen
	}
	if released > 0 {
		event.Message = "holds approved earlier by an operator stay released"
	}
	r.Events = append(r.Events, event)
	r.touch(now)
}

// Release approves an order on hold: its holds are cleared and remembered
// as released, and the order becomes open.
func (r *Record) Release(actor, note string, now time.Time) error {
	if r.Status != sdk.StatusOnHold {
		return Errorf(ECONFLICT, "order %s is %s, not on_hold; only held orders can be released", r.ID, r.Status)
	}
	for _, h := range r.Holds {
		if !slices.Contains(r.Released, h.Key()) {
			r.Released = append(r.Released, h.Key())
		}
	}
	r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventReleased, Actor: actor, Message: note, Holds: r.Holds})
	r.Holds = nil
	r.Status = sdk.StatusOpen
	r.touch(now)
	return nil
}

// Cancel cancels an order by an operator's hand; it is final.
func (r *Record) Cancel(actor, reason string, now time.Time) error {
	if r.Status == sdk.StatusCanceled {
		return Errorf(ECONFLICT, "order %s is already canceled", r.ID)
	}
	r.Cancellation = &sdk.Cancellation{Message: reason, By: actor, At: now}
	r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventCanceled, Actor: actor, Message: reason, Holds: r.Holds})
	r.Holds = nil
	r.Status = sdk.StatusCanceled
	r.touch(now)
	return nil
}

func (r *Record) touch(now time.Time) {
	t := now
	r.UpdatedAt = &t
}
