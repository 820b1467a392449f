// Package backtest replays a policy revision on stored orders and says
// what it would change against the decisions on record: the backtest a
// rule author runs before a change goes live (ordergate policy
// backtest, POST /api/v1/workflow/backtest), and the canary the host
// runs before a reloaded revision serves. A backtest only reads: it
// stores nothing and sends nothing.
package backtest

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// DefaultTop is how many changed orders a result lists by default.
const DefaultTop = 50

// pageSize is how many orders are read at once: memory stays bounded by
// a page and the top changes however many orders are replayed.
const pageSize = 256

// Baselines: the facts an order is replayed on.
const (
	FactsAtDecision = "facts_at_decision"
	FactsNow        = "facts_now"
)

// Store is what a backtest reads.
type Store interface {
	ListOrders(ctx context.Context, f host.OrderFilter) ([]*host.Record, string, error)
	Channel(ctx context.Context, id string) (*host.Channel, error)
	Counts(ctx context.Context) (host.Counts, error)
}

// FactsFunc returns the facts an order would be decided on now
// (orders.Service.FactsNow).
type FactsFunc func(ctx context.Context, r *host.Record) (*host.OrderContext, error)

// Options select the orders replayed and how.
type Options struct {
	// Since selects orders imported within it before Now (0: all).
	Since time.Duration
	// ChannelID and Status select orders of one channel and status.
	ChannelID string
	Status    string
	// Orders bounds how many orders are replayed, newest first (0: all
	// selected).
	Orders int
	// Top is how many changed orders the result lists (DefaultTop when
	// 0), those that changed most first.
	Top int
	// FactsNow replays each order on today's facts instead of those it
	// was decided on.
	FactsNow bool
	// Limits bound each evaluation, as the engine's do.
	Limits policy.Limits
	// Decide evaluates one order with the candidate; when nil,
	// Revision.Decide within Limits. A host passes Engine.Replay, so
	// replays take turns with intake for the cores.
	Decide func(ctx context.Context, candidate *policy.Revision, in *policy.Input) *sdk.Decision
	// Progress, when set, is told how far the run is after each page.
	Progress func(Progress)
	// Now is the time Since counts back from (time.Now when zero).
	Now time.Time
}

// Progress is how far a run is: Total is the number of orders the
// store's counts say match (an upper bound when a channel or time
// filter applies, the exact number otherwise).
type Progress struct {
	Evaluated int `json:"evaluated"`
	Total     int `json:"total"`
}

// Result is what a backtest found.
type Result struct {
	Revision string `json:"revision"`
	Baseline string `json:"baseline"`
	// OrdersEvaluated counts the orders replayed, OrdersChanged those
	// whose decision would change.
	OrdersEvaluated int `json:"orders_evaluated"`
	OrdersChanged   int `json:"orders_changed"`
	// OrdersOnFactsNow counts orders replayed on today's facts because
	// they were decided before the host kept the facts of a decision.
	OrdersOnFactsNow int `json:"orders_on_facts_now,omitempty"`
	// OrdersSkipped counts orders with no decision on record.
	OrdersSkipped int `json:"orders_skipped,omitempty"`
	// NewPolicyErrors counts orders the candidate cannot decide that
	// were decided cleanly; FirstPolicyError is the first of them.
	NewPolicyErrors  int               `json:"new_policy_errors"`
	FirstPolicyError *PolicyError      `json:"first_policy_error,omitempty"`
	ByChange         ByChange          `json:"by_change"`
	ByRule           map[string]*Count `json:"by_rule"`
	// Changes are the orders that changed most, at most Top of them.
	Changes []*Change `json:"changes"`

	top int
}

// PolicyError is an order a candidate could not decide.
type PolicyError struct {
	OrderID string `json:"order_id"`
	Number  string `json:"number"`
	Error   string `json:"error"`
}

// ByChange counts the changed orders by kind of change: an order that
// gains two holds counts once under holds_added.
type ByChange struct {
	Status       int `json:"status"`
	HoldsAdded   int `json:"holds_added"`
	HoldsRemoved int `json:"holds_removed"`
	TagsAdded    int `json:"tags_added"`
	TagsRemoved  int `json:"tags_removed"`
	Notes        int `json:"notes"`
	Fields       int `json:"fields"`
	Alerts       int `json:"alerts"`
	Cancels      int `json:"cancels"`
}

// Count is how many orders a rule's effect would come to (Added) or
// leave (Removed).
type Count struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// Run replays candidate on the orders opt selects, newest first, and
// compares each decision with the one on record. The store is only
// read. facts may be nil when opt.FactsNow is false; orders decided
// before the facts of a decision were kept are then skipped.
func Run(ctx context.Context, store Store, facts FactsFunc, candidate *policy.Revision, opt Options) (*Result, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	if opt.Top <= 0 {
		opt.Top = DefaultTop
	}
	if opt.Decide == nil {
		limits := opt.Limits
		opt.Decide = func(ctx context.Context, candidate *policy.Revision, in *policy.Input) *sdk.Decision {
			return candidate.Decide(ctx, in, limits)
		}
	}
	res := &Result{Revision: candidate.ID, Baseline: FactsAtDecision, ByRule: map[string]*Count{}, Changes: []*Change{}}
	if opt.FactsNow {
		res.Baseline = FactsNow
	}
	filter := host.OrderFilter{Status: opt.Status, ChannelID: opt.ChannelID, Limit: pageSize}
	if opt.Since > 0 {
		filter.ImportedAfter = opt.Now.Add(-opt.Since)
	}
	progress := Progress{Total: total(ctx, store, opt)}
	if opt.Progress != nil {
		opt.Progress(progress)
	}
	channels := map[string]*host.Channel{}
	for {
		if opt.Orders > 0 {
			filter.Limit = min(pageSize, opt.Orders-progress.Evaluated-res.OrdersSkipped)
			if filter.Limit <= 0 {
				break
			}
		}
		page, next, err := store.ListOrders(ctx, filter)
		if err != nil {
			return nil, fmt.Errorf("reading the orders to replay: %w", err)
		}
		for _, r := range page {
			if _, ok := channels[r.ChannelID]; !ok {
				ch, err := store.Channel(ctx, r.ChannelID)
				switch {
				case host.ErrorCode(err) == host.ENOTFOUND:
					// A deleted channel's orders replay as b2b orders.
					ch = &host.Channel{ID: r.ChannelID, Kind: host.ChannelB2B}
				case err != nil:
					return nil, fmt.Errorf("reading the channel of order %s: %w", r.ID, err)
				}
				channels[r.ChannelID] = ch
			}
		}
		replays, err := replayPage(ctx, page, channels, facts, candidate, opt)
		if err != nil {
			return nil, err
		}
		for _, rp := range replays {
			res.add(rp, opt.Top)
		}
		progress.Evaluated = res.OrdersEvaluated
		if opt.Progress != nil {
			opt.Progress(progress)
		}
		if next == "" {
			break
		}
		filter.After = next
	}
	res.sortChanges()
	return res, nil
}

// total is what the store's counts say the selection holds.
func total(ctx context.Context, store Store, opt Options) int {
	counts, err := store.Counts(ctx)
	if err != nil {
		return 0
	}
	var n int64
	for status, c := range counts.Orders {
		if opt.Status == "" || string(status) == opt.Status {
			n += c
		}
	}
	if opt.Orders > 0 {
		n = min(n, int64(opt.Orders))
	}
	return int(n)
}

// replay is one order replayed.
type replay struct {
	record   *host.Record
	recorded *sdk.Decision
	change   *Change
	factsNow bool
}

// replayPage replays a page's orders on up to GOMAXPROCS goroutines and
// returns them in the page's order (nil for those skipped).
func replayPage(ctx context.Context, page []*host.Record, channels map[string]*host.Channel, facts FactsFunc, candidate *policy.Revision, opt Options) ([]*replay, error) {
	out := make([]*replay, len(page))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i, r := range page {
		eg.Go(func() error {
			rp, err := replayOne(ctx, r, channels[r.ChannelID], facts, candidate, opt)
			out[i] = rp
			return err
		})
	}
	return out, eg.Wait()
}

func replayOne(ctx context.Context, r *host.Record, ch *host.Channel, facts FactsFunc, candidate *policy.Revision, opt Options) (*replay, error) {
	recorded := r.LatestDecision()
	if recorded == nil {
		return &replay{record: r}, nil
	}
	rp := &replay{record: r, recorded: recorded}
	o := r.Input()
	in := &policy.Input{Order: o, Channel: policy.ChannelInput{ID: ch.ID, Kind: ch.Kind}, Now: recorded.EvaluatedAt, Context: r.DecidedWith}
	if opt.FactsNow || r.DecidedWith == nil {
		if facts == nil {
			return &replay{record: r}, nil
		}
		c, err := facts(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("reading the facts of order %s: %w", r.ID, err)
		}
		in.Context = c
		rp.factsNow = !opt.FactsNow
		if opt.FactsNow {
			in.Now = opt.Now
		}
	}
	d := opt.Decide(ctx, candidate, in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rp.change = Compare(recorded, d, candidate.Rules)
	rp.change.OrderID, rp.change.Number, rp.change.Link = r.ID, r.Number, "/api/v1/orders/"+r.ID
	return rp, nil
}

// add counts one replay into the result, keeping at most top changes
// (twice as many between sorts).
func (res *Result) add(rp *replay, top int) {
	if rp.recorded == nil {
		res.OrdersSkipped++
		return
	}
	res.OrdersEvaluated++
	if rp.factsNow {
		res.OrdersOnFactsNow++
	}
	c := rp.change
	if c.PolicyError != "" && rp.recorded.Error == "" {
		res.NewPolicyErrors++
		if res.FirstPolicyError == nil {
			res.FirstPolicyError = &PolicyError{OrderID: c.OrderID, Number: c.Number, Error: c.PolicyError}
		}
	}
	if !c.changed() {
		return
	}
	res.OrdersChanged++
	b := &res.ByChange
	count := func(n *int, cond bool) {
		if cond {
			*n++
		}
	}
	count(&b.Status, c.Status.From != c.Status.To)
	count(&b.HoldsAdded, len(c.HoldsAdded) > 0)
	count(&b.HoldsRemoved, len(c.HoldsRemoved) > 0)
	count(&b.TagsAdded, len(c.TagsAdded) > 0)
	count(&b.TagsRemoved, len(c.TagsRemoved) > 0)
	count(&b.Notes, len(c.NotesAdded)+len(c.NotesRemoved) > 0)
	count(&b.Fields, len(c.Fields) > 0)
	count(&b.Alerts, len(c.AlertsAdded)+len(c.AlertsRemoved) > 0)
	count(&b.Cancels, len(c.CancelsAdded)+len(c.CancelsRemoved) > 0)
	rule := func(r policy.OutputRule) *Count {
		k := r.String()
		if res.ByRule[k] == nil {
			res.ByRule[k] = &Count{}
		}
		return res.ByRule[k]
	}
	for _, r := range c.rulesAdded {
		rule(r).Added++
	}
	for _, r := range c.rulesRemoved {
		rule(r).Removed++
	}
	res.Changes = append(res.Changes, c)
	if len(res.Changes) >= 2*top {
		res.sortChanges()
		res.Changes = slices.Clip(res.Changes[:top])
	}
	res.top = top
}

// sortChanges puts the changes that changed most first (newest first
// among equals, the order they were read in) and keeps the top ones.
func (res *Result) sortChanges() {
	slices.SortStableFunc(res.Changes, func(a, b *Change) int {
		if c := cmp.Compare(b.statusChanged(), a.statusChanged()); c != 0 {
			return c
		}
		return cmp.Compare(b.size(), a.size())
	})
	if res.top > 0 && len(res.Changes) > res.top {
		res.Changes = res.Changes[:res.top]
	}
}
