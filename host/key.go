package host

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
)

// Roles an API key can have.
const (
	// RoleAdmin keys may do everything, including posting orders for any channel.
	RoleAdmin = "admin"
	// RoleReseller keys may post orders to, and read orders of, one B2B channel.
	RoleReseller = "reseller"
	// RoleOperator keys are operations staff's: they work orders (read
	// every channel's, release, cancel, re-evaluate, edit, bulk actions,
	// the queue summary, upload stock, import a channel now, redeliver
	// alerts, dry-run the workflow) but do not post orders or manage
	// keys, destinations, channels, the catalog or settings.
	RoleOperator = "operator"
	// RoleMetrics keys may only read /metrics: the credential of a
	// Prometheus server, which can do nothing else with it.
	RoleMetrics = "metrics"
)

// MayUse reports whether the key may use a route of the role: an admin
// key every route, an operator key the routes of role operator and
// reseller, a reseller key the routes of role reseller (any order-side
// key), a metrics key the routes of role metrics.
func (k *APIKey) MayUse(routeRole string) bool {
	switch k.Role {
	case RoleAdmin:
		return true
	case RoleOperator:
		return routeRole == RoleOperator || routeRole == RoleReseller
	case RoleReseller:
		return routeRole == RoleReseller
	case RoleMetrics:
		return routeRole == RoleMetrics
	}
	return false
}

// KeyPrefix starts every API key so that secret scanners can recognise a
// leaked one ("ogk_" + 40 base62 characters).
const KeyPrefix = "ogk_"

// APIKey is a stored API key. The secret itself is never stored: only its
// SHA-256 hash, from which the key is looked up.
type APIKey struct {
	// ID is public and names the key in the API and on order timelines.
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	ChannelID string    `json:"channel_id,omitempty"`
	Name      string    `json:"name,omitempty"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	// User is set on the actor of a signed-in user (User.Actor), which
	// is not a stored key.
	User bool `json:"-"`
}

// Actor is how the key appears on order timelines: "key:<id>", or
// "system" for System.
func (k *APIKey) Actor() string {
	if k == System {
		return "system"
	}
	if k.User {
		return "user:" + k.Name
	}
	return "key:" + k.ID
}

// MayReadChannel reports whether the key may see orders of the channel.
func (k *APIKey) MayReadChannel(channelID string) bool {
	return k.Role == RoleAdmin || k.Role == RoleOperator || k.ChannelID == channelID
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewKeySecret returns a fresh random key (about 238 bits of entropy) and
// its hash.
func NewKeySecret() (secret, hash string, err error) {
	var b strings.Builder
	b.WriteString(KeyPrefix)
	max := big.NewInt(int64(len(base62)))
	for range 40 {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", "", err
		}
		b.WriteByte(base62[n.Int64()])
	}
	secret = b.String()
	return secret, HashKey(secret), nil
}

// HashKey returns the hex SHA-256 of a key secret, the form keys are stored
// and looked up in.
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SameHash compares two key hashes in constant time.
func SameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// NewID returns a short random identifier with a prefix, for keys and the
// like (not for orders, whose ids sort by time).
func NewID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
