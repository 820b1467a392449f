package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/connectors"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/plugin"
)

// counter is a connector of numbered orders, two a page.
type counter struct{}

func (counter) Describe() sdk.Description {
	return sdk.Description{Name: "counter", Version: "0.1.0", Capabilities: []string{sdk.CapabilityGetOrders},
		Config: []sdk.ConfigField{{Name: "orders", Type: sdk.FieldInteger, Required: true, Description: "how many orders"}}}
}

func (counter) TestConnection(_ context.Context, cfg sdk.Config) (string, error) {
	return fmt.Sprintf("%d orders", cfg.Int("orders")), nil
}

func (counter) GetOrders(ctx context.Context, cfg sdk.Config, cursor string, pages sdk.Pages) error {
	sdk.Logger(ctx).Info("import", "cursor", cursor)
	var orders []sdk.Order
	for i := 1; i <= int(cfg.Int("orders")); i++ {
		id := fmt.Sprint(i)
		orders = append(orders, sdk.Order{ExternalID: id, Number: "#" + id, PlacedAt: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC), Currency: "EUR",
			ShippingAddress: sdk.Address{Country: "DE"}, LineItems: []sdk.LineItem{{Title: "x", Quantity: 1, UnitPrice: "1.00"}}, Totals: sdk.Totals{Total: "1.00"}})
		if len(orders) == 2 {
			if err := pages.Send(orders, id); err != nil {
				return err
			}
			orders = nil
		}
	}
	if len(orders) > 0 {
		return pages.Send(orders, fmt.Sprint(cfg.Int("orders")))
	}
	return nil
}

// serveDebug serves c in debug mode in-process, as `ordergate-connector-x
// -debug` would in its own process, and returns where it listens and a
// function that stops it.
func serveDebug(t *testing.T, c sdk.Connector) (plugin.ReattachConfig, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan plugin.ReattachConfig, 1)
	done := make(chan error, 1)
	go func() { done <- plugin.ServeDebug(ctx, c, func(rc plugin.ReattachConfig) { ready <- rc }) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeDebug: %v", err)
		}
	}
	select {
	case rc := <-ready:
		t.Cleanup(func() {
			if ctx.Err() == nil {
				stop()
			}
		})
		return rc, stop
	case err := <-done:
		t.Fatalf("ServeDebug: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the connector did not listen within 10s")
	}
	return plugin.ReattachConfig{}, nil
}

// TestReattach: a manager given a connector in debug mode (as serve's
// ORDERGATE_REATTACH_CONNECTORS gives it) lists it without a binary,
// attaches to it instead of starting it and calls it; a restart and the
// manager's Close leave the connector serving, and once it has stopped
// the manager says so.
func TestReattach(t *testing.T) {
	rc, stop := serveDebug(t, counter{})
	cfgs, err := plugin.ParseReattach(strings.TrimSuffix(strings.TrimPrefix(rc.EnvLine("counter"), plugin.ReattachEnv+"='"), "'"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := connectors.New(t.TempDir(), map[string]string{"counter": strings.Repeat("00", 32)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reattach(cfgs); err != nil {
		t.Fatal(err)
	}
	if names, err := m.Installed(); err != nil || !slices.Equal(names, []string{"counter"}) {
		t.Fatalf("Installed = %v, %v", names, err)
	}

	ctx := context.Background()
	cfg := sdk.Config{"orders": 5}
	use := func(when string) {
		t.Helper()
		client, desc, err := m.Connector(ctx, "counter")
		if err != nil {
			t.Fatalf("%s: Connector: %v", when, err)
		}
		if desc.Name != "counter" || desc.Version != "0.1.0" || len(desc.Config) != 1 {
			t.Errorf("%s: description %+v", when, desc)
		}
		if detail, err := client.TestConnection(ctx, cfg); err != nil || detail != "5 orders" {
			t.Errorf("%s: TestConnection = %q, %v", when, detail, err)
		}
		var got []string
		err = client.GetOrders(ctx, cfg, "", func(p sdk.Page) error {
			for _, o := range p.Orders {
				got = append(got, o.ExternalID)
			}
			got = append(got, "cursor "+p.Cursor)
			return nil
		})
		want := []string{"1", "2", "cursor 2", "3", "4", "cursor 4", "5", "cursor 5"}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: GetOrders = %v, %v; want %v", when, got, err, want)
		}
		// Configuration errors still come back by kind and field.
		_, err = client.TestConnection(ctx, sdk.Config{})
		var e *sdk.Error
		if !errors.As(err, &e) || e.Kind != sdk.ErrInvalidConfig || len(e.Fields) != 1 || e.Fields[0].Field != "orders" {
			t.Errorf("%s: TestConnection without orders = %v", when, err)
		}
	}
	use("attached")
	m.Restart("counter")
	use("after a restart")
	m.Close()

	m, err = connectors.New(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Reattach(cfgs); err != nil {
		t.Fatal(err)
	}
	use("after the first manager closed")

	stop()
	m.Restart("counter")
	_, _, err = m.Connector(ctx, "counter")
	if host.ErrorCode(err) != host.EUNAVAILABLE || !strings.Contains(err.Error(), "debug mode") {
		t.Errorf("Connector once the debug process stopped = %v, want unavailable, naming debug mode", err)
	}
}

// TestReattachRefuses: a reattach configuration for a protocol version the
// host does not speak, or that is not one, is refused up front.
func TestReattachRefuses(t *testing.T) {
	m, err := connectors.New(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := plugin.ReattachConfig{Protocol: "grpc", ProtocolVersion: plugin.ProtocolVersion, Pid: 1, Test: true, Addr: plugin.ReattachAddr{Network: "unix", String: "/tmp/x"}}
	v9 := good
	v9.ProtocolVersion = 9
	for name, cfgs := range map[string]map[string]plugin.ReattachConfig{
		"protocol version": {"acme": v9},
		"connector name":   {"Acme": good},
		"protocol":         {"acme": {Pid: 1, Addr: good.Addr}},
	} {
		if err := m.Reattach(cfgs); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Reattach(%+v) = %v, want an error about the %s", cfgs, err, name)
		}
	}
}
