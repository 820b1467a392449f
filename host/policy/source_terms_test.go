package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// TestSourceTermsShareEqualSources: a source with the same content gets
// the same term, a change of any field a term of its own, and the cache
// starts again past its bound instead of growing.
func TestSourceTermsShareEqualSources(t *testing.T) {
	var st sourceTerms
	s := host.SourceContext{ID: "austin", Name: "Austin", Enabled: true, Available: 3}
	first := st.term(&s)
	if again := st.term(&s); again != first {
		t.Error("the same source was built twice")
	}
	if ast.Compare(first, sourceValue(&s)) != 0 {
		t.Errorf("cached term %v, want %v", first, sourceValue(&s))
	}
	for _, change := range []func(*host.SourceContext){
		func(s *host.SourceContext) { s.ID = "dallas" },
		func(s *host.SourceContext) { s.Name = "Dallas" },
		func(s *host.SourceContext) { s.Enabled, s.DisabledBy = false, "source" },
		func(s *host.SourceContext) { s.Available = 4 },
	} {
		c := s
		change(&c)
		if got := st.term(&c); got == first || ast.Compare(got, sourceValue(&c)) != 0 {
			t.Errorf("changed source %+v got term %v", c, got)
		}
	}
	for i := range 2 * maxSourceTerms {
		st.term(&host.SourceContext{ID: "wh", Available: int64(i)})
	}
	if n := st.current.Load().n.Load(); n > maxSourceTerms {
		t.Errorf("cache holds %d terms, bound %d", n, maxSourceTerms)
	}
}

// TestSharedSourceTermsUnderConcurrentEvaluations evaluates orders whose
// lines list the same sources from several goroutines at once (run with
// -race): every decision is the one made with terms of its own.
func TestSharedSourceTermsUnderConcurrentEvaluations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	err := os.WriteFile(filepath.Join(dir, "sources.rego"), []byte(`package ordergate.workflow.sources

holds contains {"reason": "custom_rule", "rule": "disabled", "message": sprintf("%s off at %s", [l.sku, s.id])} if {
	some l in input.context.line_items
	some s in l.sources
	not s.enabled
}

tags contains sprintf("%s:%d", [s.id, s.available]) if {
	some s in input.context.line_items[_].sources
	s.available > 0
}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := LoadRevision(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	in := func(i int) *Input {
		o := &sdk.Order{ExternalID: fmt.Sprint(i), LineItems: []sdk.LineItem{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 2}}}
		g := &host.RoutingGroup{ID: "g", Sources: []host.GroupSource{{SourceID: "s1", Enabled: true}, {SourceID: "s2", Enabled: i%2 == 0}}}
		f := &host.Facts{Group: g, Settings: host.DefaultSettings(),
			Sources: map[string]*host.Source{"s1": {ID: "s1", Name: "One", Enabled: true}, "s2": {ID: "s2", Name: "Two", Enabled: true}},
			Stock:   map[string]map[string]int64{"A": {"s1": int64(i % 3), "s2": 5}, "B": {"s1": 1}}}
		return &Input{Order: o, Now: time.Unix(0, 0), Context: host.BuildContext(o, f)}
	}
	// Decided one at a time by a revision of its own.
	alone, err := LoadRevision(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{}
	held := 0
	for i := range 6 {
		d := alone.Decide(ctx, in(i), Limits{})
		if d.Error != "" {
			t.Fatal(d.Error)
		}
		if len(d.Holds) > 0 {
			held++
		}
		want[i] = fmt.Sprint(d.Status, d.Holds, d.Tags)
	}
	if held == 0 || held == 6 {
		t.Fatalf("%d of 6 orders held: the orders do not tell the sources apart", held)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 60 {
				n := (g + i) % 6
				d := rev.Decide(ctx, in(n), Limits{})
				if got := fmt.Sprint(d.Status, d.Holds, d.Tags); got != want[n] {
					t.Errorf("order %d: decision %s, want %s", n, got, want[n])
					return
				}
			}
		})
	}
	wg.Wait()
}
