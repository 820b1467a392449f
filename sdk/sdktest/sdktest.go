// Package sdktest is the conformance kit for connectors: a vendor runs it
// from `go test` against their connector, which it serves in-process over
// the real gRPC protocol (as the host would call it, without building a
// binary):
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, sdktest.Suite{
//			Connector: New(),
//			Fixture: func(t *testing.T) sdk.Config { ... a fresh copy of the same test data ... },
//		})
//	}
//
// It checks the description, configuration validation, the connection
// test, the validity of every order, that cursors resume without losing
// orders and move forward, and that a canceled import stops.
//
// What a re-sent order means: a connector may send an order the host has
// imported before (an overlap window, an order changed in the channel).
// The host compares it with the order as it first received it. Unchanged,
// it counts as existing and nothing happens. Canceled in the channel (the
// order's canceled_at set, with cancel_reason when the channel gives one),
// the host cancels it with actor "channel:<channel id>". Otherwise the
// host records the change on the order's timeline as channel_updated with
// the fields that changed, replaces the order as received and re-evaluates
// it. So a connector should send an order again when the channel changes
// or cancels it, with its channel fields as the channel has them now.
package sdktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/plugin"
)

// Suite is what the kit needs to know about a connector.
type Suite struct {
	// Connector is the connector under test.
	Connector sdk.Connector
	// Fixture returns a valid configuration for a fresh copy of the test
	// data: the same orders every call (at least two pages of them, so
	// cursors and cancellation can be checked), in their own place (a
	// temp folder, a fake server), since an import may change its source.
	Fixture func(t *testing.T) sdk.Config
	// StopWithin bounds how long GetOrders may run on after the host
	// cancels (default 5s).
	StopWithin time.Duration
	// ResendsRecent says the connector deliberately sends the orders at
	// the end of the previous import again (an overlap window against a
	// channel's eventual consistency, as the Shopify connector does). The
	// kit then requires the last cursor to resume with fewer orders than
	// a whole import, rather than with none, and checks that cursors move
	// forward only within an import.
	ResendsRecent bool
}

// Run runs every check as a subtest of t.
func Run(t *testing.T, s Suite) {
	t.Helper()
	if s.StopWithin == 0 {
		s.StopWithin = 5 * time.Second
	}
	watched := &watchedConnector{Connector: s.Connector}
	client := Serve(t, watched)
	ctx := context.Background()

	desc, err := client.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	t.Run("Describe", func(t *testing.T) {
		if err := desc.Validate(); err != nil {
			t.Errorf("the description is not valid: %v", err)
		}
		if !slices.Contains(desc.Capabilities, sdk.CapabilityGetOrders) {
			t.Errorf("capabilities %v lack %q", desc.Capabilities, sdk.CapabilityGetOrders)
		}
		for _, f := range desc.Config {
			if f.Description == "" {
				t.Errorf("config field %s has no description for operators", f.Name)
			}
		}
	})

	t.Run("ConfigValidation", func(t *testing.T) {
		good := s.Fixture(t)
		for _, f := range desc.Config {
			if f.Required {
				cfg := without(good, f.Name)
				_, err := client.TestConnection(ctx, cfg)
				wantConfigError(t, "without required "+f.Name, err, f.Name)
			}
			cfg := with(good, f.Name, wrongType(f.Type))
			_, err := client.TestConnection(ctx, cfg)
			wantConfigError(t, "with a wrong type for "+f.Name, err, f.Name)
		}
		_, err := client.TestConnection(ctx, with(good, "no_such_setting_xyz", "x"))
		wantConfigError(t, "with an unknown setting", err, "no_such_setting_xyz")
		err = client.GetOrders(ctx, without(good, requiredName(desc)), "", func(sdk.Page) error { return nil })
		if requiredName(desc) != "" {
			wantConfigError(t, "GetOrders without a required setting", err, requiredName(desc))
		}
	})

	t.Run("TestConnection", func(t *testing.T) {
		detail, err := client.TestConnection(ctx, s.Fixture(t))
		if err != nil {
			t.Fatalf("TestConnection with the fixture's config: %v", err)
		}
		if detail == "" {
			t.Error("TestConnection says nothing about what it reached")
		}
	})

	var full []sdk.Page
	t.Run("Orders", func(t *testing.T) {
		full = collect(t, client, s.Fixture(t), "")
		ids := map[string]bool{}
		total := 0
		for p, page := range full {
			if page.Cursor == "" {
				t.Errorf("page %d has no cursor", p)
			}
			for _, pr := range page.Problems {
				t.Errorf("page %d reports a problem with the fixture data: %s: %s", p, pr.Source, pr.Message)
			}
			for i := range page.Orders {
				o := page.Orders[i]
				total++
				if err := o.Validate(); err != nil {
					t.Errorf("page %d order %d (%s) is not a valid canonical order: %v", p, i, o.ExternalID, err)
				}
				if ids[o.ExternalID] {
					t.Errorf("external_id %q is sent twice in one import", o.ExternalID)
				}
				ids[o.ExternalID] = true
			}
		}
		if total == 0 || len(full) < 2 {
			t.Fatalf("the fixture gives %d orders in %d pages; the kit needs at least two pages", total, len(full))
		}
	})
	if t.Failed() || len(full) < 2 {
		return
	}

	t.Run("Resumption", func(t *testing.T) {
		all := externalIDs(full)
		remaining := len(all) + 1
		for k, page := range full {
			last := k == len(full)-1
			before := externalIDs(full[:k+1])
			rest := externalIDs(collect(t, client, s.Fixture(t), page.Cursor))
			for id := range all {
				if !before[id] && !rest[id] {
					t.Errorf("resuming from the cursor of page %d loses order %s", k, id)
				}
			}
			if len(rest) > remaining && !(last && s.ResendsRecent) {
				t.Errorf("the cursor of page %d resumes with %d orders, more than the cursor before it (%d): cursors must move forward", k, len(rest), remaining)
			}
			remaining = len(rest)
		}
		switch {
		case s.ResendsRecent && remaining >= len(all):
			t.Errorf("resuming from the last cursor sends all %d orders again; the cursor must move past the orders sent", remaining)
		case !s.ResendsRecent && remaining != 0:
			t.Errorf("resuming from the last cursor sends %d orders again; the cursor must move past every order sent", remaining)
		}
	})

	t.Run("Cancellation", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The connector's second Send waits until the host has canceled,
		// so the cancellation reaches a connector that is still working.
		gate := watched.reset()
		err := client.GetOrders(ctx, s.Fixture(t), "", func(sdk.Page) error {
			cancel()
			close(gate)
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("GetOrders canceled after the first page returned %v, want context.Canceled", err)
		}
		select {
		case <-watched.returned():
		case <-time.After(s.StopWithin):
			t.Errorf("the connector's GetOrders still runs %s after the host canceled", s.StopWithin)
		}
	})
}

// Serve serves c in-process over gRPC, as go-plugin would in its own
// process, and returns the host's client.
func Serve(t *testing.T, c sdk.Connector) *plugin.Client {
	t.Helper()
	// As plugin.Serve does: a connector whose description is not valid
	// does not start.
	if err := checkDescription(c); err != nil {
		t.Fatal(err)
	}
	client, _ := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{plugin.PluginName: &plugin.GRPCPlugin{Impl: c}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(plugin.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*plugin.Client)
}

// checkDescription refuses a connector whose description is not valid,
// as plugin.Serve does (it exits).
func checkDescription(c sdk.Connector) error {
	desc := c.Describe()
	if err := desc.Validate(); err != nil {
		return fmt.Errorf("the connector's description is not valid (plugin.Serve would exit): %w", err)
	}
	return nil
}

func collect(t *testing.T, c *plugin.Client, cfg sdk.Config, cursor string) []sdk.Page {
	t.Helper()
	var pages []sdk.Page
	if err := c.GetOrders(context.Background(), cfg, cursor, func(p sdk.Page) error {
		pages = append(pages, p)
		return nil
	}); err != nil {
		t.Fatalf("GetOrders from cursor %q: %v", cursor, err)
	}
	return pages
}

func externalIDs(pages []sdk.Page) map[string]bool {
	ids := map[string]bool{}
	for _, p := range pages {
		for _, o := range p.Orders {
			ids[o.ExternalID] = true
		}
	}
	return ids
}

func wantConfigError(t *testing.T, what string, err error, field string) {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) || e.Kind != sdk.ErrInvalidConfig {
		t.Errorf("%s: got %v, want an %s error", what, err, sdk.ErrInvalidConfig)
		return
	}
	if !slices.ContainsFunc(e.Fields, func(f sdk.FieldError) bool { return f.Field == field }) {
		t.Errorf("%s: the error names %v, not %s", what, e.Fields, field)
	}
}

func requiredName(d sdk.Description) string {
	for _, f := range d.Config {
		if f.Required {
			return f.Name
		}
	}
	return ""
}

func without(cfg sdk.Config, name string) sdk.Config {
	out := sdk.Config{}
	for k, v := range cfg {
		if k != name {
			out[k] = v
		}
	}
	return out
}

func with(cfg sdk.Config, name string, v any) sdk.Config {
	out := without(cfg, name)
	out[name] = v
	return out
}

// wrongType is a value no field of type ft accepts.
func wrongType(ft sdk.FieldType) any {
	switch ft {
	case sdk.FieldString, sdk.FieldDuration:
		return 42
	case sdk.FieldStringMap:
		return "not a map"
	default:
		return []any{"not", "a", fmt.Sprint(ft)}
	}
}

// watchedConnector tells when GetOrders returns, and can hold its pages
// after the first until a gate opens.
type watchedConnector struct {
	sdk.Connector
	mu     sync.Mutex
	done   chan struct{}
	closed bool
	gate   chan struct{}
}

// reset starts watching the next GetOrders and returns its gate.
func (w *watchedConnector) reset() chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done, w.closed, w.gate = make(chan struct{}), false, make(chan struct{})
	return w.gate
}

func (w *watchedConnector) returned() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

func (w *watchedConnector) GetOrders(ctx context.Context, cfg sdk.Config, cursor string, pages sdk.Pages) error {
	defer func() {
		w.mu.Lock()
		if w.done != nil && !w.closed {
			close(w.done)
			w.closed = true
		}
		w.mu.Unlock()
	}()
	w.mu.Lock()
	gate := w.gate
	w.mu.Unlock()
	if gate != nil {
		pages = &gatedPages{Pages: pages, gate: gate}
	}
	return w.Connector.GetOrders(ctx, cfg, cursor, pages)
}

// gatedPages holds every Send after the first until the gate opens.
type gatedPages struct {
	sdk.Pages
	gate chan struct{}
	sent int
}

func (g *gatedPages) Send(orders []sdk.Order, cursor string, problems ...sdk.Problem) error {
	if g.sent > 0 {
		<-g.gate
	}
	g.sent++
	return g.Pages.Send(orders, cursor, problems...)
}
