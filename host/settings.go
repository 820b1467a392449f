package host

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Settings are the host's operational switches, changed through the API.
type Settings struct {
	DuplicateProtection DuplicateProtection `json:"duplicate_protection"`
	// ReevaluateOnInventoryChange re-evaluates held orders whose SKUs an
	// inventory update touched, so holds whose cause is gone clear by
	// themselves.
	ReevaluateOnInventoryChange bool `json:"reevaluate_on_inventory_change"`
	// OpsAlerts are the host's own alerts about itself.
	OpsAlerts OpsAlerts `json:"ops_alerts"`
	// HoldSLA bounds how long orders may wait in the hold queue.
	HoldSLA   HoldSLA   `json:"hold_sla"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// HoldSLA is the hold queue's service level: per hold reason, how long an
// order may stay held for it (MaxAge, durations such as "4h" or "2d").
// An order held longer raises one ops alert hold_sla_exceeded per hold;
// when more than DigestOver orders are found over their SLA at once, one
// hold_sla_digest alert names them all instead. Reasons without a
// maximum are not watched.
//
// The SLAs are host settings rather than policy data: they are about the
// people working the queue, not about an order's decision; operations
// change them without a policy deploy; and every host sharing the store
// reads the same values at once.
type HoldSLA struct {
	MaxAge     map[string]string `json:"max_age,omitempty"`
	DigestOver int               `json:"digest_over,omitempty"`
}

// DefaultDigestOver is how many breaches at once make a digest.
const DefaultDigestOver = 10

// Digest returns DigestOver, or its default.
func (s HoldSLA) Digest() int {
	if s.DigestOver <= 0 {
		return DefaultDigestOver
	}
	return s.DigestOver
}

// MaxAges returns the maximum age of each reason that has one.
func (s HoldSLA) MaxAges() map[string]time.Duration {
	out := map[string]time.Duration{}
	for reason, v := range s.MaxAge {
		if d, err := ParseDays(v); err == nil && d > 0 {
			out[reason] = d
		}
	}
	return out
}

// HoldReasons lists the reasons an order can be held for: those a policy
// gives and the host's policy_error.
var HoldReasons = []string{sdk.HoldCustomRule, sdk.HoldDuplicateOrder, sdk.HoldNotManagedItem, sdk.HoldInsufficientQuantity,
	sdk.HoldDisabledSource, sdk.HoldUnmappedShippingPolicy, sdk.HoldPolicyError}

func (s HoldSLA) validate() []sdk.FieldError {
	var errs []sdk.FieldError
	for _, reason := range slices.Sorted(maps.Keys(s.MaxAge)) {
		field := "hold_sla.max_age." + reason
		if !slices.Contains(HoldReasons, reason) {
			errs = append(errs, sdk.FieldError{Field: field, Detail: fmt.Sprintf("is not a hold reason: use one of %v", HoldReasons)})
			continue
		}
		if d, err := ParseDays(s.MaxAge[reason]); err != nil || d < time.Second || d > 365*24*time.Hour {
			errs = append(errs, sdk.FieldError{Field: field, Detail: "must be a duration from 1s to 365d, such as \"4h\" or \"2d\""})
		}
	}
	if s.DigestOver < 0 || s.DigestOver > 10000 {
		errs = append(errs, sdk.FieldError{Field: "hold_sla.digest_over", Detail: "must be from 1 to 10000"})
	}
	return errs
}

// OpsAlerts configures the operational alerts the host raises: a channel
// whose imports fail ChannelFailures times in a row or that has had no
// successful import for ChannelSilence, a refused policy reload, and a
// dead-lettered alert. They go to the destination To (the log when no
// destination is configured at all).
type OpsAlerts struct {
	To              string `json:"to"`
	ChannelFailures int    `json:"channel_failures"`
	ChannelSilence  string `json:"channel_silence"`
}

// SilenceDuration returns ChannelSilence (24h when unset).
func (o OpsAlerts) SilenceDuration() time.Duration {
	d, err := time.ParseDuration(o.ChannelSilence)
	if err != nil || d <= 0 {
		return 24 * time.Hour
	}
	return d
}

// DuplicateProtection configures the search for orders that look like one
// already imported.
type DuplicateProtection struct {
	Enabled bool `json:"enabled"`
	// Window is how far apart in placed_at two orders may be and still be
	// duplicates, as a Go duration ("24h").
	Window string `json:"window"`
}

// DefaultSettings are the settings of a new installation.
func DefaultSettings() Settings {
	return Settings{
		DuplicateProtection:         DuplicateProtection{Enabled: true, Window: "24h"},
		ReevaluateOnInventoryChange: true,
		OpsAlerts:                   OpsAlerts{To: "ops", ChannelFailures: 3, ChannelSilence: "24h"},
	}
}

// WindowDuration returns the duplicate window.
func (p DuplicateProtection) WindowDuration() time.Duration {
	d, err := time.ParseDuration(p.Window)
	if err != nil {
		return 24 * time.Hour
	}
	return d
}

// Validate checks settings.
func (s *Settings) Validate() []sdk.FieldError {
	d, err := time.ParseDuration(s.DuplicateProtection.Window)
	switch {
	case err != nil:
		return []sdk.FieldError{{Field: "duplicate_protection.window", Detail: "must be a duration such as \"24h\" or \"90m\""}}
	case d <= 0 || d > MaxDuplicateWindow:
		return []sdk.FieldError{{Field: "duplicate_protection.window", Detail: "must be more than 0 and at most 720h (30 days)"}}
	}
	var errs []sdk.FieldError
	if o := s.OpsAlerts; o.To != "" && !ValidID(o.To) {
		errs = append(errs, sdk.FieldError{Field: "ops_alerts.to", Detail: "must name an alert destination"})
	}
	if s.OpsAlerts.ChannelFailures < 1 || s.OpsAlerts.ChannelFailures > 1000 {
		errs = append(errs, sdk.FieldError{Field: "ops_alerts.channel_failures", Detail: "must be from 1 to 1000"})
	}
	if d, err := time.ParseDuration(s.OpsAlerts.ChannelSilence); err != nil || d < time.Second {
		errs = append(errs, sdk.FieldError{Field: "ops_alerts.channel_silence", Detail: "must be a duration of at least 1s, such as \"24h\""})
	}
	return append(errs, s.HoldSLA.validate()...)
}

// SettingsPatch changes settings; fields left out stay as they are.
type SettingsPatch struct {
	DuplicateProtection *struct {
		Enabled *bool   `json:"enabled,omitempty"`
		Window  *string `json:"window,omitempty"`
	} `json:"duplicate_protection,omitempty"`
	ReevaluateOnInventoryChange *bool `json:"reevaluate_on_inventory_change,omitempty"`
	OpsAlerts                   *struct {
		To              *string `json:"to,omitempty"`
		ChannelFailures *int    `json:"channel_failures,omitempty"`
		ChannelSilence  *string `json:"channel_silence,omitempty"`
	} `json:"ops_alerts,omitempty"`
	// HoldSLA: max_age replaces the stored map ({} removes every
	// maximum; a reason given "" has none).
	HoldSLA *struct {
		MaxAge     map[string]string `json:"max_age,omitempty"`
		DigestOver *int              `json:"digest_over,omitempty"`
	} `json:"hold_sla,omitempty"`
}

// Apply changes s as the patch says, or says what is wrong (and leaves s
// as it was).
func (p *SettingsPatch) Apply(s *Settings) []sdk.FieldError {
	next := *s
	if dp := p.DuplicateProtection; dp != nil {
		if dp.Enabled != nil {
			next.DuplicateProtection.Enabled = *dp.Enabled
		}
		if dp.Window != nil {
			next.DuplicateProtection.Window = *dp.Window
		}
	}
	if p.ReevaluateOnInventoryChange != nil {
		next.ReevaluateOnInventoryChange = *p.ReevaluateOnInventoryChange
	}
	if o := p.OpsAlerts; o != nil {
		if o.To != nil {
			next.OpsAlerts.To = *o.To
		}
		if o.ChannelFailures != nil {
			next.OpsAlerts.ChannelFailures = *o.ChannelFailures
		}
		if o.ChannelSilence != nil {
			next.OpsAlerts.ChannelSilence = *o.ChannelSilence
		}
	}
	if h := p.HoldSLA; h != nil {
		if h.MaxAge != nil {
			next.HoldSLA.MaxAge = map[string]string{}
			for reason, v := range h.MaxAge {
				if v != "" {
					next.HoldSLA.MaxAge[reason] = v
				}
			}
		}
		if h.DigestOver != nil {
			next.HoldSLA.DigestOver = *h.DigestOver
		}
	}
	if bad := next.Validate(); len(bad) > 0 {
		return bad
	}
	*s = next
	return nil
}
