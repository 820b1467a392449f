package importer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/plugin"
	"github.com/ordergate/ordergate/sdk/sdktest"
)

// scripted is a connector whose GetOrders sends numbered orders in pages
// of two, with cursors "1", "2", ..., and then fails, hangs or ends.
type scripted struct {
	pages   int    // pages to send from the cursor on
	then    string // "end", "fail" or "hang"
	mu      sync.Mutex
	cursors []string // the cursor of each call
}

func (s *scripted) Describe() sdk.Description {
	return sdk.Description{Name: "scripted", Version: "1.0.0", Capabilities: []string{sdk.CapabilityGetOrders}}
}

func (s *scripted) TestConnection(context.Context, sdk.Config) (string, error) { return "ok", nil }

func (s *scripted) GetOrders(ctx context.Context, _ sdk.Config, cursor string, pages sdk.Pages) error {
	s.mu.Lock()
	s.cursors = append(s.cursors, cursor)
	s.mu.Unlock()
	start := 0
	fmt.Sscan(cursor, &start)
	for p := start; p < start+s.pages; p++ {
		var batch []sdk.Order
		for i := range 2 {
			batch = append(batch, order(fmt.Sprintf("p%d-%d", p, i)))
		}
		if err := pages.Send(batch, fmt.Sprint(p+1)); err != nil {
			return err
		}
	}
	switch s.then {
	case "fail":
		return sdk.Errorf(sdk.ErrUnavailable, "the channel went away")
	case "hang":
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func order(id string) sdk.Order {
	data, err := os.ReadFile("../../sdk/testdata/order-1203.json")
	if err != nil {
		panic(err)
	}
	var o sdk.Order
	if err := json.Unmarshal(data, &o); err != nil {
		panic(err)
	}
	o.ExternalID, o.Number = id, id
	o.ShippingAddress.Address1 = id // no duplicate holds
	return o
}

// fakeConnectors serves one in-process connector and counts restarts.
type fakeConnectors struct {
	client   *plugin.Client
	desc     sdk.Description
	restarts int
	mu       sync.Mutex
}

func (f *fakeConnectors) Connector(context.Context, string) (*plugin.Client, sdk.Description, error) {
	return f.client, f.desc, nil
}

func (f *fakeConnectors) Restart(string) {
	f.mu.Lock()
	f.restarts++
	f.mu.Unlock()
}

type fixture struct {
	db      *bolt.DB
	imp     *importer.Importer
	service *orders.Service
	engine  *policy.Engine
	conns   *fakeConnectors
	ch      *host.Channel
	runner  sync.Once
}

func setup(t *testing.T, c sdk.Connector, cfg importer.Config) *fixture {
	t.Helper()
	db := e2e.OpenStore(t)
	return setupWith(t, db, c, cfg)
}

func setupWith(t *testing.T, db *bolt.DB, c sdk.Connector, cfg importer.Config) *fixture {
	t.Helper()
	return setupOn(t, db, db, c, cfg)
}

// setupOn is setupWith with the orders service on store (db, or a
// wrapper of it).
func setupOn(t *testing.T, db *bolt.DB, store host.Store, c sdk.Connector, cfg importer.Config) *fixture {
	t.Helper()
	engine := policy.NewEngine("../../policies", nil, time.Second)
	if _, err := engine.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch := &host.Channel{ID: "shop", Name: "Shop", Kind: host.ChannelB2C, Connector: "scripted", PollInterval: "1h"}
	if _, err := db.EnsureChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	conns := &fakeConnectors{client: sdktest.Serve(t, c), desc: c.Describe()}
	svc := orders.NewService(store, engine, nil)
	imp := importer.New(db, conns, svc, nil, cfg)
	return &fixture{db: db, imp: imp, service: svc, engine: engine, conns: conns, ch: ch}
}

// run starts the importer's scheduler once, until the test ends: imports
// run under it. (The fixture's channel is not enabled, so it schedules
// nothing by itself.)
func (f *fixture) run(t *testing.T) {
	f.runner.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); f.imp.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		<-f.imp.Started()
	})
}

// runOnce starts an import and waits for it to end.
func (f *fixture) runOnce(t *testing.T) *host.Run {
	t.Helper()
	f.run(t)
	started, err := f.imp.ImportNow(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for f.imp.Running("shop") != nil {
		select {
		case <-deadline:
			t.Fatal("the import did not end")
		case <-time.After(10 * time.Millisecond):
		}
	}
	runs, err := f.db.Runs(context.Background(), "shop", 1)
	if err != nil || len(runs) != 1 || runs[0].ID != started.Run.ID {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	return runs[0]
}

func (f *fixture) stored(t *testing.T) int {
	page, _, err := f.db.ListOrders(context.Background(), host.OrderFilter{ChannelID: "shop", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(page)
}

// TestCursorFollowsStoredOrders: a connector that fails after three pages
// leaves the cursor after the third; the next run resumes there and
// nothing is lost or stored twice.
func TestCursorFollowsStoredOrders(t *testing.T) {
	c := &scripted{pages: 3, then: "fail"}
	f := setup(t, c, importer.Config{})
	run := f.runOnce(t)
	if run.Status != host.RunFailed || run.Imported != 6 || run.Held != 6 || run.CursorAfter != "3" || len(run.Errors) == 0 {
		t.Fatalf("failed run = %+v", run)
	}
	if cur, _ := f.db.Cursor(context.Background(), "shop"); cur != "3" || f.stored(t) != 6 {
		t.Fatalf("cursor %q, %d stored", cur, f.stored(t))
	}
	if _, failures, _ := f.imp.NextRun(context.Background(), f.ch); failures != 1 {
		t.Errorf("failures in a row = %d", failures)
	}

	c.then = "end"
	run = f.runOnce(t)
	if run.Status != host.RunSucceeded || run.CursorBefore != "3" || run.CursorAfter != "6" || run.Imported != 6 {
		t.Fatalf("second run = %+v", run)
	}
	if f.stored(t) != 12 {
		t.Errorf("%d stored, want 12", f.stored(t))
	}
	if next, failures, _ := f.imp.NextRun(context.Background(), f.ch); failures != 0 || time.Until(next) < 59*time.Minute {
		t.Errorf("after success: next run %v, failures %d", next, failures)
	}
	// A changed schedule takes effect at once.
	f.imp.Reschedule("shop")
	if next, _, _ := f.imp.NextRun(context.Background(), f.ch); !next.IsZero() {
		t.Errorf("after Reschedule the next run is %v, want now", next)
	}

	// Sending old pages again (the cursor given back) stores nothing twice.
	if err := f.db.SaveCursor(context.Background(), "shop", "0"); err != nil {
		t.Fatal(err)
	}
	run = f.runOnce(t)
	if run.Existing != 6 || run.Imported != 0 || f.stored(t) != 12 {
		t.Errorf("re-import: %+v, %d stored", run, f.stored(t))
	}
}

// TestHungConnectorIsRestarted: a connector that stops sending is cut off
// after the idle timeout, restarted, and the run says so.
func TestHungConnectorIsRestarted(t *testing.T) {
	f := setup(t, &scripted{pages: 1, then: "hang"}, importer.Config{IdleTimeout: 300 * time.Millisecond})
	run := f.runOnce(t)
	if run.Status != host.RunFailed || run.Imported != 2 || len(run.Errors) == 0 {
		t.Fatalf("run = %+v", run)
	}
	if f.conns.restarts != 1 {
		t.Errorf("restarts = %d, want 1", f.conns.restarts)
	}
	if want := "stopped answering"; !strings.Contains(run.Errors[0], want) {
		t.Errorf("run error %q does not say %q", run.Errors[0], want)
	}
	if next, _, _ := f.imp.NextRun(context.Background(), f.ch); time.Until(next) > 10*time.Second {
		t.Errorf("a failed channel is retried with backoff from 5s; next run in %v", time.Until(next))
	}
}

// TestOneImportAtATime: a second import of a running channel is refused.
func TestOneImportAtATime(t *testing.T) {
	f := setup(t, &scripted{pages: 1, then: "hang"}, importer.Config{IdleTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.imp.Run(ctx) }()
	if _, err := f.imp.ImportNow(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.imp.ImportNow(context.Background(), "shop"); host.ErrorCode(err) != host.ECONFLICT {
		t.Errorf("second import: %v, want a conflict", err)
	}
	// Stopping the scheduler ends the running import: interrupted, not
	// failed (a host's stop is not the channel's failure).
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	runs, _ := f.db.Runs(context.Background(), "shop", 1)
	if len(runs) != 1 || runs[0].Status != host.RunInterrupted || runs[0].FinishedAt == nil {
		t.Errorf("runs after stop = %+v", runs)
	}
}

// TestOpsAlertsForFailingAndSilentChannels: a channel whose imports fail
// three times in a row, and one silent for longer than the setting, raise
// operational alerts; neither is switched off.
func TestOpsAlertsForFailingAndSilentChannels(t *testing.T) {
	c := &scripted{pages: 0, then: "fail"}
	db := e2e.OpenStore(t)
	st, _ := db.Settings(context.Background())
	st.OpsAlerts.ChannelSilence = "1s"
	if _, err := db.UpdateSettings(context.Background(), func(s *host.Settings) error { *s = st; return nil }); err != nil {
		t.Fatal(err)
	}
	f := setupWith(t, db, c, importer.Config{Ops: alerts.NewOps(db, db, nil, nil)})
	for range 3 {
		f.runOnce(t)
	}
	find := func(rule string) *host.Delivery {
		all, _ := db.Deliveries(context.Background(), "", 100)
		for _, d := range all {
			if d.Alert.Rule == rule {
				return d
			}
		}
		return nil
	}
	if d := find("channel_failing"); d == nil || d.Alert.To != "ops" || !strings.Contains(d.Alert.Message, "3 imports in a row") {
		t.Fatalf("channel_failing alert = %+v", d)
	}
	f.runOnce(t)
	if all, _ := db.Deliveries(context.Background(), "", 100); len(all) != 1 {
		t.Errorf("a fourth failure raised again: %d alerts", len(all))
	}
	ch, _ := db.Channel(context.Background(), "shop")
	ch.Enabled, ch.PollInterval = true, "1h"
	db.UpdateChannel(context.Background(), ch.ID, func(c *host.Channel) error { *c = *ch; return nil })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.imp.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.After(20 * time.Second)
	for find("channel_silent") == nil {
		select {
		case <-deadline:
			t.Fatal("no channel_silent alert")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if ch, _ := db.Channel(context.Background(), "shop"); !ch.Enabled {
		t.Error("the failing channel was switched off")
	}
}
