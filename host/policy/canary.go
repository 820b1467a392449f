package policy

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Canary replays a candidate revision on recently decided orders before
// it serves (backtest.Canary is the real one).
type Canary func(ctx context.Context, candidate *Revision) (*CanaryReport, error)

// CanaryReport is what a canary replay found.
type CanaryReport struct {
	// Orders counts the orders replayed, Changed those whose decision
	// would change.
	Orders  int `json:"orders"`
	Changed int `json:"changed"`
	// NewPolicyErrors counts orders the candidate cannot decide that the
	// revision on record decided cleanly; FirstError says which and why.
	NewPolicyErrors int                `json:"new_policy_errors"`
	FirstError      *CanaryPolicyError `json:"first_policy_error,omitempty"`
	// Diff is the replay's whole result, as a backtest gives it.
	Diff any `json:"diff,omitempty"`
	// Refused is set when the report refused the revision; Warned when
	// it would have but canaries only warn.
	Refused bool `json:"refused,omitempty"`
	Warned  bool `json:"warned,omitempty"`
}

// CanaryPolicyError is an order a candidate could not decide.
type CanaryPolicyError struct {
	OrderID string `json:"order_id"`
	Number  string `json:"number"`
	Error   string `json:"error"`
}

// CanarySummary is a canary report as the revision history keeps it.
type CanarySummary struct {
	Orders          int `json:"orders"`
	Changed         int `json:"changed"`
	NewPolicyErrors int `json:"new_policy_errors"`
}

func (r *CanaryReport) summary() *CanarySummary {
	if r == nil {
		return nil
	}
	return &CanarySummary{Orders: r.Orders, Changed: r.Changed, NewPolicyErrors: r.NewPolicyErrors}
}

// Revision states in the history.
const (
	RevisionServing = "serving"
	RevisionRetired = "retired"
	RevisionRefused = "refused"
)

// RevisionRecord is one revision in the history of a host's reloads
// (GET /api/v1/workflow/revisions).
type RevisionRecord struct {
	ID          string            `json:"id"`
	LoadedAt    time.Time         `json:"loaded_at"`
	Files       map[string]string `json:"files"`
	TestsPassed int               `json:"tests_passed"`
	Canary      *CanarySummary    `json:"canary"`
	Status      string            `json:"status"`
	Refusal     string            `json:"refusal,omitempty"`
}

// maxHistory bounds the revision history a host keeps.
const maxHistory = 100

// SetCanary has every reload replay the new revision with c before it
// serves. A revision whose replay gives policy_error on orders decided
// cleanly is refused, or only logged when warnOnly. Call it before the
// engine serves.
func (e *Engine) SetCanary(c Canary, warnOnly bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.canary, e.canaryWarn = c, warnOnly
}

// OnCanary sets a function told of each canary's outcome (accepted,
// refused or warned), for the metrics.
func (e *Engine) OnCanary(fn func(outcome string, r *CanaryReport)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onCanary = fn
}

// Revisions returns the revision history, newest first.
func (e *Engine) Revisions() []RevisionRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.history)
	slices.Reverse(out)
	return out
}

// CanaryTimeout bounds a canary replay.
const CanaryTimeout = 5 * time.Minute

// runCanary replays rev and refuses it when it errs where prev did not.
// The replay does not end with the reload's caller (a client that hangs
// up does not refuse a revision); it ends after CanaryTimeout.
func (e *Engine) runCanary(ctx context.Context, canary Canary, rev, prev *Revision) (*CanaryReport, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CanaryTimeout)
	defer cancel()
	report, err := canary(ctx, rev)
	if err == nil && report == nil {
		err = fmt.Errorf("the canary gave no report")
	}
	if err != nil {
		return nil, fmt.Errorf("replaying revision %s on recent orders before it serves: %w", rev.ID, err)
	}
	outcome := "accepted"
	if report.NewPolicyErrors > 0 {
		first := report.FirstError
		if first == nil {
			first = &CanaryPolicyError{}
		}
		msg := fmt.Sprintf("revision %s cannot decide %d of the last %d orders that revision %s's workflow decided cleanly; the first is order %s (#%s): %s",
			rev.ID, report.NewPolicyErrors, report.Orders, prev.ID, first.OrderID, first.Number, first.Error)
		if e.warnOnly() {
			report.Warned = true
			outcome = "warned"
			e.log.Warn("canary: the new revision serves although it cannot decide some recent orders (canary mode warn)", "revision", rev.ID, "detail", msg)
		} else {
			report.Refused = true
			e.notifyCanary("refused", report)
			return report, fmt.Errorf("canary refused the revision: %s", msg)
		}
	}
	e.notifyCanary(outcome, report)
	return report, nil
}

func (e *Engine) warnOnly() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.canaryWarn
}

func (e *Engine) notifyCanary(outcome string, r *CanaryReport) {
	e.mu.Lock()
	fn := e.onCanary
	e.mu.Unlock()
	if fn != nil {
		fn(outcome, r)
	}
}

// refusedRecord is the history entry of a refused reload.
func (e *Engine) refusedRecord(rev *Revision, report *CanaryReport, err error) RevisionRecord {
	rec := RevisionRecord{LoadedAt: time.Now().UTC(), Status: RevisionRefused, Refusal: err.Error(), Canary: report.summary()}
	if rev != nil {
		rec.ID, rec.Files, rec.TestsPassed = rev.ID, rev.Files, rev.Tests
	} else if files, ferr := fileDigests(e.dir); ferr == nil {
		rec.ID, rec.Files = contentHash(files), files
	}
	return rec
}

// remember appends to the history, replacing a refusal of the same
// revision just before, and drops the oldest beyond maxHistory.
func (e *Engine) remember(rec RevisionRecord) {
	if n := len(e.history); n > 0 && rec.Status == RevisionRefused && e.history[n-1].Status == RevisionRefused && e.history[n-1].ID == rec.ID {
		e.history[n-1] = rec
		return
	}
	e.history = append(e.history, rec)
	if len(e.history) > maxHistory {
		e.history = slices.Delete(e.history, 0, len(e.history)-maxHistory)
	}
}
