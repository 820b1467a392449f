package host

import (
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

var channelIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidChannelID reports whether id is a well-formed channel id: 1-64
// lower-case letters, digits, '_' or '-', starting with a letter or digit.
func ValidChannelID(id string) bool { return channelIDPattern.MatchString(id) }
