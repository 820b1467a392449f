package rulestats_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/rulestats"
	"github.com/ordergate/ordergate/sdk"
)

// fakeStore is an in-memory host.RuleHitStore.
type fakeStore struct {
	mu      sync.Mutex
	hits    map[host.RuleHitKey]host.RuleHit
	fail    int           // how many AddRuleHits calls fail from now
	adds    int           // AddRuleHits calls, failed ones included
	pruned  []time.Time   // the before of each PruneRuleHits
	added   chan struct{} // told after each successful AddRuleHits, when set
	failErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{hits: map[host.RuleHitKey]host.RuleHit{}, failErr: errors.New("disk full")}
}

func (s *fakeStore) AddRuleHits(_ context.Context, hits []host.RuleHit) error {
	s.mu.Lock()
	s.adds++
	if s.fail > 0 {
		s.fail--
		s.mu.Unlock()
		return s.failErr
	}
	for _, h := range hits {
		k := h.Key()
		if old, ok := s.hits[k]; ok {
			old.Merge(&h)
			h = old
		}
		s.hits[k] = h
	}
	s.mu.Unlock()
	if s.added != nil {
		s.added <- struct{}{}
	}
	return nil
}

func (s *fakeStore) RuleHits(_ context.Context, since time.Time) ([]host.RuleHit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []host.RuleHit
	for _, h := range s.hits {
		if !h.Hour.Before(since) {
			out = append(out, h)
		}
	}
	sortHits(out)
	return out, nil
}

func (s *fakeStore) PruneRuleHits(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruned = append(s.pruned, before)
	n := 0
	for k, h := range s.hits {
		if h.Hour.Before(before) {
			delete(s.hits, k)
			n++
		}
	}
	return n, nil
}

// stored returns the stored hits, sorted.
func (s *fakeStore) stored() []host.RuleHit {
	hits, _ := s.RuleHits(context.Background(), time.Time{})
	return hits
}

func sortHits(hits []host.RuleHit) {
	slices.SortFunc(hits, func(a, b host.RuleHit) int {
		if c := a.Hour.Compare(b.Hour); c != 0 {
			return c
		}
		ka, kb := a.Key(), b.Key()
		return strings.Compare(ka.Revision+"\x00"+ka.Package+"\x00"+ka.Output+"\x00"+ka.Rule,
			kb.Revision+"\x00"+kb.Package+"\x00"+kb.Output+"\x00"+kb.Rule)
	})
}

var _ host.RuleHitStore = (*fakeStore)(nil)

func at(day, hour, minute int) time.Time {
	return time.Date(2025, 3, day, hour, minute, 0, 0, time.UTC)
}

// record is an order whose latest decision is d.
func record(id string, d *sdk.Decision) *host.Record {
	rec := &host.Record{}
	rec.ID = id
	rec.Events = []sdk.Event{{Type: "imported"}, {Type: "decided", Decision: d}}
	return rec
}

func hold(pkg, rule string) sdk.Hold {
	return sdk.Hold{Reason: sdk.HoldCustomRule, Rule: rule, Package: pkg}
}

// known are the static rules of revision r1.
func known(revision string) []policy.OutputRule {
	if revision == "r1" {
		return []policy.OutputRule{{Package: "review", Output: "notes", Rule: "check the address"}}
	}
	return nil
}

func TestRecorded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []*host.Record
		want    []host.RuleHit
	}{{
		name: "a rule counts once per decision",
		records: []*host.Record{record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 15),
			Holds: []sdk.Hold{hold("review", "big_order"), {Reason: sdk.HoldCustomRule, Rule: "big_order", Message: "again", Package: "review"}},
			Notes: []sdk.NoteDecision{{Note: "order 1 is big", Package: "review"}, {Note: "order 1 is late", Package: "review"}},
			Tags:  []sdk.TagDecision{{Tag: "vip", Package: "review"}}})},
		want: []host.RuleHit{
			{Revision: "r1", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 9, 0), Count: 1, FirstAt: at(10, 9, 15), LastAt: at(10, 9, 15), LastOrderID: "o1"},
			{Revision: "r1", Package: "review", Output: "notes", Rule: "notes", Hour: at(10, 9, 0), Count: 1, FirstAt: at(10, 9, 15), LastAt: at(10, 9, 15), LastOrderID: "o1"},
			{Revision: "r1", Package: "review", Output: "tags", Rule: "vip", Hour: at(10, 9, 0), Count: 1, FirstAt: at(10, 9, 15), LastAt: at(10, 9, 15), LastOrderID: "o1"},
		},
	}, {
		name: "decisions of one hour add up",
		records: []*host.Record{
			record("o2", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 40), Holds: []sdk.Hold{hold("review", "big_order")}}),
			record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 5), Holds: []sdk.Hold{hold("review", "big_order")}}),
			record("o3", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 20), Holds: []sdk.Hold{hold("review", "big_order")}}),
		},
		want: []host.RuleHit{
			{Revision: "r1", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 9, 0), Count: 3, FirstAt: at(10, 9, 5), LastAt: at(10, 9, 40), LastOrderID: "o2"},
		},
	}, {
		name: "separately per revision and per hour",
		records: []*host.Record{
			record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 59), Holds: []sdk.Hold{hold("review", "big_order")}}),
			record("o2", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 10, 0), Holds: []sdk.Hold{hold("review", "big_order")}}),
			record("o3", &sdk.Decision{Revision: "r2", EvaluatedAt: at(10, 10, 30), Holds: []sdk.Hold{hold("review", "big_order")}}),
		},
		want: []host.RuleHit{
			{Revision: "r1", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 9, 0), Count: 1, FirstAt: at(10, 9, 59), LastAt: at(10, 9, 59), LastOrderID: "o1"},
			{Revision: "r1", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 10, 0), Count: 1, FirstAt: at(10, 10, 0), LastAt: at(10, 10, 0), LastOrderID: "o2"},
			{Revision: "r2", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 10, 0), Count: 1, FirstAt: at(10, 10, 30), LastAt: at(10, 10, 30), LastOrderID: "o3"},
		},
	}, {
		name: "hours are UTC",
		records: []*host.Record{
			record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: time.Date(2025, 3, 10, 11, 45, 0, 0, time.FixedZone("CET", 3600)),
				Cancels: []sdk.Cancellation{{Package: "fraud"}}}),
		},
		want: []host.RuleHit{
			{Revision: "r1", Package: "fraud", Output: "cancel", Rule: "cancel", Hour: at(10, 10, 0), Count: 1,
				FirstAt: at(10, 10, 45), LastAt: at(10, 10, 45), LastOrderID: "o1"},
		},
	}, {
		name: "notes the revision defines are named by their text",
		records: []*host.Record{
			record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 0),
				Notes: []sdk.NoteDecision{{Note: "check the address", Package: "review"}}}),
			record("o2", &sdk.Decision{Revision: "r2", EvaluatedAt: at(10, 9, 0),
				Notes: []sdk.NoteDecision{{Note: "check the address", Package: "review"}}}),
		},
		want: []host.RuleHit{
			{Revision: "r1", Package: "review", Output: "notes", Rule: "check the address", Hour: at(10, 9, 0), Count: 1, FirstAt: at(10, 9, 0), LastAt: at(10, 9, 0), LastOrderID: "o1"},
			{Revision: "r2", Package: "review", Output: "notes", Rule: "notes", Hour: at(10, 9, 0), Count: 1, FirstAt: at(10, 9, 0), LastAt: at(10, 9, 0), LastOrderID: "o2"},
		},
	}, {
		name: "only the latest decision counts",
		records: []*host.Record{func() *host.Record {
			rec := record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 0), Holds: []sdk.Hold{hold("review", "big_order")}})
			rec.Events = append(rec.Events,
				sdk.Event{Type: "decided", Decision: &sdk.Decision{Revision: "r2", EvaluatedAt: at(10, 11, 0),
					Alerts: []sdk.Alert{{To: "sales", Package: "fraud"}}}},
				sdk.Event{Type: "edited"})
			return rec
		}()},
		want: []host.RuleHit{
			{Revision: "r2", Package: "fraud", Output: "alerts", Rule: "sales", Hour: at(10, 11, 0), Count: 1, FirstAt: at(10, 11, 0), LastAt: at(10, 11, 0), LastOrderID: "o1"},
		},
	}, {
		name: "policy errors and undecided orders count nothing",
		records: []*host.Record{
			record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 0), Error: "eval_conflict_error",
				Holds: []sdk.Hold{{Reason: sdk.HoldPolicyError, Package: "review"}}}),
			record("o2", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 0)}),
			{},
			nil,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			r := rulestats.NewRecorder(store, known)
			r.Recorded(tc.records...)
			if err := r.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := store.stored(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stored\n%+v\nwant\n%+v", got, tc.want)
			}
			if tc.want == nil && store.adds != 0 {
				t.Errorf("a flush of nothing called the store %d times", store.adds)
			}
		})
	}
}

func TestObserveHits(t *testing.T) {
	r := rulestats.NewRecorder(newFakeStore(), nil)
	var got []string
	r.ObserveHits(func(revision string, rule policy.OutputRule) {
		got = append(got, revision+" "+rule.String()+" "+rule.Output)
	})
	r.Recorded(
		record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 0),
			Holds: []sdk.Hold{hold("review", "big_order"), hold("review", "big_order")}, Tags: []sdk.TagDecision{{Tag: "vip", Package: "review"}}}),
		record("o2", &sdk.Decision{Revision: "r1", Error: "boom", Holds: []sdk.Hold{hold("review", "big_order")}}),
		record("o3", &sdk.Decision{Revision: "r2", EvaluatedAt: at(10, 9, 0), Holds: []sdk.Hold{hold("review", "big_order")}}),
	)
	want := []string{
		"r1 ordergate.workflow.review.vip tags",
		"r1 ordergate.workflow.review.big_order holds",
		"r2 ordergate.workflow.review.big_order holds",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observed %q, want %q", got, want)
	}
}

func TestFailedFlushKeepsCounts(t *testing.T) {
	store := newFakeStore()
	store.fail = 1
	r := rulestats.NewRecorder(store, nil)
	ctx := context.Background()
	d := func(id string, minute int) *host.Record {
		return record(id, &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, minute), Holds: []sdk.Hold{hold("review", "big_order")}})
	}
	r.Recorded(d("o1", 10), d("o2", 20))
	err := r.Flush(ctx)
	if !errors.Is(err, store.failErr) || err.Error() != "storing rule hit counts: disk full" {
		t.Fatalf("Flush = %v, want the store's error wrapped", err)
	}
	if got := store.stored(); len(got) != 0 {
		t.Fatalf("a failed flush stored %+v", got)
	}
	// Counted after the failure: adds to the kept counts.
	r.Recorded(d("o3", 5), d("o4", 30))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []host.RuleHit{{Revision: "r1", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 9, 0),
		Count: 4, FirstAt: at(10, 9, 5), LastAt: at(10, 9, 30), LastOrderID: "o4"}}
	if got := store.stored(); !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n%+v\nwant\n%+v", got, want)
	}
	// Nothing left pending: a third flush adds nothing.
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if store.adds != 2 {
		t.Errorf("the store was called %d times, want 2", store.adds)
	}
	if got := store.stored(); !reflect.DeepEqual(got, want) {
		t.Errorf("after an empty flush, stored\n%+v\nwant\n%+v", got, want)
	}
}

func TestHitsMergesPending(t *testing.T) {
	store := newFakeStore()
	r := rulestats.NewRecorder(store, nil)
	ctx := context.Background()
	r.Recorded(
		record("o1", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 10), Holds: []sdk.Hold{hold("review", "big_order")}}),
		record("o0", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 7, 10), Holds: []sdk.Hold{hold("review", "big_order")}}),
	)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Recorded(
		record("o2", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 50), Holds: []sdk.Hold{hold("review", "big_order")}}),
		record("o3", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 10, 5), Tags: []sdk.TagDecision{{Tag: "vip", Package: "review"}}}),
		record("o4", &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 6, 5), Tags: []sdk.TagDecision{{Tag: "vip", Package: "review"}}}),
	)
	got, err := r.Hits(ctx, at(10, 8, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []host.RuleHit{
		{Revision: "r1", Package: "review", Output: "holds", Rule: "big_order", Hour: at(10, 9, 0), Count: 2, FirstAt: at(10, 9, 10), LastAt: at(10, 9, 50), LastOrderID: "o2"},
		{Revision: "r1", Package: "review", Output: "tags", Rule: "vip", Hour: at(10, 10, 0), Count: 1, FirstAt: at(10, 10, 5), LastAt: at(10, 10, 5), LastOrderID: "o3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hits\n%+v\nwant\n%+v", got, want)
	}
	// Reading changes nothing: the stored counts are still the flushed ones.
	if stored := store.stored(); len(stored) != 2 || stored[1].Count != 1 {
		t.Errorf("Hits changed the store: %+v", stored)
	}
}

func bigOrder(id string) *host.Record {
	return record(id, &sdk.Decision{Revision: "r1", EvaluatedAt: at(10, 9, 0), Holds: []sdk.Hold{hold("review", "big_order")}})
}

func TestRunFlushesEvery(t *testing.T) {
	store := newFakeStore()
	store.fail = 1
	store.added = make(chan struct{}, 16)
	r := rulestats.NewRecorder(store, nil)
	errs := make(chan error, 16)
	r.OnError = func(err error) { errs <- err }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, time.Millisecond) }()

	// The first flush fails and is reported; a later one stores the count.
	r.Recorded(bigOrder("o1"))
	select {
	case err := <-errs:
		if !errors.Is(err, store.failErr) {
			t.Errorf("OnError(%v), want the store's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run reported no failed flush")
	}
	select {
	case <-store.added:
	case <-time.After(10 * time.Second):
		t.Fatal("Run flushed nothing")
	}
	if got := store.stored(); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("stored %+v, want big_order counted once", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestRunFlushesLastOnStop(t *testing.T) {
	store := newFakeStore()
	r := rulestats.NewRecorder(store, nil)
	r.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, time.Hour) }() // no tick before the stop

	r.Recorded(bigOrder("o1"), bigOrder("o2"), bigOrder("o3"))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := store.stored(); len(got) != 1 || got[0].Count != 3 {
		t.Errorf("stored %+v, want big_order counted 3 times", got)
	}
	cutoff := time.Now().Add(-90 * 24 * time.Hour)
	if len(store.pruned) != 1 || store.pruned[0].After(cutoff) || cutoff.Sub(store.pruned[0]) > time.Hour {
		t.Errorf("pruned before %v, want once, the hour of %v", store.pruned, cutoff)
	}
}

func TestBuild(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 30, 0, 0, time.UTC)
	rev := &policy.Revision{ID: "cur", Rules: []policy.OutputRule{
		{Package: "review", Output: "tags", Rule: "vip"},
		{Package: "review", Output: "holds", Rule: "big_order"},
		{Package: "review", Output: "holds", Rule: ""},
		{Package: "review", Output: "cancel", Rule: "blocked"},
		{Package: "review", Output: "notes", Rule: ""},
		{Package: "fraud", Output: "alerts", Rule: ""},
		{Package: "fraud", Output: "holds", Rule: "velocity"},
		{Package: "fraud", Output: "holds", Rule: ""},
	}}
	h := func(rev, pkg, output, rule string, hour time.Time, n int64, first, last time.Time, order string) host.RuleHit {
		return host.RuleHit{Revision: rev, Package: pkg, Output: output, Rule: rule, Hour: hour, Count: n, FirstAt: first, LastAt: last, LastOrderID: order}
	}
	hits := []host.RuleHit{
		h("cur", "review", "tags", "vip", at(10, 12, 0), 2, at(10, 12, 5), at(10, 12, 20), "o2"),
		h("cur", "review", "tags", "vip", at(10, 11, 0), 1, at(10, 11, 10), at(10, 11, 10), "o1"),
		h("old", "review", "tags", "vip", at(9, 13, 0), 5, at(9, 13, 1), at(9, 13, 50), "o0"),
		h("old", "review", "tags", "vip", at(9, 12, 0), 4, at(9, 12, 1), at(9, 12, 2), "o-1"),
		h("old", "review", "tags", "vip", at(9, 11, 0), 3, at(9, 11, 30), at(9, 11, 40), "o-2"),
		// Before the 30 days in view (which start at 2025-02-08T12:00).
		h("cur", "review", "tags", "vip", time.Date(2025, 2, 8, 11, 0, 0, 0, time.UTC), 100,
			time.Date(2025, 2, 8, 11, 1, 0, 0, time.UTC), time.Date(2025, 2, 8, 11, 2, 0, 0, time.UTC), "ancient"),
		h("cur", "review", "holds", "big_order", at(10, 10, 0), 7, at(10, 10, 15), at(10, 10, 45), "o3"),
		// A name the revision only knows once it has an effect.
		h("cur", "review", "holds", "limit_500", at(10, 12, 0), 1, at(10, 12, 1), at(10, 12, 1), "o4"),
		h("old", "review", "notes", "notes", time.Date(2025, 2, 8, 12, 0, 0, 0, time.UTC), 1,
			time.Date(2025, 2, 8, 12, 2, 0, 0, time.UTC), time.Date(2025, 2, 8, 12, 2, 0, 0, time.UTC), "o5"),
		h("cur", "fraud", "holds", "velocity", at(10, 12, 0), 1, at(10, 12, 3), at(10, 12, 3), "o6"),
		// Outputs the revision does not define.
		h("old", "legacy", "holds", "x", at(10, 12, 0), 1, at(10, 12, 0), at(10, 12, 0), "o7"),
		h("cur", "review", "fields", "shipping.method", at(10, 12, 0), 1, at(10, 12, 0), at(10, 12, 0), "o8"),
	}
	tp := func(t time.Time) *time.Time { return &t }
	want := rulestats.Table{Revision: "cur", Rules: []rulestats.Rule{
		{Package: "fraud", Output: "holds", Rule: "", Idle: true},
		{Package: "fraud", Output: "holds", Rule: "velocity", Hits: rulestats.Windows{1, 1, 1}, AllRevisions: rulestats.Windows{1, 1, 1},
			FirstSeenAt: tp(at(10, 12, 3)), LastHitAt: tp(at(10, 12, 3)), LastOrderID: "o6"},
		{Package: "fraud", Output: "alerts", Rule: "", Idle: true},
		{Package: "review", Output: "tags", Rule: "vip", Hits: rulestats.Windows{3, 3, 3}, AllRevisions: rulestats.Windows{3, 12, 15},
			FirstSeenAt: tp(at(9, 11, 30)), LastHitAt: tp(at(10, 12, 20)), LastOrderID: "o2"},
		{Package: "review", Output: "holds", Rule: "big_order", Hits: rulestats.Windows{0, 7, 7}, AllRevisions: rulestats.Windows{0, 7, 7},
			FirstSeenAt: tp(at(10, 10, 15)), LastHitAt: tp(at(10, 10, 45)), LastOrderID: "o3"},
		{Package: "review", Output: "holds", Rule: "limit_500", Hits: rulestats.Windows{1, 1, 1}, AllRevisions: rulestats.Windows{1, 1, 1},
			FirstSeenAt: tp(at(10, 12, 1)), LastHitAt: tp(at(10, 12, 1)), LastOrderID: "o4"},
		{Package: "review", Output: "cancel", Rule: "blocked", Idle: true},
		{Package: "review", Output: "notes", Rule: "notes", AllRevisions: rulestats.Windows{0, 0, 1},
			FirstSeenAt: tp(time.Date(2025, 2, 8, 12, 2, 0, 0, time.UTC)), LastHitAt: tp(time.Date(2025, 2, 8, 12, 2, 0, 0, time.UTC)), LastOrderID: "o5"},
	}}
	got := rulestats.Build(rev, hits, now)
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("Build =\n%s\nwant\n%s", gj, wj)
	}
}

func TestBuildEmpty(t *testing.T) {
	for _, rev := range []*policy.Revision{nil, {ID: "cur"}} {
		got, err := json.Marshal(rulestats.Build(rev, []host.RuleHit{{Revision: "cur", Package: "review", Output: "tags", Rule: "vip", Count: 1}}, at(10, 0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		want := `{"revision":"","rules":[]}`
		if rev != nil {
			want = `{"revision":"cur","rules":[]}`
		}
		if string(got) != want {
			t.Errorf("Build(%v) = %s, want %s", rev, got, want)
		}
	}
}

func TestTableJSON(t *testing.T) {
	last := at(10, 12, 20)
	tb := rulestats.Table{Revision: "cur", Rules: []rulestats.Rule{
		{Package: "review", Output: "tags", Rule: "vip", Hits: rulestats.Windows{1, 2, 3}, AllRevisions: rulestats.Windows{4, 5, 6},
			FirstSeenAt: &last, LastHitAt: &last, LastOrderID: "o2"},
		{Package: "review", Output: "holds", Idle: true},
	}}
	got, err := json.Marshal(tb)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"revision":"cur","rules":[` +
		`{"package":"review","rule":"vip","output":"tags","hits":{"1h":1,"24h":2,"30d":3},"hits_all_revisions":{"1h":4,"24h":5,"30d":6},` +
		`"first_seen_at":"2025-03-10T12:20:00Z","last_hit_at":"2025-03-10T12:20:00Z","last_order_id":"o2","idle":false},` +
		`{"package":"review","rule":"","output":"holds","hits":{"1h":0,"24h":0,"30d":0},"hits_all_revisions":{"1h":0,"24h":0,"30d":0},` +
		`"first_seen_at":null,"last_hit_at":null,"last_order_id":"","idle":true}]}`
	if string(got) != want {
		t.Errorf("JSON\n%s\nwant\n%s", got, want)
	}
}

func TestWriteText(t *testing.T) {
	last := at(10, 12, 20)
	tb := rulestats.Table{Revision: "cur", Rules: []rulestats.Rule{
		{Package: "review", Output: "tags", Rule: "vip", Hits: rulestats.Windows{1, 22, 333}, AllRevisions: rulestats.Windows{4, 5, 6},
			LastHitAt: &last, LastOrderID: "o2"},
		{Package: "review", Output: "holds", Idle: true},
		{Package: "fraud", Output: "tags", Rule: "two\twords", Idle: true},
	}}
	var b strings.Builder
	if err := tb.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"revision cur: hits of this revision in the last hour, day and 30 days, and of all revisions in 30 days\n" +
		"PACKAGE  OUTPUT  RULE          1H  24H  30D  ALL 30D  LAST HIT              IDLE\n" +
		"review   tags    vip           1   22   333  6        2025-03-10T12:20:00Z  no\n" +
		"review   holds   -             0   0    0    0        -                     yes\n" +
		"fraud    tags    \"two\\twords\"  0   0    0    0        -                     yes\n"
	if b.String() != want {
		t.Errorf("WriteText =\n%s\nwant\n%s", b.String(), want)
	}
}

// TestNamesStorableAndBounded: a rule name neither store can key by is
// quoted, and past MaxNamesPerOutput distinct names of one output the
// others count as OtherRule, so order data in tag names cannot grow the
// counts without bound.
func TestNamesStorableAndBounded(t *testing.T) {
	store := newFakeStore()
	r := rulestats.NewRecorder(store, nil)
	r.Recorded(record("o-nul", &sdk.Decision{Revision: "rev", EvaluatedAt: at(1, 10, 0), Tags: []sdk.TagDecision{{Tag: "gift:\x00x", Package: "p"}}}))
	for i := range rulestats.MaxNamesPerOutput + 50 {
		r.Recorded(record(fmt.Sprintf("o%d", i), &sdk.Decision{Revision: "rev", EvaluatedAt: at(1, 10, 1),
			Tags: []sdk.TagDecision{{Tag: fmt.Sprintf("sku:%d", i), Package: "p"}, {Tag: fmt.Sprintf("other:%d", i), Package: "p"}}}))
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, h := range store.stored() {
		counts[h.Rule] += h.Count
	}
	if counts[`"gift:\x00x"`] != 1 {
		t.Errorf("the NUL tag counts under %v, want its quoted form", counts)
	}
	// 100 names in all: the quoted one, then 99 of the sku and other tags
	// in the order they came; the remaining 201 hits count as (other),
	// once per decision.
	if len(counts) != rulestats.MaxNamesPerOutput+1 || counts[rulestats.OtherRule] != 150-49 {
		t.Errorf("%d names, %d hits under %s", len(counts), counts[rulestats.OtherRule], rulestats.OtherRule)
	}
}
