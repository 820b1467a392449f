package host

import (
	"slices"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// ChannelRequest asks for a new channel.
type ChannelRequest struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kind is b2b (orders posted to the API) or b2c (imported by a connector).
	Kind string `json:"kind"`
	// Connector, Config, PollInterval and Enabled are for b2c channels.
	Connector    string     `json:"connector,omitempty"`
	Config       sdk.Config `json:"config,omitempty"`
	PollInterval string     `json:"poll_interval,omitempty"`
	// Enabled defaults to true for a channel with a connector.
	Enabled *bool `json:"enabled,omitempty"`
}

// Channel returns the channel the request asks for, created at now, or
// what is wrong with the request. Its connector configuration is checked
// apart (by the connector's description).
func (r *ChannelRequest) Channel(now time.Time) (*Channel, []sdk.FieldError) {
	var bad []sdk.FieldError
	if !ValidChannelID(r.ID) {
		bad = append(bad, sdk.FieldError{Field: "id", Detail: "must be 1-64 lower-case letters, digits, '_' or '-'"})
	}
	if r.Kind != ChannelB2B && r.Kind != ChannelB2C {
		bad = append(bad, sdk.FieldError{Field: "kind", Detail: "must be b2b or b2c"})
	}
	if len(r.Name) > 200 {
		bad = append(bad, sdk.FieldError{Field: "name", Detail: "must be at most 200 characters"})
	}
	bad = append(bad, checkPollInterval(r.PollInterval)...)
	if len(bad) > 0 {
		return nil, bad
	}
	name := r.Name
	if name == "" {
		name = r.ID
	}
	return &Channel{ID: r.ID, Name: name, Kind: r.Kind, Connector: r.Connector, Config: r.Config, PollInterval: r.PollInterval,
		Enabled: r.Connector != "" && (r.Enabled == nil || *r.Enabled), CreatedAt: now, UpdatedAt: now}, nil
}

// ChannelPatch changes a channel; fields left out stay. A secret config
// value given as "(secret)" keeps the stored one, so a client can send
// back what it read.
type ChannelPatch struct {
	Name         *string    `json:"name,omitempty"`
	Connector    *string    `json:"connector,omitempty"`
	Config       sdk.Config `json:"config,omitempty"`
	PollInterval *string    `json:"poll_interval,omitempty"`
	Enabled      *bool      `json:"enabled,omitempty"`
}

// Apply changes ch as the patch says, or says what is wrong with it (and
// leaves ch as it was). Its connector configuration is checked apart.
func (p *ChannelPatch) Apply(ch *Channel) []sdk.FieldError {
	var bad []sdk.FieldError
	if p.Name != nil && (*p.Name == "" || len(*p.Name) > 200) {
		bad = append(bad, sdk.FieldError{Field: "name", Detail: "must be 1-200 characters"})
	}
	if p.PollInterval != nil {
		bad = append(bad, checkPollInterval(*p.PollInterval)...)
	}
	if len(bad) > 0 {
		return bad
	}
	if p.Name != nil {
		ch.Name = *p.Name
	}
	if p.PollInterval != nil {
		ch.PollInterval = *p.PollInterval
	}
	if p.Connector != nil {
		ch.Connector = *p.Connector
	}
	if p.Config != nil {
		cfg := make(sdk.Config, len(p.Config))
		for name, v := range p.Config {
			if v == sdk.RedactedValue && slices.Contains(ch.SecretFields, name) {
				v = ch.Config[name]
			}
			cfg[name] = v
		}
		ch.Config = cfg
	}
	if p.Enabled != nil {
		ch.Enabled = *p.Enabled
	}
	return nil
}

// checkPollInterval checks a poll interval ("" is the default).
func checkPollInterval(v string) []sdk.FieldError {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < MinPollInterval || d > MaxPollInterval {
		return []sdk.FieldError{{Field: "poll_interval", Detail: "must be a duration from 1s to 24h, such as \"5m\""}}
	}
	return nil
}
