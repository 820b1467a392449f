package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
)

// sameRuleHit reports whether a and b agree, their times compared with
// Equal.
func sameRuleHit(a, b host.RuleHit) bool {
	return a.Revision == b.Revision && a.Package == b.Package && a.Output == b.Output && a.Rule == b.Rule &&
		a.Hour.Equal(b.Hour) && a.Count == b.Count && a.FirstAt.Equal(b.FirstAt) && a.LastAt.Equal(b.LastAt) && a.LastOrderID == b.LastOrderID
}

func showRuleHits(list []host.RuleHit) string {
	var b strings.Builder
	for _, h := range list {
		fmt.Fprintf(&b, "\n\t%s %q/%q/%q/%q count %d first %s last %s (%q)", h.Hour.Format(time.RFC3339), h.Revision, h.Package, h.Output, h.Rule,
			h.Count, h.FirstAt.Format(time.RFC3339Nano), h.LastAt.Format(time.RFC3339Nano), h.LastOrderID)
	}
	return b.String()
}

// wantRuleHits checks the hits since since: want, in its order, every
// time in UTC.
func wantRuleHits(t *testing.T, s host.Store, what string, since time.Time, want []host.RuleHit) {
	t.Helper()
	got, err := s.RuleHits(ctx, since)
	if err != nil {
		t.Fatalf("%s: RuleHits: %v", what, err)
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = sameRuleHit(got[i], want[i])
	}
	if !ok {
		t.Errorf("%s: RuleHits(%s) =%s\nwant (by hour, then revision, package, output and rule as bytes)%s", what, since.Format(time.RFC3339Nano), showRuleHits(got), showRuleHits(want))
	}
	for _, h := range got {
		for _, at := range []time.Time{h.Hour, h.FirstAt, h.LastAt} {
			if at.Location() != time.UTC {
				t.Errorf("%s: hit %q has a time in %s, want UTC", what, h.Rule, at.Location())
			}
		}
	}
}

// ruleHits: hits are stored by hour and key, added to (counts add up, the
// first time is the earliest, the last time with its order the latest,
// and an unknown time loses to a known one) within a call and across
// calls, listed since an hour by hour then key (as bytes), and pruned
// before an hour; key fields of any UTF-8 round-trip.
func ruleHits(t *testing.T, s host.Store) {
	if list, err := s.RuleHits(ctx, time.Time{}); err != nil || len(list) != 0 {
		t.Fatalf("RuleHits of an empty store = %v, %v", list, err)
	}
	if n, err := s.PruneRuleHits(ctx, t0.Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("PruneRuleHits of an empty store = %d, %v", n, err)
	}
	must(t, s.AddRuleHits(ctx, nil))

	h1, h2 := t0, t0.Add(time.Hour)
	at := func(hour time.Time, minutes int) time.Time {
		// Microseconds, which PostgreSQL keeps; in another zone than UTC.
		return hour.Add(time.Duration(minutes)*time.Minute + 123456*time.Microsecond).In(time.FixedZone("CET", 3600))
	}
	hit := func(hour time.Time, rev, pkg, out, rule string, n int64, first, last int, order string) host.RuleHit {
		h := host.RuleHit{Revision: rev, Package: pkg, Output: out, Rule: rule, Hour: hour, Count: n, LastOrderID: order}
		if first >= 0 {
			h.FirstAt = at(hour, first)
		}
		if last >= 0 {
			h.LastAt = at(hour, last)
		}
		return h
	}
	const unicode = "règle ✓ 規則"
	must(t, s.AddRuleHits(ctx, []host.RuleHit{
		hit(h2, "r2", "review", "notes", unicode, 1, 1, 1, "o5"),
		hit(h1, "r1", "review", "tags", "vip", 2, 5, 20, "o1"),
		hit(h1, "r1", "review", "tags", "a.b", 1, -1, -1, ""),
		hit(h2.In(time.FixedZone("EST", -5*3600)), "r1", "review", "tags", "vip", 3, 10, 40, "o3"),
		hit(h2, "r1", "holds.duplicate_order", "holds", "dup rule", 1, 2, 2, "o4"),
		hit(h1, "r1", "review", "tags", "a b", 1, 7, 7, "o6"),
	}))
	wantRuleHits(t, s, "after the first add", time.Time{}, []host.RuleHit{
		hit(h1, "r1", "review", "tags", "a b", 1, 7, 7, "o6"),
		hit(h1, "r1", "review", "tags", "a.b", 1, -1, -1, ""),
		hit(h1, "r1", "review", "tags", "vip", 2, 5, 20, "o1"),
		hit(h2, "r1", "holds.duplicate_order", "holds", "dup rule", 1, 2, 2, "o4"),
		hit(h2, "r1", "review", "tags", "vip", 3, 10, 40, "o3"),
		hit(h2, "r2", "review", "notes", unicode, 1, 1, 1, "o5"),
	})

	must(t, s.AddRuleHits(ctx, []host.RuleHit{
		// Earlier first, later last: both taken.
		hit(h1, "r1", "review", "tags", "vip", 3, 1, 30, "o2"),
		// Later first, earlier last: neither taken (the last order stays).
		hit(h2, "r1", "review", "tags", "vip", 1, 20, 30, "older"),
		// Known times replace unknown ones; the same key twice in one call
		// adds up too.
		hit(h1, "r1", "review", "tags", "a.b", 2, 9, 12, "o7"),
		hit(h1, "r1", "review", "tags", "a.b", 1, 8, 11, "o8"),
		// Unknown times lose to known ones.
		hit(h1, "r1", "review", "tags", "a b", 1, -1, -1, "lost"),
	}))
	all := []host.RuleHit{
		hit(h1, "r1", "review", "tags", "a b", 2, 7, 7, "o6"),
		hit(h1, "r1", "review", "tags", "a.b", 4, 8, 12, "o7"),
		hit(h1, "r1", "review", "tags", "vip", 5, 1, 30, "o2"),
		hit(h2, "r1", "holds.duplicate_order", "holds", "dup rule", 1, 2, 2, "o4"),
		hit(h2, "r1", "review", "tags", "vip", 4, 10, 40, "o3"),
		hit(h2, "r2", "review", "notes", unicode, 1, 1, 1, "o5"),
	}
	wantRuleHits(t, s, "after adding again", time.Time{}, all)
	wantRuleHits(t, s, "since the first hour", h1, all)
	wantRuleHits(t, s, "since the second hour", h2, all[3:])
	wantRuleHits(t, s, "since a nanosecond after the first hour", h1.Add(time.Nanosecond), all[3:])
	wantRuleHits(t, s, "since after the second hour", h2.Add(time.Minute), nil)

	wantCode(t, "AddRuleHits of a rule with a NUL", s.AddRuleHits(ctx, []host.RuleHit{hit(h1, "r1", "review", "tags", "a\x00b", 1, 1, 1, "o9")}), host.EINVALID)
	wantRuleHits(t, s, "after a refused add", time.Time{}, all)

	n, err := s.PruneRuleHits(ctx, h2)
	if err != nil || n != 3 {
		t.Errorf("PruneRuleHits(second hour) = %d, %v, want the first hour's 3", n, err)
	}
	wantRuleHits(t, s, "after pruning", time.Time{}, all[3:])
	if n, err := s.PruneRuleHits(ctx, h2); err != nil || n != 0 {
		t.Errorf("PruneRuleHits again = %d, %v, want 0", n, err)
	}
	if n, err := s.PruneRuleHits(ctx, h2.Add(time.Nanosecond)); err != nil || n != 3 {
		t.Errorf("PruneRuleHits(a nanosecond after the second hour) = %d, %v, want the second hour's 3", n, err)
	}
	wantRuleHits(t, s, "after pruning everything", time.Time{}, nil)
}
