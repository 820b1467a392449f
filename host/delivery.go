package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // dead-lettered: no more attempts
)

// Delivery is one alert on its way to a destination: written in the same
// transaction as the decision that raised it (a transactional outbox),
// then delivered at least once by the dispatcher. Its ID is stable, so
// receivers can de-duplicate.
type Delivery struct {
	ID            string    `json:"id"`
	OrderID       string    `json:"order_id"`
	OrderNumber   string    `json:"order_number,omitempty"`
	ChannelID     string    `json:"channel_id,omitempty"`
	Alert         sdk.Alert `json:"alert"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	// QueuedAt is when the current series of attempts began: at creation,
	// or at the last redelivery. A retry policy's max_age counts from it.
	QueuedAt    time.Time  `json:"queued_at,omitzero"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// Event, on the delivery of an event to a subscribed destination, is
	// the event; Alert.To names the destination and Alert.Rule the type.
	Event *Event `json:"event,omitempty"`
}

// AttemptsFrom is when the delivery's current series of attempts began.
func (d *Delivery) AttemptsFrom() time.Time {
	if d.QueuedAt.IsZero() {
		return d.CreatedAt
	}
	return d.QueuedAt
}

// Requeue puts a failed or delivered alert back in the queue, due at now,
// with a fresh count of attempts.
func (d *Delivery) Requeue(now time.Time) error {
	if d.Status == DeliveryPending {
		return Errorf(ECONFLICT, "alert %s is pending already", d.ID)
	}
	d.Status, d.Attempts, d.NextAttemptAt, d.QueuedAt, d.DeliveredAt = DeliveryPending, 0, now, now, nil
	return nil
}

// Outbox states of a delivery, as the store counts them.
// OutboxState is the state the outbox counts a delivery in: pending (no
// attempt yet), retrying (attempted, to be tried again) or dead
// (dead-lettered); "" once delivered.
func (d *Delivery) OutboxState() string {
	switch {
	case d.Status == DeliveryPending && d.Attempts == 0:
		return OutboxPending
	case d.Status == DeliveryPending:
		return OutboxRetrying
	case d.Status == DeliveryFailed:
		return OutboxDead
	}
	return ""
}

// ClaimTimeout is how long a delivery DueDeliveries returned stays
// claimed by the host sending it: far longer than one attempt (10s by
// default), short enough that a crashed host's alerts are not late by much.
const ClaimTimeout = time.Minute

const (
	OutboxPending  = "pending"  // no attempt yet
	OutboxRetrying = "retrying" // attempted and failed, to be retried
	OutboxDead     = "dead"     // dead-lettered
)

// DeliveryFilter selects deliveries for listing: by status, destination
// (the alert's "to") and creation time; empty fields do not filter.
// Results come newest first; After is the cursor of the next page.
type DeliveryFilter struct {
	Status      string
	Destination string
	Since       time.Time // created at or after
	After       string
	Limit       int
}

// DeliveryID is the stable id of the alert a rule raised for an order:
// re-evaluating the order never makes a second delivery of it.
func DeliveryID(orderID string, a *sdk.Alert) string {
	sum := sha256.Sum256([]byte(orderID + "\x00" + a.Package + "\x00" + a.Rule + "\x00" + a.To + "\x00" + a.Message))
	return "alrt_" + hex.EncodeToString(sum[:12])
}

// Deliveries returns the deliveries the record's current alerts call for.
func Deliveries(r *Record, now time.Time) []*Delivery {
	out := make([]*Delivery, 0, len(r.Alerts))
	for _, a := range r.Alerts {
		out = append(out, &Delivery{ID: DeliveryID(r.ID, &a), OrderID: r.ID, OrderNumber: r.Number, ChannelID: r.ChannelID,
			Alert: a, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, QueuedAt: now})
	}
	return out
}

// String describes a delivery for logs.
func (d *Delivery) String() string {
	return fmt.Sprintf("alert %s to %s for order %s", d.ID, d.Alert.To, d.OrderID)
}
