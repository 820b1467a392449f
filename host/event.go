package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Event types: every change of an order's state, and the host's
// operational alerts as "ops." and the alert's kind.
const (
	EventOrderImported    = "order.imported"
	EventOrderHeld        = "order.held"
	EventOrderReleased    = "order.released"
	EventOrderCanceled    = "order.canceled"
	EventOrderEdited      = "order.edited"
	EventOrderReevaluated = "order.reevaluated"
	EventOrderHoldDue     = "order.hold_due"
	// EventOrderUpdated: the channel sent an imported order again,
	// changed (the timeline's channel_updated).
	EventOrderUpdated = "order.updated"
	// EventOpsPrefix begins the type of each operational alert's event,
	// e.g. "ops.channel_failing".
	EventOpsPrefix = "ops."
)

// OrderEventTypes lists the order event types.
var OrderEventTypes = []string{EventOrderImported, EventOrderHeld, EventOrderReleased, EventOrderCanceled,
	EventOrderEdited, EventOrderReevaluated, EventOrderHoldDue, EventOrderUpdated}

// OpsEventTypes lists the operational alerts' event types.
var OpsEventTypes = []string{EventOpsPrefix + OpsChannelFailing, EventOpsPrefix + OpsChannelSilent,
	EventOpsPrefix + OpsPolicyReloadRefused, EventOpsPrefix + OpsAlertDeadLettered, EventOpsPrefix + OpsRevisionsDiffer,
	EventOpsPrefix + OpsHoldSLAExceeded, EventOpsPrefix + OpsHoldSLADigest}

// ValidEventType reports whether t is an event type, or a pattern of
// them: "order.*", "ops.*" or "*".
func ValidEventType(t string) bool {
	return t == "*" || t == "order.*" || t == "ops.*" || slices.Contains(OrderEventTypes, t) || slices.Contains(OpsEventTypes, t)
}

// MatchEventType reports whether the event type t is one that pattern
// (a type, "order.*", "ops.*" or "*") names.
func MatchEventType(pattern, t string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(t, p)
	}
	return pattern == t
}

// Event is one change, as the change feed and subscribers see it. Order
// events are written by the order store in the transaction of the change
// (a transactional outbox), so the feed has every change that committed
// and none that did not.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	At        time.Time `json:"at"`
	OrderID   string    `json:"order_id,omitempty"`
	ChannelID string    `json:"channel_id,omitempty"`
	// Actor is who made the change ("workflow", "key:<id>", "system:timer").
	Actor string `json:"actor,omitempty"`
	// Cursor is the feed's position after this event: reading after it
	// goes on with the next. The store sets it when it reads the event.
	Cursor string `json:"cursor,omitempty"`
	// Order is the order as it stood after the change, without its
	// timeline; Entry is the timeline entry of the change.
	Order *sdk.Order `json:"order,omitempty"`
	Entry *sdk.Event `json:"entry,omitempty"`
	// Alert is an operational event's alert.
	Alert *sdk.Alert `json:"alert,omitempty"`
}

// OrderEvents returns the events of a change of an order from old (nil
// for a new order) to r: one for each timeline entry the change added that
// is an event of its own (imported, edited, reevaluated, hold_due,
// channel_updated), then one for the change of status if there was one:
// order.held when the order went on hold, order.released when it left
// hold for open, order.canceled when it was canceled. A hold that lifts
// while another remains releases nothing.
func OrderEvents(old, r *Record) []*Event {
	var from sdk.Status
	seen := 0
	if old != nil {
		from, seen = old.Status, min(len(old.Events), len(r.Events))
	}
	added := r.Events[seen:]
	if len(added) == 0 && r.Status == from {
		return nil
	}
	view := r.View()
	view.Events = nil
	var at time.Time
	if r.UpdatedAt != nil {
		at = *r.UpdatedAt
	}
	var out []*Event
	add := func(typ string, e *sdk.Event) {
		ev := &Event{Type: typ, At: at, OrderID: r.ID, ChannelID: r.ChannelID, Order: view}
		if e != nil {
			ev.Entry, ev.At, ev.Actor = e, e.At, e.Actor
		}
		ev.ID = orderEventID(r, typ)
		out = append(out, ev)
	}
	for i := range added {
		e := &added[i]
		switch e.Type {
		case sdk.EventImported:
			add(EventOrderImported, e)
		case sdk.EventEdited:
			add(EventOrderEdited, e)
		case sdk.EventReevaluate:
			add(EventOrderReevaluated, e)
		case sdk.EventHoldDue:
			add(EventOrderHoldDue, e)
		case sdk.EventChannelUpdated:
			add(EventOrderUpdated, e)
		}
	}
	var last *sdk.Event
	if len(added) > 0 {
		last = &added[len(added)-1]
	}
	switch {
	case r.Status == from:
	case r.Status == sdk.StatusOnHold:
		add(EventOrderHeld, last)
	case r.Status == sdk.StatusOpen && from == sdk.StatusOnHold:
		add(EventOrderReleased, last)
	case r.Status == sdk.StatusCanceled:
		add(EventOrderCanceled, last)
	}
	return out
}

// orderEventID is the id of an order's event: the same change gives the
// same id, however often its transaction is retried.
func orderEventID(r *Record, typ string) string {
	h := sha256.New()
	h.Write([]byte(r.ID + "\x00" + typ + "\x00"))
	if r.UpdatedAt != nil {
		h.Write([]byte(r.UpdatedAt.UTC().Format(time.RFC3339Nano)))
	}
	h.Write([]byte{0, byte(len(r.Events) >> 8), byte(len(r.Events))})
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:12])
}

// OpsEvent is the event of an operational alert; its id is the alert's
// key, so the same occurrence is one event.
func OpsEvent(a OpsAlert, now time.Time) *Event {
	sum := sha256.Sum256([]byte(a.Rule() + "\x00" + a.Key()))
	return &Event{ID: "evt_ops_" + hex.EncodeToString(sum[:12]), Type: EventOpsPrefix + a.Rule(), At: now, Actor: "system",
		Alert: &sdk.Alert{Severity: a.Severity(), Message: a.Message(), Rule: a.Rule(), Package: "host"}}
}

// EventFilter selects events of the feed: those after the cursor After
// ("" for the beginning), of the Types (patterns as MatchEventType takes;
// none for all), of ChannelID ("" for all; set, it leaves out the
// operational events), at most Limit.
type EventFilter struct {
	After     string
	Types     []string
	ChannelID string
	Limit     int
}

// Selects reports whether the filter selects an event of the type and
// channel (its cursor aside).
func (f *EventFilter) Selects(typ, channel string) bool {
	if f.ChannelID != "" && channel != f.ChannelID {
		return false
	}
	return len(f.Types) == 0 || slices.ContainsFunc(f.Types, func(p string) bool { return MatchEventType(p, typ) })
}

// EventScanLimit bounds how many events one read of the feed looks at:
// a filter that selects few of them returns fewer than its limit, with
// the cursor where it stopped, rather than reading the whole feed.
const EventScanLimit = 10000

// EventStore keeps the change feed.
type EventStore interface {
	// Events returns, in commit order, the events after f.After that f
	// selects, and the cursor to read on from ("" at the end of the
	// feed). An event committed after a read is never before that
	// read's cursor: the feed skips nothing, however late a
	// transaction commits. A malformed cursor is EINVALID.
	Events(ctx context.Context, f EventFilter) ([]*Event, string, error)
	// AppendEvent stores ev unless an event with its id exists, and in
	// the same transaction queues the deliveries; it reports whether ev
	// was new (the deliveries are queued either way, once each).
	AppendEvent(ctx context.Context, ev *Event, ds ...*Delivery) (bool, error)
	// FanOutEvents queues, in one transaction, a delivery of each event
	// after the fan-out's own cursor to every destination subscribed to
	// its type (EventDeliveries), and moves that cursor past them: at
	// most limit events. It returns how many deliveries it queued and
	// whether more events are waiting. Hosts sharing the store take
	// turns: each event is fanned out once.
	FanOutEvents(ctx context.Context, now time.Time, limit int) (queued int, more bool, err error)
	// PruneEvents removes, oldest first, at most limit events whose
	// change was before before and that were fanned out, and returns how
	// many it removed. Reading the feed after a cursor of a removed event
	// is then EGONE (ErrEventsPruned): the reader has missed events.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// ErrEventsPruned is reading the feed after a cursor older than the
// events it keeps.
var ErrEventsPruned = Errorf(EGONE, "the events after this cursor are older than the feed keeps (--event-retention) and were removed: read again from the beginning, and resynchronize with GET /api/v1/orders?updated_after=")

// DefaultEventRetention is how long the feed keeps events by default.
const DefaultEventRetention = 30 * 24 * time.Hour

// EventDeliveries returns a delivery of ev to each destination
// subscribed to its type.
func EventDeliveries(ev *Event, dests []*Destination, now time.Time) []*Delivery {
	var out []*Delivery
	for _, d := range dests {
		if !d.Subscribes(ev.Type) {
			continue
		}
		sum := sha256.Sum256([]byte(ev.ID + "\x00" + d.Name))
		out = append(out, &Delivery{ID: "evd_" + hex.EncodeToString(sum[:12]), OrderID: ev.OrderID, ChannelID: ev.ChannelID,
			OrderNumber: orderNumber(ev), Alert: sdk.Alert{To: d.Name, Rule: ev.Type, Package: DeliveryPackageEvents},
			Event: ev, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, QueuedAt: now})
	}
	return out
}

// AnySubscribes reports whether any of the destinations subscribes to
// events of type t.
func AnySubscribes(dests []*Destination, t string) bool {
	return slices.ContainsFunc(dests, func(d *Destination) bool { return d.Subscribes(t) })
}

// DeliveryPackageEvents is the alert.package of the deliveries of events.
const DeliveryPackageEvents = "events"

func orderNumber(ev *Event) string {
	if ev.Order != nil {
		return ev.Order.Number
	}
	return ""
}
