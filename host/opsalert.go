package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// OpsAlert is one of the host's operational alerts: about itself, not an
// order. Each kind is a type with its fields; its Rule names the kind on
// the delivery ("channel_failing", ...), and its Key makes it raised once.
type OpsAlert interface {
	// Rule is the kind's name, the delivery's alert.rule.
	Rule() string
	Severity() string
	Message() string
	// Key identifies one occurrence: the same key is raised once.
	Key() string
}

// Operational alert kinds, as their Rule names them.
const (
	OpsChannelFailing      = "channel_failing"
	OpsChannelSilent       = "channel_silent"
	OpsPolicyReloadRefused = "policy_reload_refused"
	OpsAlertDeadLettered   = "alert_dead_lettered"
	OpsRevisionsDiffer     = "policy_revisions_differ"
	OpsHoldSLAExceeded     = "hold_sla_exceeded"
	OpsHoldSLADigest       = "hold_sla_digest"
)

// HoldSLAExceeded: an order has been held for a reason longer than the
// reason's SLA (Settings.HoldSLA); raised once per order and hold.
type HoldSLAExceeded struct {
	OrderID, Number, ChannelID string
	Hold                       sdk.Hold
	HeldAt                     time.Time
	Age, MaxAge                time.Duration
}

func (a HoldSLAExceeded) Rule() string     { return OpsHoldSLAExceeded }
func (a HoldSLAExceeded) Severity() string { return "warning" }

// Key is the order and the hold, as placed: a hold released and placed
// again is another occurrence.
func (a HoldSLAExceeded) Key() string {
	return a.OrderID + "\x00" + a.Hold.Key() + "\x00" + a.HeldAt.UTC().Format(time.RFC3339Nano)
}

func (a HoldSLAExceeded) Message() string {
	return fmt.Sprintf("order %s (%s, channel %s) has been held for %s (rule %s) for %s, over the SLA of %s: /api/v1/orders/%s",
		a.Number, a.OrderID, a.ChannelID, a.Hold.Reason, a.Hold.Rule, a.Age.Round(time.Minute), FormatDays(a.MaxAge), a.OrderID)
}

// HoldSLADigest: more orders than the digest threshold were found over
// their SLA at once; one alert names them instead of one each.
type HoldSLADigest struct {
	// Breaches are the alerts the digest stands for.
	Breaches []HoldSLAExceeded
}

func (a HoldSLADigest) Rule() string     { return OpsHoldSLADigest }
func (a HoldSLADigest) Severity() string { return "warning" }

// Key is the set of breaches.
func (a HoldSLADigest) Key() string {
	keys := make([]string, len(a.Breaches))
	for i, b := range a.Breaches {
		keys[i] = b.Key()
	}
	slices.Sort(keys)
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return hex.EncodeToString(sum[:16])
}

func (a HoldSLADigest) Message() string {
	byReason := map[string]int{}
	oldest := a.Breaches[0]
	for _, b := range a.Breaches {
		byReason[b.Hold.Reason]++
		if b.HeldAt.Before(oldest.HeldAt) {
			oldest = b
		}
	}
	var parts []string
	for _, reason := range slices.Sorted(maps.Keys(byReason)) {
		parts = append(parts, fmt.Sprintf("%s %d", reason, byReason[reason]))
	}
	return fmt.Sprintf("%d held orders are over their SLA (%s); the oldest is %s, held %s for %s: GET /api/v1/orders/summary?status=on_hold",
		len(a.Breaches), strings.Join(parts, ", "), oldest.Number, oldest.Age.Round(time.Minute), oldest.Hold.Reason)
}

// RevisionsDiffer: hosts sharing the store have served different policy
// revisions for longer than a deploy takes (a deploy from git reached
// some hosts only); raised once per set of revisions.
type RevisionsDiffer struct {
	// Hosts maps each live host to the revision it serves.
	Hosts map[string]string
	Since time.Duration
}

func (a RevisionsDiffer) Rule() string     { return OpsRevisionsDiffer }
func (a RevisionsDiffer) Severity() string { return "critical" }

// Key is the set of revisions served, so the same split is raised once
// whichever host sees it.
func (a RevisionsDiffer) Key() string { return strings.Join(a.revisions(), " ") }

func (a RevisionsDiffer) revisions() []string {
	var out []string
	for _, rev := range a.Hosts {
		if !slices.Contains(out, rev) {
			out = append(out, rev)
		}
	}
	slices.Sort(out)
	return out
}

func (a RevisionsDiffer) Message() string {
	hosts := make([]string, 0, len(a.Hosts))
	for h := range a.Hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = h + " serves " + a.Hosts[h]
	}
	return fmt.Sprintf("hosts have served %d different policy revisions for over %s (%s): finish the deploy, or reload the hosts left behind (POST /api/v1/workflow/reload)",
		len(a.revisions()), a.Since, strings.Join(parts, ", "))
}

// ChannelFailing: a channel's imports failed (or rejected input) so many
// times in a row; raised once per streak, at the run that reached it.
type ChannelFailing struct {
	ChannelID  string
	RunID      string // the run that reached the streak
	Failures   int
	LastStatus string // failed or partial
	LastError  string
}

func (a ChannelFailing) Rule() string     { return OpsChannelFailing }
func (a ChannelFailing) Severity() string { return "critical" }
func (a ChannelFailing) Key() string      { return a.ChannelID + a.RunID }
func (a ChannelFailing) Message() string {
	return fmt.Sprintf("channel %s: %d imports in a row failed; the last (%s): %s. The channel stays enabled and is retried with back-off",
		a.ChannelID, a.Failures, a.LastStatus, a.LastError)
}

// ChannelSilent: a channel has had no successful import for longer than
// the setting; raised once per last success.
type ChannelSilent struct {
	ChannelID   string
	LastSuccess time.Time // of the last import that stored orders, or the channel's creation
	Window      time.Duration
}

func (a ChannelSilent) Rule() string     { return OpsChannelSilent }
func (a ChannelSilent) Severity() string { return "warning" }
func (a ChannelSilent) Key() string      { return a.ChannelID + a.LastSuccess.String() }
func (a ChannelSilent) Message() string {
	return fmt.Sprintf("channel %s has had no successful import since %s (more than %s); see GET /api/v1/channels/%s/runs",
		a.ChannelID, a.LastSuccess.Format(time.RFC3339), a.Window, a.ChannelID)
}

// PolicyReloadRefused: a new policy revision failed to compile or test;
// the previous one keeps serving. Raised once per serving revision and
// error.
type PolicyReloadRefused struct {
	Serving string // the revision that keeps serving
	Error   string
}

func (a PolicyReloadRefused) Rule() string     { return OpsPolicyReloadRefused }
func (a PolicyReloadRefused) Severity() string { return "critical" }
func (a PolicyReloadRefused) Key() string      { return a.Serving + a.Error }
func (a PolicyReloadRefused) Message() string {
	return fmt.Sprintf("a policy reload was refused; revision %s keeps serving: %s", a.Serving, a.Error)
}

// AlertDeadLettered: a rule's alert was given up after its retries;
// raised once per series of attempts (a redelivery starts another).
type AlertDeadLettered struct {
	DeliveryID  string
	Destination string
	OrderNumber string
	Attempts    int
	Error       string
	QueuedAt    time.Time // when the series of attempts began
}

func (a AlertDeadLettered) Rule() string     { return OpsAlertDeadLettered }
func (a AlertDeadLettered) Severity() string { return "critical" }
func (a AlertDeadLettered) Key() string {
	return a.DeliveryID + fmt.Sprint(a.QueuedAt.UnixNano(), a.Attempts)
}
func (a AlertDeadLettered) Message() string {
	attempts := fmt.Sprintf("%d attempts", a.Attempts)
	if a.Attempts == 1 {
		attempts = "1 attempt"
	}
	return fmt.Sprintf("alert %s to %s for order %s was given up after %s: %s; redeliver it with POST /api/v1/alerts/%s/redeliver",
		a.DeliveryID, a.Destination, a.OrderNumber, attempts, a.Error, a.DeliveryID)
}

// OpsDelivery returns the delivery of an operational alert to the
// destination to: package "host", no order, an id from its kind and key.
func OpsDelivery(to string, a OpsAlert, now time.Time) *Delivery {
	sum := sha256.Sum256([]byte(a.Rule() + "\x00" + a.Key()))
	return &Delivery{ID: "ops_" + hex.EncodeToString(sum[:12]), Alert: sdk.Alert{To: to, Severity: a.Severity(), Message: a.Message(), Rule: a.Rule(), Package: "host"},
		Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, QueuedAt: now}
}
