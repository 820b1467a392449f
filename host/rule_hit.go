package host

import (
	"context"
	"time"
)

// RuleHit counts the recorded decisions of one hour in which one output
// rule of one policy revision had an effect: a tag, hold, cancel, note,
// field edit or alert it produced. The rule statistics of the workflow
// (GET /api/v1/workflow/rules) are rolled up from them.
type RuleHit struct {
	// Revision is the policy revision that decided.
	Revision string
	// Package is the workflow package below ordergate.workflow, e.g.
	// "review" or "holds.duplicate_order".
	Package string
	// Output is the output rule: tags, holds, cancel, notes, fields or
	// alerts.
	Output string
	// Rule is the effect's rule field, or the tag, note or field path for
	// outputs without one.
	Rule string
	// Hour is the UTC hour the decisions fall in (truncated to the hour).
	Hour time.Time
	// Count is how many decisions of the hour the rule had an effect in.
	Count int64
	// FirstAt and LastAt are the first and last such decision of the
	// hour; LastOrderID is the order LastAt decided.
	FirstAt     time.Time
	LastAt      time.Time
	LastOrderID string
}

// RuleHitKey is what identifies a RuleHit apart from its counts.
type RuleHitKey struct {
	Revision, Package, Output, Rule string
	Hour                            time.Time
}

// Key returns h's key.
func (h *RuleHit) Key() RuleHitKey {
	return RuleHitKey{Revision: h.Revision, Package: h.Package, Output: h.Output, Rule: h.Rule, Hour: h.Hour}
}

// Merge adds o's counts to h's: the counts add up, FirstAt is the
// earlier, and LastAt with its order the later of the two.
func (h *RuleHit) Merge(o *RuleHit) {
	h.Count += o.Count
	if h.FirstAt.IsZero() || (!o.FirstAt.IsZero() && o.FirstAt.Before(h.FirstAt)) {
		h.FirstAt = o.FirstAt
	}
	if o.LastAt.After(h.LastAt) {
		h.LastAt, h.LastOrderID = o.LastAt, o.LastOrderID
	}
}

// RuleHitStore keeps the hourly rule hit counts.
type RuleHitStore interface {
	// AddRuleHits adds each hit to the stored one of the same key (see
	// RuleHit.Merge), or stores it when there is none, all in one
	// transaction. Hosts sharing a store add to the same counts.
	AddRuleHits(ctx context.Context, hits []RuleHit) error
	// RuleHits returns the stored hits of every revision whose Hour is at
	// or after since, by hour then key.
	RuleHits(ctx context.Context, since time.Time) ([]RuleHit, error)
	// PruneRuleHits removes the hits whose Hour is before before and
	// returns how many it removed.
	PruneRuleHits(ctx context.Context, before time.Time) (int, error)
}
