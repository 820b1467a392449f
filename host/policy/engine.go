// Package policy is the OPA engine of ordergate: it loads the workflow
// policies from a directory, refuses a revision that does not compile or
// whose Rego tests fail, and evaluates orders against the revision in
// force with one query prepared per revision.
package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/ordergate/ordergate/sdk"
)

// DefaultEvalTimeout bounds one evaluation; a rule that runs longer makes
// the order a policy_error hold instead of blocking intake.
const DefaultEvalTimeout = 500 * time.Millisecond

// Engine serves workflow decisions from the latest good revision of a
// policy directory. It is safe for concurrent use.
type Engine struct {
	dir    string
	log    hclog.Logger
	limits Limits

	current atomic.Pointer[Revision]
	// slots admits at most GOMAXPROCS evaluations at once. Evaluation is
	// CPU work: more at once only makes each slower, and the deadline of
	// an evaluation starts once it has a slot, so it measures the rules'
	// own running time, not a wait for a CPU under an intake burst.
	slots chan struct{}

	// observer, when set, is told of every decision.
	observer Observer

	// reloading serialises reloads; mu guards the fields below it, and is
	// not held while a reload loads, tests and replays a revision.
	reloading  sync.Mutex
	mu         sync.Mutex
	onRefused  func(previous string, err error)
	lastError  string
	lastLoad   time.Time
	canary     Canary
	canaryWarn bool
	onCanary   func(outcome string, r *CanaryReport)
	lastCanary *CanaryReport
	history    []RevisionRecord
}

// Status is what GET /api/v1/workflow reports.
type Status struct {
	*Revision
	Dir        string    `json:"dir"`
	LoadedAt   time.Time `json:"loaded_at"`
	LastError  string    `json:"last_reload_error,omitempty"`
	EvalBudget string    `json:"evaluation_timeout"`
	// Canary is the replay of the last revision loaded (or refused) on
	// recently decided orders, before it served.
	Canary *CanaryReport `json:"canary,omitempty"`
}

// NewEngine returns an engine for the policies in dir. Call Reload to load
// the first revision.
func NewEngine(dir string, log hclog.Logger, evalTimeout time.Duration) *Engine {
	if evalTimeout <= 0 {
		evalTimeout = DefaultEvalTimeout
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Engine{dir: dir, log: log.Named("policy"), limits: Limits{Timeout: evalTimeout, MaxHoldFor: DefaultMaxHoldFor},
		slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// Limits bound one evaluation: its running time, and how far ahead a
// timed hold may fall due (DefaultEvalTimeout and DefaultMaxHoldFor when
// zero).
type Limits struct {
	Timeout    time.Duration
	MaxHoldFor time.Duration
}

func (l Limits) orDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultEvalTimeout
	}
	if l.MaxHoldFor <= 0 {
		l.MaxHoldFor = DefaultMaxHoldFor
	}
	return l
}

// SetMaxHoldFor sets how far ahead a timed hold may fall due; call it
// before the engine serves.
func (e *Engine) SetMaxHoldFor(d time.Duration) { e.limits.MaxHoldFor = d }

// Observer is told of each decision and how long the evaluation took
// (the metrics implement it).
type Observer interface {
	ObserveDecision(d *sdk.Decision, took time.Duration)
}

// Observe sets the observer of decisions; call it before the engine
// serves.
func (e *Engine) Observe(o Observer) { e.observer = o }

// ErrNoRevision is returned by Evaluate before any revision loaded.
var ErrNoRevision = errors.New("no policy revision is loaded")

// Reload loads the policy directory again. If the new revision fails to
// load, compile or pass its tests, or its canary replay refuses it, it is
// refused: the error is returned and kept for Status, and the previous
// revision keeps serving.
func (e *Engine) Reload(ctx context.Context) (*Revision, error) {
	e.reloading.Lock()
	defer e.reloading.Unlock()
	prev := e.current.Load()
	rev, err := LoadRevision(ctx, e.dir)
	var report *CanaryReport
	if err == nil && prev != nil && prev.ID != rev.ID {
		e.mu.Lock()
		canary := e.canary
		e.mu.Unlock()
		if canary != nil {
			report, err = e.runCanary(ctx, canary, rev, prev)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.lastError = err.Error()
		if report != nil {
			e.lastCanary = report
		}
		e.remember(e.refusedRecord(rev, report, err))
		if prev != nil {
			e.log.Error("policy reload refused; previous revision keeps serving", "revision", prev.ID, "error", err)
			if e.onRefused != nil {
				e.onRefused(prev.ID, err)
			}
		}
		return nil, err
	}
	e.current.Store(rev)
	e.lastError = ""
	e.lastLoad = time.Now().UTC()
	if prev == nil || prev.ID != rev.ID {
		e.lastCanary = report
		for i := range e.history {
			if e.history[i].Status == RevisionServing {
				e.history[i].Status = RevisionRetired
			}
		}
		e.remember(RevisionRecord{ID: rev.ID, LoadedAt: e.lastLoad, Files: rev.Files, TestsPassed: rev.Tests, Canary: report.summary(), Status: RevisionServing})
		e.log.Info("policy revision loaded", "revision", rev.ID, "modules", len(rev.Modules), "packages", len(rev.Packages), "tests_passed", rev.Tests)
	}
	return rev, nil
}

// OnRefused sets a function called (with the revision that keeps
// serving) when a reload is refused.
func (e *Engine) OnRefused(fn func(previous string, err error)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onRefused = fn
}

// Revision returns the revision in force, or nil.
func (e *Engine) Revision() *Revision { return e.current.Load() }

// Status reports the revision in force and the last reload error.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Status{Revision: e.current.Load(), Dir: e.dir, LoadedAt: e.lastLoad, LastError: e.lastError, EvalBudget: e.limits.Timeout.String(), Canary: e.lastCanary}
}

// Evaluate runs the workflow for one order. It never fails: when the
// workflow cannot decide (no revision, runtime error, conflict, deadline)
// the decision carries the error and holds the order with reason
// policy_error, so the order is kept and a person can see why.
func (e *Engine) Evaluate(ctx context.Context, in *Input) *sdk.Decision {
	rev := e.current.Load()
	if rev == nil {
		return errorDecision("", in.Now, ErrNoRevision)
	}
	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-ctx.Done():
		return errorDecision(rev.ID, in.Now, fmt.Errorf("waiting to evaluate: %w", ctx.Err()))
	}
	start := time.Now()
	d, err := rev.Evaluate(ctx, in, e.limits)
	if err != nil {
		d = errorDecision(rev.ID, in.Now, err)
	}
	if e.observer != nil {
		e.observer.ObserveDecision(d, time.Since(start))
	}
	return d
}

func errorDecision(revision string, now time.Time, err error) *sdk.Decision {
	return &sdk.Decision{
		Revision:    revision,
		EvaluatedAt: now,
		Status:      sdk.StatusOnHold,
		Holds:       []sdk.Hold{{Reason: sdk.HoldPolicyError, Rule: "workflow", Message: err.Error()}},
		Error:       err.Error(),
	}
}

// Evaluate runs this revision's prepared query for one order within the
// limits and merges every package's outputs into one decision.
func (r *Revision) Evaluate(ctx context.Context, in *Input, limits Limits) (*sdk.Decision, error) {
	limits = limits.orDefaults()
	timeout := limits.Timeout
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluating the workflow: %w", err)
	}
	// The watchdog cancels the evaluation at its deadline or when ctx
	// ends; no metrics are kept of it (OPA's defaults time each phase),
	// and the revision's read transaction is reused.
	w, done := r.watchdog.watch(ctx, timeout)
	rs, err := r.query.Eval(ctx, regoInput(in, &r.sources), rego.EvalExternalCancel(w.cancel), rego.EvalMetrics(metrics.NoOp()), rego.EvalTransaction(r.txn))
	expired := done()
	if err != nil {
		switch {
		case expired:
			return nil, fmt.Errorf("evaluation exceeded its %s deadline: %w", timeout, err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("evaluating the workflow: %w", ctx.Err())
		}
		return nil, fmt.Errorf("evaluating the workflow: %w", err)
	}
	d := &sdk.Decision{Revision: r.ID, EvaluatedAt: in.Now}
	if len(r.outputs) > 0 {
		if len(rs) != 1 {
			return nil, fmt.Errorf("evaluating the workflow: expected one result, got %d", len(rs))
		}
		if err := mergeOutputs(d, r.outputs, rs[0].Bindings, limits.MaxHoldFor); err != nil {
			return nil, err
		}
	}
	switch {
	case len(d.Cancels) > 0:
		d.Status = sdk.StatusCanceled
	case len(d.Holds) > 0:
		d.Status = sdk.StatusOnHold
	default:
		d.Status = sdk.StatusOpen
	}
	return d, nil
}

// Replay evaluates in with revision r (serving or not) as Evaluate does
// with the revision in force: it takes an evaluation slot, so a backtest
// or a canary shares the cores with intake instead of starving it, and it
// never fails. No observer is told: a replay is not a decision.
func (e *Engine) Replay(ctx context.Context, r *Revision, in *Input) *sdk.Decision {
	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-ctx.Done():
		return errorDecision(r.ID, in.Now, fmt.Errorf("waiting to evaluate: %w", ctx.Err()))
	}
	return r.Decide(ctx, in, e.limits)
}

// Decide evaluates in with revision r within limits and, like
// Engine.Evaluate, never fails: a workflow that cannot decide gives a
// policy_error decision. It takes no evaluation slot and tells no
// observer: it is how backtests and canaries replay a revision that may
// not be serving.
func (r *Revision) Decide(ctx context.Context, in *Input, limits Limits) *sdk.Decision {
	d, err := r.Evaluate(ctx, in, limits)
	if err != nil {
		return errorDecision(r.ID, in.Now, err)
	}
	return d
}

// Limits returns the limits the engine evaluates within.
func (e *Engine) Limits() Limits { return e.limits.orDefaults() }
