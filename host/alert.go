package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Destination kinds.
const (
	DestinationWebhook = "webhook" // JSON POST signed with HMAC-SHA256
	DestinationSlack   = "slack"   // a Slack-compatible incoming webhook
	DestinationLog     = "log"     // a line in the host's log
	DestinationEmail   = "email"   // an email over SMTP
)

// Destination is a named place alerts are delivered to; rules address it
// with "to". Secret is write-only: the API never returns it.
type Destination struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// URL is where webhook and slack destinations post.
	URL string `json:"url,omitempty"`
	// Secret signs webhook deliveries (HMAC-SHA256); never shown.
	Secret string `json:"secret,omitempty"`
	// Email destinations: the SMTP server, its login (Password is never
	// shown), the sender and the recipients. TLS is "mandatory" (STARTTLS
	// required, the default), "opportunistic" or "none".
	SMTPHost string   `json:"smtp_host,omitempty"`
	SMTPPort int      `json:"smtp_port,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
	TLS      string   `json:"tls,omitempty"`
	// MaxConcurrency bounds deliveries in flight to this destination
	// (default 4); RatePerSecond bounds their rate (default 10).
	MaxConcurrency int     `json:"max_concurrency,omitempty"`
	RatePerSecond  float64 `json:"rate_per_second,omitempty"`
	// Retry, when set, changes how long deliveries to this destination
	// are retried before they are dead-lettered.
	Retry     *RetryPolicy `json:"retry,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// RetryPolicy bounds the retries of a destination's deliveries: a
// delivery is dead-lettered after MaxAttempts attempts, or once its next
// attempt would fall more than MaxAge after its first (a Go duration).
// Zero values take the host's defaults (alerts.DefaultRetry).
type RetryPolicy struct {
	MaxAttempts int    `json:"max_attempts,omitempty"`
	MaxAge      string `json:"max_age,omitempty"`
}

// Bounds of a retry policy.
const (
	MaxRetryAttempts = 100
	MaxRetryAge      = 30 * 24 * time.Hour
)

// Validate checks a retry policy; fields are named under "retry.".
func (p *RetryPolicy) Validate() []sdk.FieldError {
	var errs []sdk.FieldError
	if p.MaxAttempts < 0 || p.MaxAttempts > MaxRetryAttempts {
		errs = append(errs, sdk.FieldError{Field: "retry.max_attempts", Detail: fmt.Sprintf("must be from 1 to %d", MaxRetryAttempts)})
	}
	if p.MaxAge != "" {
		if d, err := time.ParseDuration(p.MaxAge); err != nil || d < time.Minute || d > MaxRetryAge {
			errs = append(errs, sdk.FieldError{Field: "retry.max_age", Detail: "must be a duration from 1m to 720h (30 days), such as \"48h\""})
		}
	}
	return errs
}

// Public returns the destination without its secret, and whether it has one.
func (d *Destination) Public() *Destination {
	out := *d
	if out.Secret != "" {
		out.Secret = sdk.RedactedValue
	}
	if out.Password != "" {
		out.Password = sdk.RedactedValue
	}
	return &out
}

// Validate checks a destination.
func (d *Destination) Validate() []sdk.FieldError {
	var errs []sdk.FieldError
	if !ValidID(d.Name) {
		errs = append(errs, sdk.FieldError{Field: "name", Detail: "must be 1-64 lower-case letters, digits, '_' or '-'"})
	}
	switch d.Kind {
	case DestinationWebhook, DestinationSlack:
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, sdk.FieldError{Field: "url", Detail: "must be an http(s) URL"})
		}
	case DestinationLog:
	case DestinationEmail:
		if d.SMTPHost == "" {
			errs = append(errs, sdk.FieldError{Field: "smtp_host", Detail: "is required for email"})
		}
		if d.SMTPPort < 0 || d.SMTPPort > 65535 {
			errs = append(errs, sdk.FieldError{Field: "smtp_port", Detail: "must be a port number (default 587)"})
		}
		if _, err := mail.ParseAddress(d.From); err != nil {
			errs = append(errs, sdk.FieldError{Field: "from", Detail: "must be an email address"})
		}
		if len(d.To) == 0 {
			errs = append(errs, sdk.FieldError{Field: "to", Detail: "needs at least one recipient"})
		}
		for i, to := range d.To {
			if _, err := mail.ParseAddress(to); err != nil {
				errs = append(errs, sdk.FieldError{Field: fmt.Sprintf("to[%d]", i), Detail: "must be an email address"})
			}
		}
		switch d.TLS {
		case "", "mandatory", "opportunistic", "none":
		default:
			errs = append(errs, sdk.FieldError{Field: "tls", Detail: "must be mandatory, opportunistic or none"})
		}
	default:
		errs = append(errs, sdk.FieldError{Field: "kind", Detail: "must be webhook, slack, email or log"})
	}
	if d.Kind == DestinationWebhook && d.Secret == "" {
		errs = append(errs, sdk.FieldError{Field: "secret", Detail: "is required for a webhook: receivers verify the signature with it"})
	}
	if d.MaxConcurrency < 0 || d.MaxConcurrency > 64 {
		errs = append(errs, sdk.FieldError{Field: "max_concurrency", Detail: "must be from 1 to 64"})
	}
	if d.RatePerSecond < 0 || d.RatePerSecond > 1000 {
		errs = append(errs, sdk.FieldError{Field: "rate_per_second", Detail: "must be from 0 to 1000"})
	}
	if d.Retry != nil {
		errs = append(errs, d.Retry.Validate()...)
	}
	return errs
}

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

// AlertStore keeps destinations and deliveries. Deliveries are created by
// the order store in the transaction that stores the decision.
type AlertStore interface {
	PutDestination(ctx context.Context, d *Destination) error
	Destination(ctx context.Context, name string) (*Destination, error)
	Destinations(ctx context.Context) ([]*Destination, error)
	DeleteDestination(ctx context.Context, name string) error

	// Enqueue stores new deliveries; those whose id exists are skipped.
	Enqueue(ctx context.Context, ds ...*Delivery) error
	// DueDeliveries returns up to limit pending deliveries due at now,
	// oldest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)
	// PutDelivery stores a delivery's new state.
	PutDelivery(ctx context.Context, d *Delivery) error
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries lists deliveries of a status ("" for all), newest first.
	Deliveries(ctx context.Context, status string, limit int) ([]*Delivery, error)
	// ListDeliveries returns one page of the deliveries f selects, newest
	// first, and the cursor of the next page ("" when there is none).
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	// PutDeliveries stores the new state of several deliveries at once.
	PutDeliveries(ctx context.Context, ds []*Delivery) error
}

// String describes a delivery for logs.
func (d *Delivery) String() string {
	return fmt.Sprintf("alert %s to %s for order %s", d.ID, d.Alert.To, d.OrderID)
}
