package host

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
	// Manual is the sum of the edits operators made by hand.
	Manual *sdk.Edit `json:"manual,omitempty"`
	// DecidedWith is the input.context the latest decision was made
	// with, so that a backtest replays a revision on the facts the order
	// was decided on. Orders decided before it was kept have none.
	DecidedWith *OrderContext `json:"decided_with,omitempty"`
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

// Input returns the order the workflow evaluates: the received order with
// the operators' field edits, so a fixed shipping method is what rules see.
func (r *Record) Input() *sdk.Order {
	o := r.Received()
	o.CustomFields = maps.Clone(o.CustomFields)
	if r.Manual != nil {
		setFields(o, r.Manual.Fields)
	}
	return o
}

// View returns the order as people and the API see it: the received order
// with the operators' field edits, the latest decision's tags, field edits
// and notes, and the operators' tags. An operator's field edit wins over a
// rule's. Nothing of r is modified.
func (r *Record) View() *sdk.Order {
	o := r.Order
	o.Tags = slices.Clone(o.Tags)
	o.CustomFields = maps.Clone(o.CustomFields)
	var manual sdk.Edit
	if r.Manual != nil {
		manual = *r.Manual
	}
	setFields(&o, manual.Fields)
	if d := r.LatestDecision(); d != nil {
		applyTags(&o, d)
		for _, f := range d.Fields {
			if _, byHand := manual.Fields[f.Path]; !byHand {
				setField(&o, f.Path, f.Value)
			}
		}
		applyNotes(&o, d)
	}
	for _, t := range manual.AddTags {
		if !slices.Contains(o.Tags, t) {
			o.Tags = append(o.Tags, t)
		}
	}
	if len(manual.RemoveTags) > 0 {
		o.Tags = slices.DeleteFunc(o.Tags, func(t string) bool { return slices.Contains(manual.RemoveTags, t) })
	}
	return &o
}

// Basic is the order as a list shows it (the API's view=basic, the hold
// queue): r.View() with only its identity, channel, customer name and
// email, currency and totals, status, holds, cancellation, tags and
// times. No address, line, alert, workflow run or timeline; of the
// record's own fields none. Basic of a basic record is the same record,
// so a store can keep it and hand it back.
func (r *Record) Basic() *Record {
	v := r.View()
	return &Record{Order: sdk.Order{
		ID: v.ID, ChannelID: v.ChannelID, ExternalID: v.ExternalID, Number: v.Number,
		PlacedAt: v.PlacedAt, Currency: v.Currency,
		Customer: sdk.Customer{Name: v.Customer.Name, Email: v.Customer.Email},
		Totals:   v.Totals, Tags: v.Tags, CanceledAt: v.CanceledAt, CancelReason: v.CancelReason,
		Status: v.Status, Holds: slices.Clone(v.Holds), Cancellation: v.Cancellation,
		ImportedAt: v.ImportedAt, UpdatedAt: v.UpdatedAt,
	}}
}

// ApplyDecision applies a decision's tags, field edits and notes to the
// channel fields of o. Tags are the union of the order's own and every
// rule's (never "last rule wins"); field edits come before notes, which are
// appended one per line in the decision's order.
func ApplyDecision(o *sdk.Order, d *sdk.Decision) {
	applyTags(o, d)
	for _, f := range d.Fields {
		setField(o, f.Path, f.Value)
	}
	applyNotes(o, d)
}

func applyTags(o *sdk.Order, d *sdk.Decision) {
	for _, t := range d.Tags {
		if !slices.Contains(o.Tags, t.Tag) {
			o.Tags = append(o.Tags, t.Tag)
		}
	}
}

func setFields(o *sdk.Order, fields map[string]string) {
	for path, v := range fields {
		setField(o, path, v)
	}
}

// setField sets the field at an EditablePath.
func setField(o *sdk.Order, path, value string) {
	switch {
	case path == "note":
		o.Note = value
	case path == "shipping_method":
		o.ShippingMethod = value
	case strings.HasPrefix(path, "custom_fields."):
		if o.CustomFields == nil {
			o.CustomFields = make(map[string]string)
		}
		o.CustomFields[strings.TrimPrefix(path, "custom_fields.")] = value
	}
}

func applyNotes(o *sdk.Order, d *sdk.Decision) {
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
	previous := r.Holds
	r.Holds = nil
	released, lapsed := 0, 0
	for _, h := range d.Holds {
		if slices.Contains(r.Released, h.Key()) {
			released++
			continue
		}
		if i := slices.IndexFunc(previous, func(p sdk.Hold) bool { return p.Key() == h.Key() }); i >= 0 {
			h = keepTiming(h, previous[i])
			h.HeldAt = previous[i].HeldAt
			if h.HeldAt == nil { // placed before held_at was recorded
				h.HeldAt = r.ImportedAt
			}
		} else if h.Then == sdk.HoldThenRelease && h.Due(now) {
			// A new timed hold due already (a pre-order date that has
			// passed) does not hold the order.
			lapsed++
			continue
		} else {
			at := now
			h.HeldAt = &at
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
	var said []string
	if released > 0 {
		said = append(said, "holds released earlier stay released")
	}
	if lapsed > 0 {
		said = append(said, fmt.Sprintf("%d timed holds were due already and do not hold the order", lapsed))
	}
	event.Message = strings.Join(said, "; ")
	r.Events = append(r.Events, event)
	r.touch(now)
}

// keepTiming returns the hold h, decided again, with the timing of the
// same hold as it was (previous): a hold "for" a duration keeps the time
// it was first due (re-evaluation does not push it back), and a review
// hold that fell due stays due while its time is unchanged.
func keepTiming(h, previous sdk.Hold) sdk.Hold {
	if h.For != "" && previous.Until != nil && h.Then == previous.Then {
		h.Until = previous.Until
	}
	if previous.ReviewDue && h.Until != nil && previous.Until != nil && h.Until.Equal(*previous.Until) {
		h.ReviewDue = true
	}
	return h
}

// HeldAt is when the order went on hold: the earliest of its holds'
// held_at (nil when it is not on hold).
func (r *Record) HeldAt() *time.Time {
	if r.Status != sdk.StatusOnHold {
		return nil
	}
	var at *time.Time
	for i := range r.Holds {
		h := r.Holds[i].HeldAt
		if h == nil {
			h = r.ImportedAt
		}
		if h != nil && (at == nil || h.Before(*at)) {
			at = h
		}
	}
	return at
}

// ActorTimer is the actor of the timed holds' work on the timeline.
const ActorTimer = "system:timer"

// DueAt is when the order's next timed hold falls due (nil when none is
// to act on): the host's timer lifts it, or marks it due for review.
func (r *Record) DueAt() *time.Time {
	if r.Status != sdk.StatusOnHold {
		return nil
	}
	var due *time.Time
	for i := range r.Holds {
		h := &r.Holds[i]
		if h.Until != nil && !h.ReviewDue && (due == nil || h.Until.Before(*due)) {
			due = h.Until
		}
	}
	return due
}

// LiftDue acts on the timed holds due at now, as actor: a release hold
// lifts, remembered as released (a re-evaluation does not put it back),
// and a review hold stays, marked due for review. Each is recorded on
// the timeline. The order becomes open when no hold remains. It returns
// the holds that lifted and those that fell due for review.
func (r *Record) LiftDue(actor string, now time.Time) (lifted, review []sdk.Hold) {
	if r.Status != sdk.StatusOnHold {
		return nil, nil
	}
	kept := make([]sdk.Hold, 0, len(r.Holds))
	for _, h := range r.Holds {
		switch {
		case !h.Due(now):
		case h.Then == sdk.HoldThenReview:
			h.ReviewDue = true
			review = append(review, h)
		default:
			lifted = append(lifted, h)
			if !slices.Contains(r.Released, h.Key()) {
				r.Released = append(r.Released, h.Key())
			}
			continue
		}
		kept = append(kept, h)
	}
	if len(lifted) > 0 {
		r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventHoldLifted, Actor: actor, Holds: lifted, Message: "timed hold lifted when due"})
	}
	if len(review) > 0 {
		r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventHoldDue, Actor: actor, Holds: review, Message: "timed hold due for review"})
	}
	if len(lifted)+len(review) == 0 {
		return nil, nil
	}
	r.Holds = kept
	if len(kept) == 0 {
		r.Status = sdk.StatusOpen
	}
	r.touch(now)
	return lifted, review
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

// FellDueReleased records, as actor, that timed holds fell due after a
// person released them (the release won a race with the timer), for
// those of holds that were released; it reports whether any was.
func (r *Record) FellDueReleased(holds []sdk.Hold, actor string, now time.Time) bool {
	var released []sdk.Hold
	for _, h := range holds {
		if slices.Contains(r.Released, h.Key()) && !slices.ContainsFunc(r.Holds, func(x sdk.Hold) bool { return x.Key() == h.Key() }) {
			released = append(released, h)
		}
	}
	if len(released) == 0 {
		return false
	}
	r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventHoldLifted, Actor: actor, Holds: released,
		Message: "timed hold fell due; it was released already"})
	r.touch(now)
	return true
}

// ValidateEdit checks an operator's edit.
func ValidateEdit(e *sdk.Edit) []sdk.FieldError {
	var errs []sdk.FieldError
	if len(e.AddTags) == 0 && len(e.RemoveTags) == 0 && len(e.Fields) == 0 {
		return []sdk.FieldError{{Field: "$", Detail: "the edit changes nothing: give add_tags, remove_tags or fields"}}
	}
	for name, tags := range map[string][]string{"add_tags": e.AddTags, "remove_tags": e.RemoveTags} {
		if len(tags) > sdk.MaxTags {
			errs = append(errs, sdk.FieldError{Field: name, Detail: fmt.Sprintf("has %d tags; at most %d are accepted", len(tags), sdk.MaxTags)})
			continue
		}
		for i, t := range tags {
			if d := checkName(t, true); d != "" || len(t) > sdk.MaxTextLength {
				errs = append(errs, sdk.FieldError{Field: fmt.Sprintf("%s[%d]", name, i), Detail: "must be 1-200 bytes of UTF-8"})
			}
		}
	}
	for path, v := range e.Fields {
		field := "fields." + path
		limit := sdk.MaxTextLength
		if path == "note" {
			limit = sdk.MaxNoteLength
		}
		switch {
		case !EditablePath(path):
			errs = append(errs, sdk.FieldError{Field: field, Detail: "is not editable; the editable fields are note, shipping_method and custom_fields.<key>"})
		case len(v) > limit || !utf8.ValidString(v):
			errs = append(errs, sdk.FieldError{Field: field, Detail: fmt.Sprintf("must be valid UTF-8 of at most %d bytes", limit)})
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// Edit records an operator's edit: tags added or removed by hand and field
// values set by hand, kept across re-evaluations.
func (r *Record) Edit(actor string, e *sdk.Edit, note string, now time.Time) error {
	if r.Status == sdk.StatusCanceled {
		return Errorf(ECONFLICT, "order %s is canceled; it cannot be edited", r.ID)
	}
	m := r.Manual
	if m == nil {
		m = &sdk.Edit{}
	}
	for _, t := range e.AddTags {
		m.RemoveTags = slices.DeleteFunc(m.RemoveTags, func(x string) bool { return x == t })
		if !slices.Contains(m.AddTags, t) {
			m.AddTags = append(m.AddTags, t)
		}
	}
	for _, t := range e.RemoveTags {
		m.AddTags = slices.DeleteFunc(m.AddTags, func(x string) bool { return x == t })
		if !slices.Contains(m.RemoveTags, t) {
			m.RemoveTags = append(m.RemoveTags, t)
		}
	}
	for path, v := range e.Fields {
		if m.Fields == nil {
			m.Fields = map[string]string{}
		}
		m.Fields[path] = v
	}
	r.Manual = m
	r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventEdited, Actor: actor, Message: note, Edit: e})
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

// CanceledByHand reports whether the order was canceled by a person or
// its channel, which is final (a workflow's cancellation is not: a new
// decision may lift it).
func (r *Record) CanceledByHand() bool {
	return r.Status == sdk.StatusCanceled && r.Cancellation != nil && r.Cancellation.By != "workflow"
}

// ChangedFields lists the top-level channel fields (by JSON name, in the
// order's field order) in which o differs from the order as received. Ids
// the host assigned (id, channel_id) and host-owned fields do not count.
func ChangedFields(received, o *sdk.Order) []string {
	a, b := channelFields(received), channelFields(o)
	var changed []string
	for _, name := range channelFieldNames {
		if !bytes.Equal(a[name], b[name]) {
			changed = append(changed, name)
		}
	}
	return changed
}

// channelFieldNames are the JSON names of the channel fields of an order,
// in their order.
var channelFieldNames = []string{"external_id", "number", "placed_at", "currency", "customer", "shipping_address", "billing_address",
	"shipping_method", "line_items", "totals", "note", "tags", "custom_fields", "canceled_at", "cancel_reason"}

// channelFields returns the JSON of each channel field of o, times in UTC.
func channelFields(o *sdk.Order) map[string]json.RawMessage {
	c := sdk.Order{ExternalID: o.ExternalID, Number: o.Number, PlacedAt: o.PlacedAt.UTC(), Currency: o.Currency, Customer: o.Customer,
		ShippingAddress: o.ShippingAddress, BillingAddress: o.BillingAddress, ShippingMethod: o.ShippingMethod, LineItems: o.LineItems,
		Totals: o.Totals, Note: o.Note, Tags: o.Tags, CustomFields: o.CustomFields, CancelReason: o.CancelReason}
	if o.CanceledAt != nil {
		t := o.CanceledAt.UTC()
		c.CanceledAt = &t
	}
	data, _ := json.Marshal(&c) // an order of plain values always encodes
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(data, &fields)
	return fields
}

// ChannelUpdate replaces the order as received with o, the order as its
// channel sends it now, and records on the timeline which fields changed.
// The host-owned fields, the operators' edits and releases stay; the
// caller re-evaluates the order (or cancels it, when the channel did).
func (r *Record) ChannelUpdate(o *sdk.Order, actor string, changed []string, now time.Time) {
	kept := r.Order
	r.Order = *o
	r.ID, r.ChannelID = kept.ID, kept.ChannelID
	r.Status, r.Holds, r.Cancellation, r.Alerts, r.Workflow = kept.Status, kept.Holds, kept.Cancellation, kept.Alerts, kept.Workflow
	r.ImportedAt, r.UpdatedAt, r.Events = kept.ImportedAt, kept.UpdatedAt, kept.Events
	r.Events = append(r.Events, sdk.Event{At: now, Type: sdk.EventChannelUpdated, Actor: actor,
		Message: "the channel changed the order: " + strings.Join(changed, ", "), Fields: changed})
	r.touch(now)
}

// ChannelCancellation is the reason of a cancellation the channel made.
func ChannelCancellation(o *sdk.Order) string {
	if o.CancelReason != "" {
		return "canceled in the channel: " + o.CancelReason
	}
	return "canceled in the channel"
}

func (r *Record) touch(now time.Time) {
	t := now
	r.UpdatedAt = &t
}
