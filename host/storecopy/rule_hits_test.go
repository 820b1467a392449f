package storecopy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/storecopy"
)

// TestCopyRuleHits: a copy carries every hour's rule hits (more than one
// chunk of them), times to the microsecond PostgreSQL keeps; a second
// copy finds it done, and a target whose counts differ is refused.
func TestCopyRuleHits(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	hour := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	var hits []host.RuleHit
	for i := range 2500 {
		h := hour.Add(time.Duration(i%50) * time.Hour)
		at := h.Add(time.Duration(i) * 1234567891) // nanoseconds
		hits = append(hits, host.RuleHit{Revision: "r1", Package: "review", Output: "tags", Rule: fmt.Sprintf("rule %d ✓", i),
			Hour: h, Count: int64(i + 1), FirstAt: at, LastAt: at.Add(time.Minute), LastOrderID: fmt.Sprint("o", i)})
	}
	if err := src.AddRuleHits(ctx, hits); err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.Open(ctx, pgtest.Start(t).NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := storecopy.Copy(ctx, src, dst, nil)
	if err != nil || rep.Already {
		t.Fatal(rep, err)
	}
	found := false
	for _, tb := range rep.Tables {
		if tb.Name == "rule_hits" {
			found = tb.Count == len(hits)
		}
	}
	if !found {
		t.Errorf("the report's tables %+v do not count %d rule hits", rep.Tables, len(hits))
	}
	want, err := src.RuleHits(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := dst.RuleHits(ctx, time.Time{})
	if err != nil || len(got) != len(want) {
		t.Fatalf("the copy has %d rule hits (%v), want %d", len(got), err, len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		gk, wk := g.Key(), w.Key()
		gk.Hour, wk.Hour = time.Time{}, time.Time{}
		if gk != wk || !g.Hour.Equal(w.Hour) || g.Count != w.Count || !g.FirstAt.Equal(w.FirstAt.Truncate(time.Microsecond)) ||
			!g.LastAt.Equal(w.LastAt.Truncate(time.Microsecond)) || g.LastOrderID != w.LastOrderID {
			t.Fatalf("rule hit %d copied as %+v, want %+v", i, g, w)
		}
	}
	rep, err = storecopy.Copy(ctx, src, dst, nil)
	if err != nil || !rep.Already {
		t.Fatal("second", rep, err)
	}
	// A target whose only difference is one hit's count is refused.
	if err := dst.AddRuleHits(ctx, []host.RuleHit{{Revision: "r1", Package: "review", Output: "tags", Rule: "rule 0 ✓", Hour: hour, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := storecopy.Copy(ctx, src, dst, nil); err != storecopy.ErrNotEmpty {
		t.Fatal("differing count", err)
	}
}
