// Package rulestats counts how often each output rule of the workflow
// has an effect in the decisions the host records, rolled up by UTC hour
// and policy revision (host.RuleHit), and builds the rule statistics the
// API and `ordergate policy stats` show from them.
package rulestats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
)

const (
	// defaultFlushEvery is how often Run flushes when told nothing.
	defaultFlushEvery = 5 * time.Second
	// finalFlushTimeout bounds the flush Run makes once its context ends.
	finalFlushTimeout = 5 * time.Second
	// pruneEvery is how often Run prunes old hits.
	pruneEvery = time.Hour
	// keepFor is how long stored hits are kept.
	keepFor = 90 * 24 * time.Hour
)

// Recorder counts the rule hits of the decisions recorded on this host
// and adds them to a host.RuleHitStore in batches (Flush, Run). It is
// safe for concurrent use.
type Recorder struct {
	// OnError, when set, is told every error Run meets flushing or
	// pruning (the counts of a failed flush are kept for the next one).
	// Set it before Run starts.
	OnError func(error)

	store   host.RuleHitStore
	rules   func(revision string) []policy.OutputRule
	observe func(revision string, rule policy.OutputRule)

	// flushing is held for writing while a flush moves hits from pending
	// to the store, and for reading by Hits, so that Hits sees every hit
	// either stored or pending, never both nor neither.
	flushing sync.RWMutex

	mu      sync.Mutex
	pending map[host.RuleHitKey]host.RuleHit
	// names are the distinct rule names counted per revision, package
	// and output (see MaxNamesPerOutput).
	names map[[3]string]map[string]bool
}

// MaxNamesPerOutput bounds the distinct rule names counted for one
// output of one package and revision. A tag or rule name made from the
// order's data (sprintf of a SKU) would otherwise count each value apart,
// in the store and in the metrics' series; past the bound, new names
// count as OtherRule.
const MaxNamesPerOutput = 100

// OtherRule is the name the hits of rule names past MaxNamesPerOutput
// count under.
const OtherRule = "(other)"

// cleanName makes a name storable: text that is valid UTF-8 without NUL
// (which neither store can key by), quoted otherwise.
func cleanName(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strconv.QuoteToASCII(s)
}

// NewRecorder returns a recorder adding to store. rules returns the
// static output rules of a revision (nil when it is unknown), which name
// the notes a revision defines as constants (see policy.Effects).
func NewRecorder(store host.RuleHitStore, rules func(revision string) []policy.OutputRule) *Recorder {
	return &Recorder{store: store, rules: rules, pending: map[host.RuleHitKey]host.RuleHit{}, names: map[[3]string]map[string]bool{}}
}

// ObserveHits sets fn to be told each hit Recorded counts (the metrics'
// ObserveRuleHit). Set it before the recorder is used.
func (r *Recorder) ObserveHits(fn func(revision string, rule policy.OutputRule)) {
	r.observe = fn
}

// Recorded counts the hits of the latest decision of each record: every
// distinct output rule that had an effect in it counts once, in the hour
// the decision was evaluated in. Decisions the workflow failed to make
// (policy_error) count nothing. Call it once the write that recorded the
// decisions is committed.
func (r *Recorder) Recorded(records ...*host.Record) {
	for _, rec := range records {
		if rec == nil {
			continue
		}
		d := rec.LatestDecision()
		if d == nil || d.Error != "" {
			continue
		}
		var known []policy.OutputRule
		if r.rules != nil {
			known = r.rules(d.Revision)
		}
		effects := policy.Effects(d, known)
		if len(effects) == 0 {
			continue
		}
		when := d.EvaluatedAt.UTC()
		hour := when.Truncate(time.Hour)
		one := host.RuleHit{Count: 1, FirstAt: when, LastAt: when, LastOrderID: rec.ID}
		revision := cleanName(d.Revision)
		r.mu.Lock()
		// Names the stores can keep, bounded per output; then a rule
		// counts once per decision: keep the first of each (the slice is
		// ours, and holds a handful of effects).
		n := 0
		for _, e := range effects {
			e.Package, e.Rule = cleanName(e.Package), cleanName(e.Rule)
			e.Rule = r.bounded(revision, &e)
			if !slices.Contains(effects[:n], e) {
				effects[n] = e
				n++
			}
		}
		effects = effects[:n]
		for _, e := range effects {
			k := host.RuleHitKey{Revision: revision, Package: e.Package, Output: e.Output, Rule: e.Rule, Hour: hour}
			h, ok := r.pending[k]
			if !ok {
				h = host.RuleHit{Revision: k.Revision, Package: k.Package, Output: k.Output, Rule: k.Rule, Hour: k.Hour}
			}
			h.Merge(&one)
			r.pending[k] = h
		}
		r.mu.Unlock()
		if r.observe != nil {
			for _, e := range effects {
				r.observe(revision, e)
			}
		}
	}
}

// bounded returns the name e counts under: its own, or OtherRule once
// MaxNamesPerOutput others were counted for its output. r.mu is held.
func (r *Recorder) bounded(revision string, e *policy.OutputRule) string {
	k := [3]string{revision, e.Package, e.Output}
	seen := r.names[k]
	if seen == nil {
		seen = map[string]bool{}
		r.names[k] = seen
	}
	if seen[e.Rule] {
		return e.Rule
	}
	if len(seen) >= MaxNamesPerOutput {
		return OtherRule
	}
	seen[e.Rule] = true
	return e.Rule
}

// Flush adds the hits counted since the last flush to the store, in one
// call. When the store fails, the hits are kept to be added by the next
// flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushing.Lock()
	defer r.flushing.Unlock()

	r.mu.Lock()
	batch := r.pending
	if len(batch) == 0 {
		r.mu.Unlock()
		return nil
	}
	r.pending = make(map[host.RuleHitKey]host.RuleHit, len(batch))
	r.mu.Unlock()

	hits := make([]host.RuleHit, 0, len(batch))
	for _, h := range batch {
		hits = append(hits, h)
	}
	// Hosts sharing a store add in the same order.
	sortHits(hits)
	if err := r.store.AddRuleHits(ctx, hits); err != nil {
		if host.ErrorCode(err) == host.EINVALID {
			// The store will never take these: keeping them would fail
			// every later flush too.
			return fmt.Errorf("storing rule hit counts: %d hits dropped: %w", len(hits), err)
		}
		r.mu.Lock()
		for k, h := range batch {
			if p, ok := r.pending[k]; ok {
				h.Merge(&p)
			}
			r.pending[k] = h
		}
		r.mu.Unlock()
		return fmt.Errorf("storing rule hit counts: %w", err)
	}
	return nil
}

// Run flushes every every (5s when every <= 0) and prunes the stored
// hits older than 90 days when it starts and every hour, until ctx ends;
// it then flushes one last time (within 5s of its own), so that stopping
// the host loses no count, and returns nil. Errors go to OnError.
func (r *Recorder) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = defaultFlushEvery
	}
	r.prune(ctx)
	lastPrune := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), finalFlushTimeout)
			defer cancel()
			r.report(r.Flush(final))
			return nil
		case now := <-tick.C:
			r.report(r.Flush(ctx))
			if now.Sub(lastPrune) >= pruneEvery {
				lastPrune = now
				r.prune(ctx)
			}
		}
	}
}

func (r *Recorder) prune(ctx context.Context) {
	before := time.Now().Add(-keepFor).UTC().Truncate(time.Hour)
	if _, err := r.store.PruneRuleHits(ctx, before); err != nil && ctx.Err() == nil {
		r.report(fmt.Errorf("pruning rule hit counts: %w", err))
	}
}

func (r *Recorder) report(err error) {
	if err != nil && r.OnError != nil {
		r.OnError(err)
	}
}

// Hits returns the hits of every revision whose Hour is at or after
// since: the stored ones with the ones counted here and not flushed yet
// added in, by hour then key (as host.RuleHitStore.RuleHits).
func (r *Recorder) Hits(ctx context.Context, since time.Time) ([]host.RuleHit, error) {
	r.flushing.RLock()
	defer r.flushing.RUnlock()
	stored, err := r.store.RuleHits(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("reading rule hit counts: %w", err)
	}
	at := make(map[host.RuleHitKey]int, len(stored))
	for i := range stored {
		at[normKey(&stored[i])] = i
	}
	r.mu.Lock()
	for k, h := range r.pending {
		if h.Hour.Before(since) {
			continue
		}
		if i, ok := at[k]; ok {
			stored[i].Merge(&h)
			continue
		}
		at[k] = len(stored)
		stored = append(stored, h)
	}
	r.mu.Unlock()
	sortHits(stored)
	return stored, nil
}

// normKey is h's key with its hour in UTC, as Recorded makes them (a
// store may return hours in another location).
func normKey(h *host.RuleHit) host.RuleHitKey {
	k := h.Key()
	k.Hour = k.Hour.UTC().Truncate(time.Hour)
	return k
}

// sortHits sorts hits by hour, then revision, package, output and rule.
func sortHits(hits []host.RuleHit) {
	slices.SortFunc(hits, func(a, b host.RuleHit) int {
		return cmp.Or(a.Hour.Compare(b.Hour),
			strings.Compare(a.Revision, b.Revision),
			strings.Compare(a.Package, b.Package),
			strings.Compare(a.Output, b.Output),
			strings.Compare(a.Rule, b.Rule))
	})
}
