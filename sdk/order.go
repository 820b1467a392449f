package sdk

import "time"

// Status is where an order stands after the import workflow and operators
// have acted on it.
type Status string

const (
	// StatusOpen orders are ready to be routed and fulfilled.
	StatusOpen Status = "open"
	// StatusOnHold orders wait for a person or for their hold's cause to be fixed.
	StatusOnHold Status = "on_hold"
	// StatusCanceled orders will not be fulfilled.
	StatusCanceled Status = "canceled"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusOnHold || s == StatusCanceled
}

// Standard hold reasons, as shown on Hold.Reason.
const (
	HoldCustomRule             = "custom_rule"
	HoldDuplicateOrder         = "duplicate_order"
	HoldNotManagedItem         = "not_managed_item"
	HoldInsufficientQuantity   = "insufficient_quantity"
	HoldDisabledSource         = "disabled_source"
	HoldUnmappedShippingPolicy = "unmapped_shipping_policy"
	// HoldPolicyError is set by the host when the workflow could not decide
	// (a runtime error, a conflict, a deadline); the order is kept, never lost.
	HoldPolicyError = "policy_error"
)

// Order is the canonical order. The first group of fields comes from the
// sales channel (a connector or a reseller's POST); the second group is owned
// by the host and is rejected on intake.
type Order struct {
	// ID is assigned by the host on import; it sorts by import time.
	ID string `json:"id,omitempty"`
	// ChannelID names the channel the order came from.
	ChannelID string `json:"channel_id,omitempty"`
	// ExternalID is the channel's own id for the order; unique per channel.
	ExternalID string `json:"external_id"`
	// Number is the order number people see, e.g. "#1203".
	Number          string            `json:"number"`
	PlacedAt        time.Time         `json:"placed_at"`
	Currency        string            `json:"currency"`
	Customer        Customer          `json:"customer"`
	ShippingAddress Address           `json:"shipping_address"`
	BillingAddress  *Address          `json:"billing_address,omitempty"`
	ShippingMethod  string            `json:"shipping_method,omitempty"`
	LineItems       []LineItem        `json:"line_items"`
	Totals          Totals            `json:"totals"`
	Note            string            `json:"note,omitempty"`
	Tags            []string          `json:"tags,omitempty"`
	CustomFields    map[string]string `json:"custom_fields,omitempty"`
	// CanceledAt is set when the order was canceled in the channel (a
	// shop's own cancellation), with the channel's CancelReason. When a
	// connector sends an imported order again with CanceledAt set, the host
	// cancels the order, with actor "channel:<channel id>".
	CanceledAt   *time.Time `json:"canceled_at,omitempty"`
	CancelReason string     `json:"cancel_reason,omitempty"`

	// Host-owned fields.

	Status       Status        `json:"status,omitempty"`
	Holds        []Hold        `json:"holds,omitempty"`
	Cancellation *Cancellation `json:"cancellation,omitempty"`
	Alerts       []Alert       `json:"alerts,omitempty"`
	Workflow     *WorkflowRun  `json:"workflow,omitempty"`
	ImportedAt   *time.Time    `json:"imported_at,omitempty"`
	UpdatedAt    *time.Time    `json:"updated_at,omitempty"`
	// Events is the order's timeline, oldest first.
	Events []Event `json:"events,omitempty"`
}

// Customer is the person who placed the order.
type Customer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Address is a postal address; Country is an ISO 3166-1 alpha-2 code.
type Address struct {
	Name       string `json:"name,omitempty"`
	Company    string `json:"company,omitempty"`
	Address1   string `json:"address1,omitempty"`
	Address2   string `json:"address2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country"`
}

// LineItem is one product line. SKU may be empty when the channel has none;
// such a line is kept (the catalog decides what to do with it).
type LineItem struct {
	SKU       string `json:"sku,omitempty"`
	Title     string `json:"title,omitempty"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
}

// Totals are the order's money amounts in the order currency.
type Totals struct {
	Subtotal Money `json:"subtotal,omitempty"`
	Shipping Money `json:"shipping,omitempty"`
	Tax      Money `json:"tax,omitempty"`
	Total    Money `json:"total"`
}

// Hold explains why an order is on hold.
type Hold struct {
	// Reason is one of the Hold* constants.
	Reason string `json:"reason"`
	// Rule names the rule that raised the hold, as the author wrote it.
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message,omitempty"`
	// Package is the Rego package that produced the hold (set by the host).
	Package string `json:"package,omitempty"`
	// Until, on a timed hold, is when it falls due, and Then what happens
	// then: HoldThenRelease (the hold lifts by itself) or HoldThenReview
	// (it stays, due for review). For is the duration the rule gave, if
	// it gave one rather than a time: Until counts from when the hold was
	// first decided, and re-evaluations keep it.
	Until *time.Time `json:"until,omitempty"`
	For   string     `json:"for,omitempty"`
	Then  string     `json:"then,omitempty"`
	// ReviewDue is set on a review hold once it fell due.
	ReviewDue bool `json:"review_due,omitempty"`
	// HeldAt is when the hold was placed (set by the host): the decision
	// that first gave it; re-evaluations that give it again keep it.
	HeldAt *time.Time `json:"held_at,omitempty"`
}

// What a timed hold does when it falls due (Hold.Then).
const (
	HoldThenRelease = "release"
	HoldThenReview  = "review"
)

// Due reports whether the timed hold is due at now and still to act on:
// a release hold lifts, a review hold becomes due for review once.
func (h *Hold) Due(now time.Time) bool {
	return h.Until != nil && !h.Until.After(now) && !h.ReviewDue
}

// Key identifies a hold for release bookkeeping: a released hold stays
// released while the same rule gives the same reason and message.
func (h Hold) Key() string { return h.Reason + "\x00" + h.Rule + "\x00" + h.Message }

// Cancellation records why and by whom an order was canceled.
type Cancellation struct {
	Rule    string    `json:"rule,omitempty"`
	Message string    `json:"message,omitempty"`
	Package string    `json:"package,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Alert is a message the workflow raised for people, addressed to a named
// destination.
type Alert struct {
	To       string `json:"to"`
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message"`
	Rule     string `json:"rule,omitempty"`
	Package  string `json:"package,omitempty"`
}

// WorkflowRun says which policy revision last decided the order, and when.
type WorkflowRun struct {
	Revision    string    `json:"revision"`
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// Event is one entry of an order's timeline.
type Event struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	// Actor is who acted: "workflow", "system" or "key:<key id>".
	Actor   string `json:"actor"`
	Message string `json:"message,omitempty"`
	Holds   []Hold `json:"holds,omitempty"`
	// Decision is set on decision events: everything the workflow returned,
	// each item with the package that produced it.
	Decision *Decision `json:"decision,omitempty"`
	// Edit is set on edited events: what the operator changed.
	Edit *Edit `json:"edit,omitempty"`
	// Fields is set on channel_updated events: the top-level fields of the
	// order as received that the channel changed (e.g. "line_items").
	Fields []string `json:"fields,omitempty"`
}

// Edit is a change an operator makes to an order by hand. Manual edits
// outlast re-evaluation: rules see the edited fields, rule edits do not
// overwrite them, and manual tags stay added or removed.
type Edit struct {
	AddTags    []string `json:"add_tags,omitempty"`
	RemoveTags []string `json:"remove_tags,omitempty"`
	// Fields sets fields by path: note, shipping_method or
	// custom_fields.<key> (the paths rules may edit too).
	Fields map[string]string `json:"fields,omitempty"`
}

// Timeline event types.
const (
	EventImported   = "imported"
	EventDecision   = "decision"
	EventReleased   = "released"
	EventCanceled   = "canceled"
	EventReevaluate = "reevaluated"
	EventEdited     = "edited"
	// EventChannelUpdated records that the channel sent an imported order
	// again, changed: the order as received is replaced and re-evaluated.
	EventChannelUpdated = "channel_updated"
	// EventHoldLifted records timed holds that lifted by themselves when
	// due (actor system:timer); EventHoldDue review holds that fell due.
	EventHoldLifted = "hold_lifted"
	EventHoldDue    = "hold_due"
)
