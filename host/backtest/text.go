package backtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText writes the result as tables for people: the totals per kind
// of change and per rule, then the orders that changed most.
func (res *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "revision %s on %s: %d orders replayed, %d would change", res.Revision, strings.ReplaceAll(res.Baseline, "_", " "), res.OrdersEvaluated, res.OrdersChanged)
	if res.NewPolicyErrors > 0 {
		fmt.Fprintf(w, ", %d could not be decided (policy_error)", res.NewPolicyErrors)
	}
	fmt.Fprintln(w)
	if res.OrdersOnFactsNow > 0 {
		fmt.Fprintf(w, "%d orders were decided before their facts were kept and were replayed on today's facts\n", res.OrdersOnFactsNow)
	}
	if res.OrdersSkipped > 0 {
		fmt.Fprintf(w, "%d orders have no decision on record and were skipped\n", res.OrdersSkipped)
	}
	if res.OrdersChanged == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCHANGE\tORDERS")
	b := res.ByChange
	for _, row := range []struct {
		name string
		n    int
	}{{"status", b.Status}, {"holds_added", b.HoldsAdded}, {"holds_removed", b.HoldsRemoved}, {"tags_added", b.TagsAdded},
		{"tags_removed", b.TagsRemoved}, {"notes", b.Notes}, {"fields", b.Fields}, {"alerts", b.Alerts}, {"cancels", b.Cancels}} {
		if row.n > 0 {
			fmt.Fprintf(tw, "%s\t%d\n", row.name, row.n)
		}
	}
	fmt.Fprintln(tw, "\nRULE\tADDED\tREMOVED")
	for _, name := range slices.Sorted(maps.Keys(res.ByRule)) {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", name, res.ByRule[name].Added, res.ByRule[name].Removed)
	}
	fmt.Fprintln(tw, "\nORDER\tNUMBER\tSTATUS\tCHANGES")
	for _, c := range res.Changes {
		status := string(c.Status.From)
		if c.Status.To != c.Status.From {
			status += " -> " + string(c.Status.To)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.OrderID, c.Number, status, strings.Join(c.summary(), "; "))
	}
	return tw.Flush()
}

// summary describes a change in a few words per item: +hold, -tag...
func (c *Change) summary() []string {
	var out []string
	for _, h := range c.HoldsAdded {
		out = append(out, fmt.Sprintf("+hold %s (%s)", h.Reason, h.Rule))
	}
	for _, h := range c.HoldsRemoved {
		out = append(out, fmt.Sprintf("-hold %s (%s)", h.Reason, h.Rule))
	}
	for _, t := range c.TagsAdded {
		out = append(out, "+tag "+t)
	}
	for _, t := range c.TagsRemoved {
		out = append(out, "-tag "+t)
	}
	if n := len(c.NotesAdded) + len(c.NotesRemoved); n > 0 {
		out = append(out, fmt.Sprintf("notes +%d -%d", len(c.NotesAdded), len(c.NotesRemoved)))
	}
	for _, f := range c.Fields {
		out = append(out, fmt.Sprintf("field %s %q -> %q", f.Path, f.From, f.To))
	}
	if n := len(c.AlertsAdded) + len(c.AlertsRemoved); n > 0 {
		out = append(out, fmt.Sprintf("alerts +%d -%d", len(c.AlertsAdded), len(c.AlertsRemoved)))
	}
	if n := len(c.CancelsAdded) + len(c.CancelsRemoved); n > 0 {
		out = append(out, fmt.Sprintf("cancels +%d -%d", len(c.CancelsAdded), len(c.CancelsRemoved)))
	}
	if c.PolicyError != "" {
		out = append(out, "policy_error: "+c.PolicyError)
	}
	return out
}
