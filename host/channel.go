package host

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Channel kinds.
const (
	// ChannelB2B channels post orders to the HTTP API with a reseller key.
	ChannelB2B = "b2b"
	// ChannelB2C channels are polled by a connector plugin ("Get Orders").
	ChannelB2C = "b2c"
)

// Channel is a sales channel orders are imported from. A b2c channel
// names the connector that imports its orders, the connector's
// configuration, and how often the host polls it.
type Channel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Connector is the connector's name (binary ordergate-connector-<name>).
	Connector string `json:"connector,omitempty"`
	// Config is the connector's configuration. Values of SecretFields are
	// never shown by the API (see Public) nor logged.
	Config       sdk.Config `json:"config,omitempty"`
	SecretFields []string   `json:"secret_fields,omitempty"`
	// PollInterval is how often the scheduler imports, a Go duration.
	PollInterval string `json:"poll_interval,omitempty"`
	// Enabled channels are polled on their interval.
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Public returns a copy of the channel fit to show: secret values
// replaced by sdk.RedactedValue.
func (c *Channel) Public() *Channel {
	out := *c
	if c.Config != nil {
		out.Config = maps.Clone(c.Config)
		for _, name := range c.SecretFields {
			if _, ok := out.Config[name]; ok {
				out.Config[name] = sdk.RedactedValue
			}
		}
	}
	out.SecretFields = slices.Clone(c.SecretFields)
	return &out
}

// Interval returns the poll interval (DefaultPollInterval when unset).
func (c *Channel) Interval() time.Duration {
	d, err := time.ParseDuration(c.PollInterval)
	if err != nil || d <= 0 {
		return DefaultPollInterval
	}
	return d
}

// Poll interval bounds.
const (
	DefaultPollInterval = 5 * time.Minute
	MinPollInterval     = time.Second
	MaxPollInterval     = 24 * time.Hour
)

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// Run is one import of a channel: what started it, what it saw, what it
// stored, and what went wrong.
type Run struct {
	ID         string     `json:"id"`
	ChannelID  string     `json:"channel_id"`
	Trigger    string     `json:"trigger"` // "schedule" or "manual"
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// CursorBefore and CursorAfter are the saved cursors around the run.
	CursorBefore string `json:"cursor_before,omitempty"`
	CursorAfter  string `json:"cursor_after,omitempty"`
	Pages        int    `json:"pages"`
	// OrdersSeen counts the orders the connector sent; Imported the new
	// ones stored, Existing those already imported before, Held the new
	// ones put on hold, Rejected those that failed validation.
	OrdersSeen int `json:"orders_seen"`
	Imported   int `json:"imported"`
	Existing   int `json:"existing"`
	Held       int `json:"held"`
	Rejected   int `json:"rejected"`
	// Errors says what went wrong: the run's error first, then rejected
	// orders and the connector's problems (at most MaxRunErrors).
	Errors []string `json:"errors,omitempty"`
}

// MaxRunErrors bounds the errors kept on a run.
const MaxRunErrors = 50

// AddError records a problem of the run, up to MaxRunErrors.
func (r *Run) AddError(msg string) {
	if len(r.Errors) < MaxRunErrors {
		r.Errors = append(r.Errors, msg)
	}
}

// RunStore keeps channels' cursors and import runs.
type RunStore interface {
	// Cursor returns the channel's saved cursor ("" before any import).
	Cursor(ctx context.Context, channelID string) (string, error)
	// SaveCursor stores the cursor durably; call it only once the orders
	// before it are stored.
	SaveCursor(ctx context.Context, channelID, cursor string) error
	// PutRun creates or updates a run; old runs beyond the newest
	// MaxRunsKept of a channel are dropped.
	PutRun(ctx context.Context, r *Run) error
	// Runs lists a channel's runs, newest first.
	Runs(ctx context.Context, channelID string, limit int) ([]*Run, error)
}

// MaxRunsKept is how many runs a channel keeps.
const MaxRunsKept = 200

var channelIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidChannelID reports whether id is a well-formed channel id: 1-64
// lower-case letters, digits, '_' or '-', starting with a letter or digit.
func ValidChannelID(id string) bool { return channelIDPattern.MatchString(id) }
