package rulestats

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
)

// View is how far back the rule statistics look: Build ignores older
// hits, and a rule without a hit in it is idle.
const View = 30 * 24 * time.Hour

// Table is the rule statistics of the revision in force, the body of
// GET /api/v1/workflow/rules.
type Table struct {
	Revision string `json:"revision"`
	Rules    []Rule `json:"rules"`
}

// Rule is one output rule's statistics.
type Rule struct {
	// Package is below ordergate.workflow, e.g. "review".
	Package string `json:"package"`
	// Rule names the rule as its effects do (see policy.OutputRule); ""
	// for an output rule whose name is only known once it has an effect
	// and that had none in view.
	Rule string `json:"rule"`
	// Output is tags, holds, cancel, notes, fields or alerts.
	Output string `json:"output"`
	// Hits counts the decisions of the revision in force the rule had an
	// effect in.
	Hits Windows `json:"hits"`
	// AllRevisions counts those of any revision, for the same package,
	// output and rule.
	AllRevisions Windows `json:"hits_all_revisions"`
	// FirstSeenAt is the earliest hit in view, LastHitAt the latest and
	// LastOrderID the order it decided, under any revision.
	FirstSeenAt *time.Time `json:"first_seen_at"`
	LastHitAt   *time.Time `json:"last_hit_at"`
	LastOrderID string     `json:"last_order_id"`
	// Idle is set when the rule had no hit in view (30 days) under any
	// revision.
	Idle bool `json:"idle"`
}

// Windows are hit counts over the last hour, day and 30 days. The counts
// are kept by whole UTC hours, so a window holds the hour now falls in
// and the whole hours before it back to the one the window's start falls
// in: "1h" sums the hours at or after now.Add(-time.Hour).Truncate(time.Hour)
// (between 1 and 2 hours), "24h" those at or after
// now.Add(-24*time.Hour).Truncate(time.Hour), "30d" those at or after
// now.Add(-30*24*time.Hour).Truncate(time.Hour).
type Windows struct {
	Hour  int64 `json:"1h"`
	Day   int64 `json:"24h"`
	Month int64 `json:"30d"`
}

// outputOrder is the order rows of a package are listed in.
var outputOrder = []string{"tags", "holds", "cancel", "notes", "fields", "alerts"}

// Build makes the statistics of rev, the revision in force, from hits
// (of any revision; those older than the 30-day view are ignored). It has
// a row for each named output rule rev defines, and for each rule a hit
// names under an output (package and output) rev defines. An output rule
// rev defines without a name (Rule "") has a row of its own only while no
// hit in view names a rule of its output that rev does not define by
// name: once one does, the named rows stand for it.
func Build(rev *policy.Revision, hits []host.RuleHit, now time.Time) Table {
	t := Table{Rules: []Rule{}}
	if rev == nil {
		return t
	}
	t.Revision = rev.ID
	hourStart := now.Add(-time.Hour).Truncate(time.Hour)
	dayStart := now.Add(-24 * time.Hour).Truncate(time.Hour)
	monthStart := now.Add(-View).Truncate(time.Hour)

	type output struct{ pkg, output string }
	outputs := map[output]bool{}
	static := map[policy.OutputRule]bool{}
	for _, r := range rev.Rules {
		outputs[output{r.Package, r.Output}] = true
		static[r] = true
	}

	rows := map[policy.OutputRule]*Rule{}
	row := func(k policy.OutputRule) *Rule {
		if r := rows[k]; r != nil {
			return r
		}
		r := &Rule{Package: k.Package, Output: k.Output, Rule: k.Rule}
		rows[k] = r
		return r
	}
	for _, r := range rev.Rules {
		if r.Rule != "" {
			row(r)
		}
	}
	named := map[output]bool{} // outputs a hit names a rule of that rev does not
	for i := range hits {
		h := &hits[i]
		if h.Hour.Before(monthStart) || !outputs[output{h.Package, h.Output}] {
			continue
		}
		k := policy.OutputRule{Package: h.Package, Output: h.Output, Rule: h.Rule}
		if !static[k] {
			named[output{h.Package, h.Output}] = true
		}
		r := row(k)
		add := func(w *Windows) {
			w.Month += h.Count
			if !h.Hour.Before(dayStart) {
				w.Day += h.Count
			}
			if !h.Hour.Before(hourStart) {
				w.Hour += h.Count
			}
		}
		add(&r.AllRevisions)
		if h.Revision == rev.ID {
			add(&r.Hits)
		}
		if !h.FirstAt.IsZero() && (r.FirstSeenAt == nil || h.FirstAt.Before(*r.FirstSeenAt)) {
			at := h.FirstAt.UTC()
			r.FirstSeenAt = &at
		}
		if !h.LastAt.IsZero() && (r.LastHitAt == nil || h.LastAt.After(*r.LastHitAt)) {
			at := h.LastAt.UTC()
			r.LastHitAt, r.LastOrderID = &at, h.LastOrderID
		}
	}
	for _, r := range rev.Rules {
		if r.Rule == "" && !named[output{r.Package, r.Output}] {
			row(r)
		}
	}

	for _, r := range rows {
		r.Idle = r.AllRevisions.Month == 0
		t.Rules = append(t.Rules, *r)
	}
	slices.SortFunc(t.Rules, func(a, b Rule) int {
		return cmp.Or(strings.Compare(a.Package, b.Package),
			cmp.Compare(outputRank(a.Output), outputRank(b.Output)),
			strings.Compare(a.Output, b.Output),
			strings.Compare(a.Rule, b.Rule))
	})
	return t
}

// outputRank is output's place in outputOrder; unknown outputs go last.
func outputRank(output string) int {
	if i := slices.Index(outputOrder, output); i >= 0 {
		return i
	}
	return len(outputOrder)
}

// WriteText writes t as an aligned table for people: a row per rule with
// the hits of the revision in force over the last hour, day and 30 days,
// the last hit under any revision and whether the rule is idle.
func (t Table) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "revision %s: hits of this revision in the last hour, day and 30 days, and of all revisions in 30 days\n", t.Revision)
	fmt.Fprintln(tw, "PACKAGE\tOUTPUT\tRULE\t1H\t24H\t30D\tALL 30D\tLAST HIT\tIDLE")
	for _, r := range t.Rules {
		last := "-"
		if r.LastHitAt != nil {
			last = r.LastHitAt.UTC().Format(time.RFC3339)
		}
		idle := "no"
		if r.Idle {
			idle = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", orDash(r.Package), r.Output, orDash(r.Rule),
			r.Hits.Hour, r.Hits.Day, r.Hits.Month, r.AllRevisions.Month, last, idle)
	}
	return tw.Flush()
}

// orDash shows "" as "-" (a rule not named yet, the root package).
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s) // a tab or newline would break the table
	}
	return s
}
