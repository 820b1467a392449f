package host

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
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
	Retry *RetryPolicy `json:"retry,omitempty"`
	// Events lists the event types the destination subscribes to (or
	// patterns: "order.*", "ops.*", "*"): each such event is delivered
	// to it, besides the alerts rules address to it. Webhook and log
	// destinations only.
	Events []string `json:"events,omitempty"`
	// Signature is how webhook deliveries are signed: SignatureStandard
	// or SignatureOrdergate. Unset, events are signed the Standard
	// Webhooks way and rules' alerts the ordergate-v1 way, as they were
	// before events existed.
	Signature string    `json:"signature,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Webhook signature schemes (Destination.Signature).
const (
	// SignatureStandard: the Standard Webhooks headers webhook-id,
	// webhook-timestamp and webhook-signature ("v1," and the base64
	// HMAC-SHA256 of "<id>.<timestamp>.<body>"), keyed with the secret's
	// bytes after "whsec_" decoded from base64 (or the whole secret's
	// bytes when it has no such prefix).
	SignatureStandard = "standard-webhooks"
	// SignatureOrdergate: X-Ordergate-Alert-Id, X-Ordergate-Timestamp and
	// X-Ordergate-Signature ("v1=" and the hex HMAC-SHA256 of
	// "<timestamp>.<body>" keyed with the secret as it is).
	SignatureOrdergate = "ordergate-v1"
)

// SecretPrefix begins a Standard Webhooks secret: the base64 of its key.
const SecretPrefix = "whsec_"

// NewSecret returns a new random webhook secret: "whsec_" and the base64
// of 32 random bytes.
func NewSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// SigningKey is the HMAC key of a Standard Webhooks signature made with
// secret.
func SigningKey(secret string) []byte {
	if b64, ok := strings.CutPrefix(secret, SecretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(b64); err == nil {
			return key
		}
	}
	return []byte(secret)
}

// SignsStandard reports whether the destination signs a delivery the
// Standard Webhooks way: an event's (unless ordergate-v1 is asked for)
// or any (when standard-webhooks is).
func (d *Destination) SignsStandard(event bool) bool {
	if d.Signature == "" {
		return event
	}
	return d.Signature == SignatureStandard
}

// signsAnyStandard reports whether some deliveries to the destination
// are signed the Standard Webhooks way, whose libraries read a whsec_
// secret as base64.
func (d *Destination) signsAnyStandard() bool {
	return d.Signature == SignatureStandard || (d.Signature == "" && len(d.Events) > 0)
}

// Subscribes reports whether the destination subscribes to events of
// type t.
func (d *Destination) Subscribes(t string) bool {
	return slices.ContainsFunc(d.Events, func(p string) bool { return MatchEventType(p, t) })
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
	if b64, ok := strings.CutPrefix(d.Secret, SecretPrefix); ok && d.Kind == DestinationWebhook && d.signsAnyStandard() {
		if key, err := base64.StdEncoding.DecodeString(b64); err != nil || len(key) < 24 || len(key) > 64 {
			errs = append(errs, sdk.FieldError{Field: "secret", Detail: "a whsec_ secret must be whsec_ and the base64 of 24 to 64 bytes"})
		}
	}
	switch d.Signature {
	case "", SignatureStandard, SignatureOrdergate:
	default:
		errs = append(errs, sdk.FieldError{Field: "signature", Detail: "must be standard-webhooks or ordergate-v1"})
	}
	if len(d.Events) > 0 && d.Kind != DestinationWebhook && d.Kind != DestinationLog {
		errs = append(errs, sdk.FieldError{Field: "events", Detail: "events are delivered to webhook and log destinations only"})
	}
	for i, t := range d.Events {
		if !ValidEventType(t) {
			errs = append(errs, sdk.FieldError{Field: fmt.Sprintf("events[%d]", i),
				Detail: fmt.Sprintf("%q is not an event type: use one of %s, %s, or order.*, ops.*, *", t, strings.Join(OrderEventTypes, ", "), strings.Join(OpsEventTypes, ", "))})
		}
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

// DestinationRequest asks for a new alert destination; Secret and
// Password are write-only.
type DestinationRequest struct {
	Name           string  `json:"name"`
	Kind           string  `json:"kind"`
	URL            string  `json:"url,omitempty"`
	Secret         string  `json:"secret,omitempty"`
	MaxConcurrency int     `json:"max_concurrency,omitempty"`
	RatePerSecond  float64 `json:"rate_per_second,omitempty"`
	// Retry bounds how long deliveries are retried (default 20 attempts
	// within 72h).
	Retry *RetryPolicy `json:"retry,omitempty"`
	// Events subscribes the destination to event types; Signature
	// chooses how webhook deliveries are signed (Destination has both).
	Events    []string `json:"events,omitempty"`
	Signature string   `json:"signature,omitempty"`
	// Email destinations.
	SMTPHost string   `json:"smtp_host,omitempty"`
	SMTPPort int      `json:"smtp_port,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
	TLS      string   `json:"tls,omitempty"`
}

// Destination returns the destination the request asks for, created at
// now, or what is wrong with the request. A webhook given no secret gets
// a new one (NewSecret), and generated says so: the caller shows it once.
func (r *DestinationRequest) Destination(now time.Time) (d *Destination, generated bool, bad []sdk.FieldError) {
	d = &Destination{Name: r.Name, Kind: r.Kind, URL: r.URL, Secret: r.Secret,
		MaxConcurrency: r.MaxConcurrency, RatePerSecond: r.RatePerSecond, Retry: r.Retry, Events: r.Events, Signature: r.Signature,
		CreatedAt: now, UpdatedAt: now,
		SMTPHost: r.SMTPHost, SMTPPort: r.SMTPPort, Username: r.Username, Password: r.Password, From: r.From, To: r.To, TLS: r.TLS}
	if d.Kind == DestinationWebhook && d.Secret == "" {
		d.Secret, generated = NewSecret(), true
	}
	if bad := d.Validate(); len(bad) > 0 {
		return nil, false, bad
	}
	return d, generated, nil
}

// DestinationPatch changes a destination; fields left out stay. A secret
// or password given as "(secret)" keeps the stored one.
type DestinationPatch struct {
	URL            *string  `json:"url,omitempty"`
	Secret         *string  `json:"secret,omitempty"`
	MaxConcurrency *int     `json:"max_concurrency,omitempty"`
	RatePerSecond  *float64 `json:"rate_per_second,omitempty"`
	Password       *string  `json:"password,omitempty"`
	To             []string `json:"to,omitempty"`
	// Retry replaces the retry policy; {} returns to the defaults.
	Retry *RetryPolicy `json:"retry,omitempty"`
	// Events replaces the subscriptions ([] ends them); Signature the
	// signature scheme ("" returns to the default).
	Events    *[]string `json:"events,omitempty"`
	Signature *string   `json:"signature,omitempty"`
}

// Apply changes d as the patch says, or says what is wrong (and leaves d
// as it was).
func (p *DestinationPatch) Apply(d *Destination) []sdk.FieldError {
	next := *d
	if p.URL != nil {
		next.URL = *p.URL
	}
	if p.Secret != nil && *p.Secret != sdk.RedactedValue {
		next.Secret = *p.Secret
	}
	if p.Password != nil && *p.Password != sdk.RedactedValue {
		next.Password = *p.Password
	}
	if p.To != nil {
		next.To = p.To
	}
	if p.MaxConcurrency != nil {
		next.MaxConcurrency = *p.MaxConcurrency
	}
	if p.RatePerSecond != nil {
		next.RatePerSecond = *p.RatePerSecond
	}
	if p.Events != nil {
		next.Events = *p.Events
		if len(next.Events) == 0 {
			next.Events = nil
		}
	}
	if p.Signature != nil {
		next.Signature = *p.Signature
	}
	if p.Retry != nil {
		next.Retry = p.Retry
		if *p.Retry == (RetryPolicy{}) {
			next.Retry = nil
		}
	}
	if bad := next.Validate(); len(bad) > 0 {
		return bad
	}
	*d = next
	return nil
}
