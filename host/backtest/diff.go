package backtest

import (
	"slices"

	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// Change is what a candidate revision would change in one order's
// decision, against the decision on record.
type Change struct {
	OrderID string `json:"order_id"`
	Number  string `json:"number"`
	// Link is the order's path in the API.
	Link   string       `json:"link"`
	Status StatusChange `json:"status"`
	// Holds compare by (package, rule, reason): a hold whose message
	// alone changed is neither added nor removed.
	HoldsAdded     []sdk.Hold         `json:"holds_added"`
	HoldsRemoved   []sdk.Hold         `json:"holds_removed"`
	TagsAdded      []string           `json:"tags_added"`
	TagsRemoved    []string           `json:"tags_removed"`
	NotesAdded     []string           `json:"notes_added,omitempty"`
	NotesRemoved   []string           `json:"notes_removed,omitempty"`
	Fields         []FieldChange      `json:"fields,omitempty"`
	AlertsAdded    []sdk.Alert        `json:"alerts_added,omitempty"`
	AlertsRemoved  []sdk.Alert        `json:"alerts_removed,omitempty"`
	CancelsAdded   []sdk.Cancellation `json:"cancels_added,omitempty"`
	CancelsRemoved []sdk.Cancellation `json:"cancels_removed,omitempty"`
	// PolicyError is the candidate's error when it could not decide.
	PolicyError string `json:"policy_error,omitempty"`

	// rules are the output rules whose effects came or went.
	rulesAdded, rulesRemoved []policy.OutputRule
}

// StatusChange is the status the decision implies, on record and with
// the candidate (the same when it does not change).
type StatusChange struct {
	From sdk.Status `json:"from"`
	To   sdk.Status `json:"to"`
}

// FieldChange is a field edit the candidate makes differently: From or
// To is "" when only one of the two decisions edits the field.
type FieldChange struct {
	Path string `json:"path"`
	From string `json:"from"`
	To   string `json:"to"`
}

// size is how much changed, what the top changes are ranked by.
func (c *Change) size() int {
	n := len(c.HoldsAdded) + len(c.HoldsRemoved) + len(c.TagsAdded) + len(c.TagsRemoved) +
		len(c.NotesAdded) + len(c.NotesRemoved) + len(c.Fields) + len(c.AlertsAdded) + len(c.AlertsRemoved) +
		len(c.CancelsAdded) + len(c.CancelsRemoved)
	if c.Status.From != c.Status.To {
		n++
	}
	return n
}

// statusChanged is 1 when the status changes: what ranks first.
func (c *Change) statusChanged() int {
	if c.Status.From != c.Status.To {
		return 1
	}
	return 0
}

// Rules returns the output rules whose effects the change adds and
// removes (what a result's by_rule counts).
func (c *Change) Rules() (added, removed []policy.OutputRule) { return c.rulesAdded, c.rulesRemoved }

// changed reports whether anything changed.
func (c *Change) changed() bool { return c.size() > 0 }

// Compare compares the candidate's decision to the decision on record.
// known are the candidate's output rules (see policy.Effects).
func Compare(recorded, candidate *sdk.Decision, known []policy.OutputRule) *Change {
	c := &Change{Status: StatusChange{From: recorded.Status, To: candidate.Status}, PolicyError: candidate.Error}
	holdKey := func(h sdk.Hold) [3]string { return [3]string{h.Package, h.Rule, h.Reason} }
	c.HoldsAdded, c.HoldsRemoved = difference(recorded.Holds, candidate.Holds, holdKey)
	tagKey := func(t sdk.TagDecision) string { return t.Tag }
	added, removed := difference(recorded.Tags, candidate.Tags, tagKey)
	c.TagsAdded, c.TagsRemoved = mapped(added, tagKey), mapped(removed, tagKey)
	noteKey := func(n sdk.NoteDecision) [2]string { return [2]string{n.Package, n.Note} }
	notesAdded, notesRemoved := difference(recorded.Notes, candidate.Notes, noteKey)
	noteText := func(n sdk.NoteDecision) string { return n.Note }
	c.NotesAdded, c.NotesRemoved = mapped(notesAdded, noteText), mapped(notesRemoved, noteText)
	alertKey := func(a sdk.Alert) [5]string { return [5]string{a.Package, a.Rule, a.To, a.Severity, a.Message} }
	c.AlertsAdded, c.AlertsRemoved = difference(recorded.Alerts, candidate.Alerts, alertKey)
	cancelKey := func(x sdk.Cancellation) [2]string { return [2]string{x.Package, x.Rule} }
	c.CancelsAdded, c.CancelsRemoved = difference(recorded.Cancels, candidate.Cancels, cancelKey)
	c.Fields = fieldChanges(recorded.Fields, candidate.Fields)

	ruleKey := func(r policy.OutputRule) policy.OutputRule { return r }
	c.rulesAdded, c.rulesRemoved = difference(policy.Effects(recorded, known), policy.Effects(candidate, known), ruleKey)
	// The pinned fields are lists even when empty.
	c.HoldsAdded, c.HoldsRemoved = orEmpty(c.HoldsAdded), orEmpty(c.HoldsRemoved)
	c.TagsAdded, c.TagsRemoved = orEmpty(c.TagsAdded), orEmpty(c.TagsRemoved)
	// A decision that errs has no effects of its rules; its policy_error
	// hold comes or goes as a rule of its own.
	policyError := policy.OutputRule{Output: "holds", Rule: sdk.HoldPolicyError}
	switch {
	case candidate.Error != "" && recorded.Error == "":
		c.rulesAdded = append(c.rulesAdded, policyError)
	case candidate.Error == "" && recorded.Error != "":
		c.rulesRemoved = append(c.rulesRemoved, policyError)
	}
	return c
}

// difference returns what is in b and not in a (added) and what is in a
// and not in b (removed), by key, each in its list's order.
func difference[T any, K comparable](a, b []T, key func(T) K) (added, removed []T) {
	inA := make(map[K]bool, len(a))
	for _, x := range a {
		inA[key(x)] = true
	}
	inB := make(map[K]bool, len(b))
	for _, x := range b {
		inB[key(x)] = true
		if !inA[key(x)] && !slices.ContainsFunc(added, func(y T) bool { return key(y) == key(x) }) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !inB[key(x)] && !slices.ContainsFunc(removed, func(y T) bool { return key(y) == key(x) }) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func mapped[T, U any](xs []T, f func(T) U) []U {
	if len(xs) == 0 {
		return nil
	}
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func fieldChanges(a, b []sdk.FieldEdit) []FieldChange {
	var out []FieldChange
	value := func(list []sdk.FieldEdit, path string) (string, bool) {
		for _, f := range list {
			if f.Path == path {
				return f.Value, true
			}
		}
		return "", false
	}
	for _, f := range b {
		if from, ok := value(a, f.Path); !ok || from != f.Value {
			out = append(out, FieldChange{Path: f.Path, From: from, To: f.Value})
		}
	}
	for _, f := range a {
		if _, ok := value(b, f.Path); !ok {
			out = append(out, FieldChange{Path: f.Path, From: f.Value})
		}
	}
	return out
}
