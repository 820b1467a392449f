package host

import (
	"regexp"
	"time"
)

// Channel kinds.
const (
	// ChannelB2B channels post orders to the HTTP API with a reseller key.
	ChannelB2B = "b2b"
	// ChannelB2C channels are polled by a connector plugin ("Get Orders").
	ChannelB2C = "b2c"
)

// Channel is a sales channel orders are imported from.
type Channel struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

var channelIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidChannelID reports whether id is a well-formed channel id: 1-64
// lower-case letters, digits, '_' or '-', starting with a letter or digit.
func ValidChannelID(id string) bool { return channelIDPattern.MatchString(id) }
