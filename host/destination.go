package host

import (
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
// now, or what is wrong with the request.
func (r *DestinationRequest) Destination(now time.Time) (*Destination, []sdk.FieldError) {
	d := &Destination{Name: r.Name, Kind: r.Kind, URL: r.URL, Secret: r.Secret,
		MaxConcurrency: r.MaxConcurrency, RatePerSecond: r.RatePerSecond, Retry: r.Retry, CreatedAt: now, UpdatedAt: now,
		SMTPHost: r.SMTPHost, SMTPPort: r.SMTPPort, Username: r.Username, Password: r.Password, From: r.From, To: r.To, TLS: r.TLS}
	if bad := d.Validate(); len(bad) > 0 {
		return nil, bad
	}
	return d, nil
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
