package backtest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

func hold(pkg, rule, reason, msg string) sdk.Hold {
	return sdk.Hold{Package: pkg, Rule: rule, Reason: reason, Message: msg}
}

// TestCompare: what counts as a change, kind by kind.
func TestCompare(t *testing.T) {
	base := func() *sdk.Decision {
		return &sdk.Decision{Status: sdk.StatusOnHold,
			Holds:  []sdk.Hold{hold("review", "big", "custom_rule", "line V789 has quantity 5")},
			Tags:   []sdk.TagDecision{{Tag: "Review Needed", Package: "review"}},
			Notes:  []sdk.NoteDecision{{Note: "n1", Package: "sales"}},
			Fields: []sdk.FieldEdit{{Path: "shipping_method", Value: "Ground", Package: "ship"}},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(d *sdk.Decision)
		want   string // a summary of the change
	}{
		{"nothing", func(*sdk.Decision) {}, "status on_hold>on_hold"},
		{"message only", func(d *sdk.Decision) { d.Holds[0].Message = "line V789 has quantity 6" }, "status on_hold>on_hold"},
		{"hold released", func(d *sdk.Decision) { d.Holds, d.Tags, d.Status = nil, nil, sdk.StatusOpen },
			"status on_hold>open; -hold big; -tag Review Needed; rules +[] -[ordergate.workflow.review.Review Needed ordergate.workflow.review.big]"},
		{"reason changed", func(d *sdk.Decision) { d.Holds[0].Reason = "duplicate_order" }, "status on_hold>on_hold; +hold big; -hold big"},
		{"tag added", func(d *sdk.Decision) { d.Tags = append(d.Tags, sdk.TagDecision{Tag: "VIP", Package: "vip"}) },
			"status on_hold>on_hold; +tag VIP; rules +[ordergate.workflow.vip.VIP] -[]"},
		{"field changed", func(d *sdk.Decision) { d.Fields[0].Value = "Express" }, "status on_hold>on_hold; field shipping_method Ground>Express"},
		{"field dropped", func(d *sdk.Decision) { d.Fields = nil },
			"status on_hold>on_hold; field shipping_method Ground>; rules +[] -[ordergate.workflow.ship.shipping_method]"},
		{"note added", func(d *sdk.Decision) { d.Notes = append(d.Notes, sdk.NoteDecision{Note: "n2", Package: "sales"}) }, "status on_hold>on_hold; +note n2"},
		{"alert added", func(d *sdk.Decision) { d.Alerts = []sdk.Alert{{To: "ops", Message: "m", Rule: "r", Package: "a"}} },
			"status on_hold>on_hold; +alert r; rules +[ordergate.workflow.a.r] -[]"},
		{"canceled", func(d *sdk.Decision) {
			d.Cancels, d.Status = []sdk.Cancellation{{Rule: "fraud", Package: "f"}}, sdk.StatusCanceled
		}, "status on_hold>canceled; +cancel fraud; rules +[ordergate.workflow.f.fraud] -[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			candidate := base()
			tc.change(candidate)
			if got := summarize(backtest.Compare(base(), candidate, nil)); got != tc.want {
				t.Errorf("change = %s\nwant     %s", got, tc.want)
			}
		})
	}
}

// summarize writes a change compactly; rules appear only when the
// effects of rules changed in a way by_rule counts.
func summarize(c *backtest.Change) string {
	parts := []string{fmt.Sprintf("status %s>%s", c.Status.From, c.Status.To)}
	for _, h := range c.HoldsAdded {
		parts = append(parts, "+hold "+h.Rule)
	}
	for _, h := range c.HoldsRemoved {
		parts = append(parts, "-hold "+h.Rule)
	}
	for _, tg := range c.TagsAdded {
		parts = append(parts, "+tag "+tg)
	}
	for _, tg := range c.TagsRemoved {
		parts = append(parts, "-tag "+tg)
	}
	for _, f := range c.Fields {
		parts = append(parts, fmt.Sprintf("field %s %s>%s", f.Path, f.From, f.To))
	}
	for _, n := range c.NotesAdded {
		parts = append(parts, "+note "+n)
	}
	for _, a := range c.AlertsAdded {
		parts = append(parts, "+alert "+a.Rule)
	}
	for _, x := range c.CancelsAdded {
		parts = append(parts, "+cancel "+x.Rule)
	}
	added, removed := c.Rules()
	if len(added)+len(removed) > 0 {
		parts = append(parts, fmt.Sprintf("rules +%v -%v", names(added), names(removed)))
	}
	return strings.Join(parts, "; ")
}

func names(rules []policy.OutputRule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.String())
	}
	slices.Sort(out)
	return out
}

// fakeStore holds records newest first and pages them as a store does.
type fakeStore struct {
	records    []*host.Record
	channelErr error
	pages      int
}

func (s *fakeStore) ListOrders(_ context.Context, f host.OrderFilter) ([]*host.Record, string, error) {
	s.pages++
	start := 0
	if f.After != "" {
		start = slices.IndexFunc(s.records, func(r *host.Record) bool { return r.ID == f.After }) + 1
	}
	end := min(start+f.Limit, len(s.records))
	page := s.records[start:end]
	next := ""
	if end < len(s.records) {
		next = page[len(page)-1].ID
	}
	return page, next, nil
}

func (s *fakeStore) Channel(_ context.Context, id string) (*host.Channel, error) {
	if s.channelErr != nil {
		return nil, s.channelErr
	}
	return &host.Channel{ID: id, Kind: host.ChannelB2C}, nil
}

func (s *fakeStore) Counts(context.Context) (host.Counts, error) {
	return host.Counts{Orders: map[sdk.Status]int64{sdk.StatusOnHold: int64(len(s.records))}}, nil
}

// TestRunPagesAndLimits: Run reads every page, stops at Options.Orders
// exactly, keeps the top changes, and fails on a store error rather
// than replaying an order as the wrong channel.
func TestRunPagesAndLimits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.rego"), []byte("package ordergate.workflow.a\n\ntags contains \"A\" if input.order.number != \"#0\"\n"), 0o644)
	candidate, err := policy.LoadRevision(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	store := &fakeStore{}
	for i := range 600 {
		r := &host.Record{}
		r.ID, r.Number, r.ChannelID = fmt.Sprintf("o%04d", 600-i), fmt.Sprintf("#%d", i), "shopify"
		r.Events = []sdk.Event{{Type: sdk.EventDecision, Decision: &sdk.Decision{Status: sdk.StatusOpen, EvaluatedAt: time.Now()}}}
		r.DecidedWith = host.BuildContext(&r.Order, &host.Facts{Settings: host.DefaultSettings()})
		store.records = append(store.records, r)
	}
	var progress []backtest.Progress
	res, err := backtest.Run(ctx, store, nil, candidate, backtest.Options{Top: 5, Progress: func(p backtest.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.OrdersEvaluated != 600 || res.OrdersChanged != 599 || len(res.Changes) != 5 || res.Changes[0].OrderID != "o0599" || res.ByChange.TagsAdded != 599 {
		t.Errorf("all orders: evaluated %d, changed %d, %d changes, first %v", res.OrdersEvaluated, res.OrdersChanged, len(res.Changes), res.Changes[0].OrderID)
	}
	if want := []backtest.Progress{{0, 600}, {256, 600}, {512, 600}, {600, 600}}; !slices.Equal(progress, want) {
		t.Errorf("progress = %v, want %v", progress, want)
	}

	store.pages = 0
	res, err = backtest.Run(ctx, store, nil, candidate, backtest.Options{Orders: 300})
	if err != nil || res.OrdersEvaluated != 300 || store.pages != 2 {
		t.Errorf("the newest 300: evaluated %d in %d pages, %v", res.OrdersEvaluated, store.pages, err)
	}

	store.channelErr = host.Errorf(host.ENOTFOUND, "no channel")
	if res, err = backtest.Run(ctx, store, nil, candidate, backtest.Options{Orders: 10}); err != nil || res.OrdersEvaluated != 10 {
		t.Errorf("a deleted channel: %v, %v; want its orders replayed as b2b", res, err)
	}
	store.channelErr = errors.New("the store is down")
	if _, err := backtest.Run(ctx, store, nil, candidate, backtest.Options{Orders: 10}); err == nil || !strings.Contains(err.Error(), "the store is down") {
		t.Errorf("a failing store: %v, want its error", err)
	}
}
