package importer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/sdk"
)

// page is one page a paged connector sends.
type page struct {
	orders   []sdk.Order
	problems []sdk.Problem
}

// paged is a connector that sends a script of pages, each with the cursor
// of its number ("1", "2", ...), from the cursor it is given. With a gate
// it waits, after the pages, until the gate is closed (or the host
// cancels); Sent reports each page the host took.
type paged struct {
	mu    sync.Mutex
	pages []page
	gate  chan struct{}
	sent  chan int
}

func (p *paged) Describe() sdk.Description {
	return sdk.Description{Name: "paged", Version: "1.0.0", Capabilities: []string{sdk.CapabilityGetOrders}}
}

func (p *paged) TestConnection(context.Context, sdk.Config) (string, error) { return "ok", nil }

func (p *paged) script(pages ...page) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pages = pages
}

func (p *paged) GetOrders(ctx context.Context, _ sdk.Config, cursor string, pages sdk.Pages) error {
	p.mu.Lock()
	script := slices.Clone(p.pages)
	p.mu.Unlock()
	start := 0
	fmt.Sscan(cursor, &start)
	for i := start; i < len(script); i++ {
		if err := pages.Send(script[i].orders, fmt.Sprint(i+1), script[i].problems...); err != nil {
			return err
		}
		if p.sent != nil {
			p.sent <- i + 1
		}
	}
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func numbered(prefix string, n int) []sdk.Order {
	var out []sdk.Order
	for i := range n {
		out = append(out, order(fmt.Sprintf("%s-%d", prefix, i)))
	}
	return out
}

// TestRunCountersCommitWithPages: while an import runs, its stored run
// already counts every page committed (in the transaction of the page's
// orders and cursor), not zeros until the run ends.
func TestRunCountersCommitWithPages(t *testing.T) {
	c := &paged{gate: make(chan struct{}), sent: make(chan int, 10)}
	c.script(page{orders: numbered("a", 2)}, page{orders: numbered("b", 3)})
	f := setup(t, c, importer.Config{IdleTimeout: time.Minute})
	f.run(t)
	if _, err := f.imp.ImportNow(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if got := <-c.sent; got != want {
			t.Fatalf("page %d sent, want %d", got, want)
		}
	}
	// The second page was taken; it is stored once Send returned for the
	// next page or the connector waits at the gate. Wait for the store to
	// say so rather than for a time.
	e2e.Eventually(t, 10*time.Second, func() error {
		runs, err := f.db.Runs(context.Background(), "shop", 1)
		if err != nil {
			return err
		}
		r := runs[0]
		if r.Status != host.RunRunning || r.Pages != 2 || r.OrdersSeen != 5 || r.Imported != 5 || r.Held != 5 || r.CursorAfter != "2" {
			return fmt.Errorf("stored run while importing = %+v", r)
		}
		return nil
	})
	if cur, _ := f.db.Cursor(context.Background(), "shop"); cur != "2" {
		t.Errorf("cursor %q, want 2", cur)
	}
	close(c.gate)
	e2e.Eventually(t, 10*time.Second, func() error {
		if f.imp.Running("shop") != nil {
			return fmt.Errorf("still running")
		}
		return nil
	})
	runs, _ := f.db.Runs(context.Background(), "shop", 1)
	if r := runs[0]; r.Status != host.RunSucceeded || r.Imported != 5 || r.FinishedAt == nil {
		t.Errorf("finished run = %+v", r)
	}
}

// TestOpenRunsAreClosedAtStart: a run a crashed host left running is
// closed at the next start as interrupted, with its finish time, an error
// saying the host stopped, and the counters of what it committed; it
// counts neither as a failure nor as a success.
func TestOpenRunsAreClosedAtStart(t *testing.T) {
	db := e2e.OpenStore(t)
	c := &paged{}
	c.script(page{orders: numbered("a", 2)})
	f := setupWith(t, db, c, importer.Config{})
	started := time.Now().UTC().Add(-time.Minute)
	left := &host.Run{ID: "01JD000000000000000000RUN1", ChannelID: "shop", Trigger: "schedule", Status: host.RunRunning,
		StartedAt: started, Pages: 3, OrdersSeen: 6, Imported: 6, CursorAfter: "3"}
	if err := db.PutRun(context.Background(), left); err != nil {
		t.Fatal(err)
	}
	if err := f.imp.CloseInterrupted(context.Background()); err != nil {
		t.Fatal(err)
	}
	runs, _ := db.Runs(context.Background(), "shop", 1)
	r := runs[0]
	if r.ID != left.ID || r.Status != host.RunInterrupted || r.FinishedAt == nil || r.FinishedAt.Before(started) ||
		r.Imported != 6 || r.Pages != 3 || len(r.Errors) == 0 || !strings.Contains(r.Errors[0], "host stopped") {
		t.Fatalf("closed run = %+v", r)
	}
	if _, failures, _ := f.imp.NextRun(context.Background(), f.ch); failures != 0 {
		t.Errorf("an interrupted run counts as %d failures", failures)
	}
}

// TestFailureStreakSurvivesRestart: a new importer on the same store (a
// restarted host) reads the failure streak from the stored runs: it goes
// on counting, and the "N in a row" alert is raised once, not again after
// the restart.
func TestFailureStreakSurvivesRestart(t *testing.T) {
	db := e2e.OpenStore(t)
	ops := alerts.NewOps(db, db, nil, nil)
	first := setupWith(t, db, &scripted{pages: 0, then: "fail"}, importer.Config{Ops: ops})
	for range 3 {
		first.runOnce(t)
	}
	second := setupWith(t, db, &scripted{pages: 0, then: "fail"}, importer.Config{Ops: ops})
	if _, failures, _ := second.imp.NextRun(context.Background(), second.ch); failures != 3 {
		t.Fatalf("after a restart failures_in_a_row = %d, want 3", failures)
	}
	second.runOnce(t)
	if _, failures, _ := second.imp.NextRun(context.Background(), second.ch); failures != 4 {
		t.Errorf("failures_in_a_row = %d, want 4", failures)
	}
	if n := countAlerts(t, db, "channel_failing"); n != 1 {
		t.Errorf("%d channel_failing alerts, want 1", n)
	}
}

// TestSilenceCountsFromLastSuccess: the silence clock starts at the
// channel's last stored success, not at the host's start, so a host
// restarted more often than the silence window still reports a silent
// channel.
func TestSilenceCountsFromLastSuccess(t *testing.T) {
	db := e2e.OpenStore(t)
	st, _ := db.Settings(context.Background())
	st.OpsAlerts.ChannelSilence = "1h"
	if _, err := db.UpdateSettings(context.Background(), func(s *host.Settings) error { *s = st; return nil }); err != nil {
		t.Fatal(err)
	}
	f := setupWith(t, db, &scripted{pages: 0, then: "fail"}, importer.Config{Ops: alerts.NewOps(db, db, nil, nil)})
	finished := time.Now().UTC().Add(-3 * time.Hour)
	if err := db.PutRun(context.Background(), &host.Run{ID: "01JD000000000000000000RUN1", ChannelID: "shop", Status: host.RunSucceeded,
		StartedAt: finished.Add(-time.Minute), FinishedAt: &finished}); err != nil {
		t.Fatal(err)
	}
	ch, _ := db.Channel(context.Background(), "shop")
	ch.Enabled = true
	if _, err := db.UpdateChannel(context.Background(), ch.ID, func(c *host.Channel) error { *c = *ch; return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.imp.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e2e.Eventually(t, 10*time.Second, func() error {
		d := findAlert(t, db, "channel_silent")
		if d == nil {
			return fmt.Errorf("no channel_silent alert")
		}
		if !strings.Contains(d.Alert.Message, finished.Format(time.RFC3339)) {
			return fmt.Errorf("channel_silent alert %q does not name the last success %s", d.Alert.Message, finished.Format(time.RFC3339))
		}
		return nil
	})
}

// TestRejectedInputIsNotSuccess: an import whose input was rejected (a
// connector's problem, such as a malformed file set aside) is partial when
// it also stored orders and failed when it stored none; both count toward
// the failure streak and its alert. A notice rejects nothing.
func TestRejectedInputIsNotSuccess(t *testing.T) {
	bad := sdk.Problem{Source: "orders-7.csv", Message: "line 3: quantity is not a number (moved to failed/)"}
	for _, tc := range []struct {
		name     string
		pages    []page
		status   string
		failures int
	}{
		{"only a malformed file", []page{{problems: []sdk.Problem{bad}}}, host.RunFailed, 1},
		{"orders and a malformed file", []page{{orders: numbered("a", 2)}, {problems: []sdk.Problem{bad}}}, host.RunPartial, 1},
		{"a notice only", []page{{orders: numbered("a", 2), problems: []sdk.Problem{{Source: "orders query", Message: "page shrunk to 50", Notice: true}}}}, host.RunSucceeded, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := e2e.OpenStore(t)
			c := &paged{}
			c.script(tc.pages...)
			f := setupWith(t, db, c, importer.Config{Ops: alerts.NewOps(db, db, nil, nil)})
			run := f.runOnce(t)
			if run.Status != tc.status {
				t.Fatalf("run status %s, want %s: %+v", run.Status, tc.status, run)
			}
			if _, failures, _ := f.imp.NextRun(context.Background(), f.ch); failures != tc.failures {
				t.Errorf("failures_in_a_row = %d, want %d", failures, tc.failures)
			}
			if tc.status == host.RunSucceeded {
				if len(run.Notices) != 1 || len(run.Errors) != 0 {
					t.Errorf("notices %q, errors %q", run.Notices, run.Errors)
				}
				return
			}
			if run.Problems != 1 || !strings.Contains(run.Errors[0], "rejected") || !slices.ContainsFunc(run.Errors, func(e string) bool { return strings.Contains(e, "orders-7.csv") }) {
				t.Errorf("run does not say what was rejected: problems %d, errors %q", run.Problems, run.Errors)
			}
			// The cursor moved past the bad input: the next imports see
			// nothing new and succeed, which ends the streak.
			if n := countAlerts(t, db, "channel_failing"); n != 0 {
				t.Errorf("%d channel_failing alerts after one failure", n)
			}
		})
	}
	t.Run("three in a row raise the alert", func(t *testing.T) {
		db := e2e.OpenStore(t)
		c := &paged{}
		f := setupWith(t, db, c, importer.Config{Ops: alerts.NewOps(db, db, nil, nil)})
		for i := range 3 {
			c.script(append(make([]page, i), page{problems: []sdk.Problem{bad}})...)
			f.runOnce(t)
		}
		d := findAlert(t, db, "channel_failing")
		if d == nil || !strings.Contains(d.Alert.Message, "3 imports in a row") || !strings.Contains(d.Alert.Message, "rejected") {
			t.Fatalf("channel_failing alert = %+v", d)
		}
	})
}

func findAlert(t *testing.T, db interface {
	Deliveries(context.Context, string, int) ([]*host.Delivery, error)
}, rule string) *host.Delivery {
	t.Helper()
	all, err := db.Deliveries(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.Alert.Rule == rule {
			return d
		}
	}
	return nil
}

func countAlerts(t *testing.T, db interface {
	Deliveries(context.Context, string, int) ([]*host.Delivery, error)
}, rule string) int {
	t.Helper()
	all, err := db.Deliveries(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range all {
		if d.Alert.Rule == rule {
			n++
		}
	}
	return n
}

// lostAnswers is a store whose page commits from the lose-th on succeed
// but answer an error (a database whose reply to COMMIT never arrived).
type lostAnswers struct {
	*bolt.DB
	lose    int32
	commits atomic.Int32
}

func (s *lostAnswers) CommitPage(ctx context.Context, orders []host.NewOrder, page host.PageCommit) ([]host.CreateResult, error) {
	res, err := s.DB.CommitPage(ctx, orders, page)
	if err == nil && s.commits.Add(1) >= s.lose {
		return nil, errors.New("connection reset while reading the answer to COMMIT")
	}
	return res, err
}

// TestRunEndsWithWhatCommitted: a page that committed although the host
// never learnt it (the answer was lost) is counted by the run as it
// ends: the run ends as stored, not as the host counted.
func TestRunEndsWithWhatCommitted(t *testing.T) {
	store := &lostAnswers{DB: e2e.OpenStore(t), lose: 2}
	c := &paged{}
	c.script(page{orders: numbered("a", 2)}, page{orders: numbered("b", 3)})
	f := setupWith(t, store.DB, c, importer.Config{IdleTimeout: time.Minute})
	f.imp = importer.New(store, f.conns, orders.NewService(store, f.engine, nil), nil, importer.Config{IdleTimeout: time.Minute})
	f.run(t)
	started, err := f.imp.ImportNow(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	e2e.Eventually(t, 10*time.Second, func() error {
		if f.imp.Running("shop") != nil {
			return fmt.Errorf("still running")
		}
		return nil
	})
	runs, _ := store.Runs(context.Background(), "shop", 1)
	r := runs[0]
	if r.ID != started.Run.ID || r.Status != host.RunFailed || r.Pages != 2 || r.Imported != 5 || r.CursorAfter != "2" {
		t.Errorf("ended run = %+v, want failed with the 2 pages and 5 orders that committed", r)
	}
	if n := f.stored(t); n != 5 {
		t.Errorf("%d orders stored, want 5", n)
	}
}

// TestFirstEndStands: a run another host ended (it took the channel
// over) stays as that host ended it when this host's import ends.
func TestFirstEndStands(t *testing.T) {
	c := &paged{sent: make(chan int, 10), gate: make(chan struct{})}
	c.script(page{orders: numbered("a", 2)})
	f := setup(t, c, importer.Config{IdleTimeout: time.Minute})
	f.run(t)
	started, err := f.imp.ImportNow(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	<-c.sent
	e2e.Eventually(t, 10*time.Second, func() error {
		runs, _ := f.db.Runs(context.Background(), "shop", 1)
		if runs[0].Imported != 2 {
			return fmt.Errorf("stored run = %+v", runs[0])
		}
		return nil
	})
	const why = "closed by the host that took the channel over"
	if _, err := f.db.EndRun(context.Background(), "shop", started.Run.ID, func(r *host.Run) *host.Run {
		return r.Interrupt(why, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	close(c.gate)
	e2e.Eventually(t, 10*time.Second, func() error {
		if f.imp.Running("shop") != nil {
			return fmt.Errorf("still running")
		}
		return nil
	})
	runs, _ := f.db.Runs(context.Background(), "shop", 1)
	if r := runs[0]; r.Status != host.RunInterrupted || r.Errors[0] != why || r.Imported != 2 {
		t.Errorf("run = %+v, want it as the other host ended it", r)
	}
	if _, failures, _ := f.imp.NextRun(context.Background(), f.ch); failures != 0 {
		t.Errorf("the run counts as %d failures", failures)
	}
}
