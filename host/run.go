package host

import (
	"fmt"
	"slices"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	// RunPartial runs stored orders but rejected some of the channel's
	// input (orders that failed validation, files the connector set
	// aside); they count toward the channel's failure streak.
	RunPartial = "partial"
	RunFailed  = "failed"
	// RunInterrupted runs ended because the host stopped (a shutdown or a
	// crash, closed at the next start); they count neither as a success
	// nor as a failure.
	RunInterrupted = "interrupted"
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
	// ones stored, Existing those already imported before and unchanged,
	// Updated those imported before that the channel changed (or canceled)
	// since, Held the new ones put on hold, Rejected those that failed
	// validation. Problems counts input the connector set aside (a
	// malformed file, say). Every count covers committed pages only: it is
	// stored in the transaction of the page's orders and cursor.
	OrdersSeen int `json:"orders_seen"`
	Imported   int `json:"imported"`
	Existing   int `json:"existing"`
	Updated    int `json:"updated"`
	Held       int `json:"held"`
	Rejected   int `json:"rejected"`
	Problems   int `json:"problems"`
	// Errors says what went wrong: the run's error first, then rejected
	// orders and the connector's problems (at most MaxRunErrors).
	Errors []string `json:"errors,omitempty"`
	// Notices are what the connector did that rejected nothing (at most
	// MaxRunErrors), e.g. a page it shrank.
	Notices []string `json:"notices,omitempty"`
}

// MaxRunErrors bounds the errors kept on a run.
const MaxRunErrors = 50

// AddError records a problem of the run, up to MaxRunErrors.
func (r *Run) AddError(msg string) {
	if len(r.Errors) < MaxRunErrors {
		r.Errors = append(r.Errors, msg)
	}
}

// Import outcomes of one order of a page.
const (
	OutcomeCreated  = "created"
	OutcomeExisting = "existing"
	OutcomeUpdated  = "updated"
	OutcomeRejected = "rejected"
)

// PageOrder is what became of one order of an import page.
type PageOrder struct {
	ExternalID string
	Outcome    string // one of the Outcome constants
	Held       bool   // a created order was put on hold
	Err        error  // why a rejected order was rejected
}

// WithPage returns a copy of the run with one committed page counted: its
// orders' outcomes, the connector's problems, and the cursor after it
// ("" when the page moved no cursor).
func (r *Run) WithPage(orders []PageOrder, problems []sdk.Problem, cursor string) *Run {
	out := *r
	out.Errors, out.Notices = slices.Clone(r.Errors), slices.Clone(r.Notices)
	out.Pages++
	out.OrdersSeen += len(orders)
	for _, o := range orders {
		switch o.Outcome {
		case OutcomeCreated:
			out.Imported++
			if o.Held {
				out.Held++
			}
		case OutcomeExisting:
			out.Existing++
		case OutcomeUpdated:
			out.Updated++
		case OutcomeRejected:
			out.Rejected++
			out.AddError(fmt.Sprintf("order %s rejected: %v", o.ExternalID, o.Err))
		}
	}
	for _, p := range problems {
		msg := fmt.Sprintf("%s: %s", p.Source, p.Message)
		if p.Notice {
			if len(out.Notices) < MaxRunErrors {
				out.Notices = append(out.Notices, msg)
			}
			continue
		}
		out.Problems++
		out.AddError(msg)
	}
	if cursor != "" {
		out.CursorAfter = cursor
	}
	return &out
}

// Finish returns a copy of the run ended at now: failed with err when the
// import failed, partial or failed when it rejected input (failed when it
// stored nothing the channel sent), succeeded otherwise.
func (r *Run) Finish(err error, now time.Time) *Run {
	out := *r
	out.Errors = slices.Clone(r.Errors)
	out.FinishedAt = &now
	rejected := r.Rejected + r.Problems
	switch {
	case err != nil:
		out.Status = RunFailed
		out.Errors = append([]string{err.Error()}, out.Errors...)
	case rejected > 0:
		out.Status = RunFailed
		if r.Imported+r.Existing+r.Updated > 0 {
			out.Status = RunPartial
		}
		out.Errors = append([]string{fmt.Sprintf("the channel's input was rejected: %d orders and %d other inputs (see below)", r.Rejected, r.Problems)}, out.Errors...)
	default:
		out.Status = RunSucceeded
	}
	return &out
}

// Interrupt returns a copy of the run ended at now because the host
// stopped: why says how.
func (r *Run) Interrupt(why string, now time.Time) *Run {
	out := *r
	out.Errors = append([]string{why}, r.Errors...)
	out.FinishedAt = &now
	out.Status = RunInterrupted
	return &out
}

// Failing reports whether a finished run counts toward its channel's
// failure streak.
func (r *Run) Failing() bool { return r.Status == RunFailed || r.Status == RunPartial }

// ImportHistory is what a channel's stored runs say about it.
type ImportHistory struct {
	// FailuresInARow counts the newest failing runs before the last
	// success (interrupted runs are skipped, neither success nor failure).
	FailuresInARow int
	// LastSuccess is when the newest run that stored the channel's orders
	// (succeeded or partial) finished; the channel's creation when none did.
	LastSuccess time.Time
}

// HistoryOf reads a channel's history from its runs, newest first.
func HistoryOf(ch *Channel, runs []*Run) ImportHistory {
	h := ImportHistory{LastSuccess: ch.CreatedAt}
	for _, r := range runs {
		if r.Status == RunRunning || r.Status == RunInterrupted {
			continue
		}
		if !r.Failing() {
			break
		}
		h.FailuresInARow++
	}
	for _, r := range runs {
		if (r.Status == RunSucceeded || r.Status == RunPartial) && r.FinishedAt != nil {
			h.LastSuccess = *r.FinishedAt
			break
		}
	}
	return h
}

// PageCommit is what an import page commits with its new orders, in the
// same transaction: the channel's cursor after the page (unchanged when
// empty) and the run with the page counted. Run is given what the store
// did with the page's new orders; it may be called more than once (a
// retried transaction) and must only compute.
type PageCommit struct {
	ChannelID string
	Cursor    string
	Run       func(stored []CreateResult) *Run
	// Lease, when several hosts share the store, is the lease the import
	// runs under: the page commits only while it is held (ErrLeaseLost
	// otherwise, and nothing is written).
	Lease *Lease
}

// HistoryRuns is how many of a channel's newest runs its import history
// is read from: all it keeps.
const HistoryRuns = MaxRunsKept

// MaxRunsKept is how many runs a channel keeps.
const MaxRunsKept = 200
