package plugin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

type stub struct{}

func (stub) Describe() sdk.Description {
	return sdk.Description{Name: "acme", Version: "1.0.0", Capabilities: []string{sdk.CapabilityGetOrders}}
}
func (stub) TestConnection(context.Context, sdk.Config) (string, error)     { return "acme", nil }
func (stub) GetOrders(context.Context, sdk.Config, string, sdk.Pages) error { return nil }

// TestDebugMode: a connector run by hand serves in debug mode with -debug
// (or --debug) or a true ORDERGATE_CONNECTOR_DEBUG, and refuses other
// arguments and values.
func TestDebugMode(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		env     string
		want    bool
		wantErr bool
	}{
		{nil, "", false, false},
		{[]string{"-debug"}, "", true, false},
		{[]string{"--debug"}, "", true, false},
		{nil, "1", true, false},
		{nil, "true", true, false},
		{nil, "0", false, false},
		{nil, "yes please", false, true},
		{[]string{"-debug", "x"}, "", false, true},
		{[]string{"serve"}, "1", false, true},
	} {
		got, err := debugMode(tc.args, tc.env)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("debugMode(%q, %q) = %v, %v; want %v, error %v", tc.args, tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestServeByHand: run by hand without -debug, a connector says how to
// run it and exits 1; with a bad argument it exits 2.
func TestServeByHand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := serveByHand(stub{}, []string{"/opt/bin/ordergate-connector-acme"}, "", &stdout, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"ordergate-connector-acme is an ordergate connector", "-debug", ReattachEnv} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	stderr.Reset()
	if code := serveByHand(stub{}, []string{"ordergate-connector-acme", "-verbose"}, "", &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: ordergate-connector-acme [-debug]") {
		t.Errorf("exit code %d, stderr %q; want 2 with the usage", code, stderr.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout: %q", stdout.String())
	}
}

// TestReattachConfig: the line a connector in debug mode prints parses
// back (as the host reads ORDERGATE_REATTACH_CONNECTORS) to the same
// configuration, and go-plugin's form is always in test mode, so the host
// never kills the process.
func TestReattachConfig(t *testing.T) {
	rc := ReattachConfig{Protocol: "grpc", ProtocolVersion: 1, Pid: 4242, Test: true, Addr: ReattachAddr{Network: "unix", String: "/tmp/plugin 'x'"}}
	line := rc.EnvLine("acme")
	value, ok := strings.CutPrefix(line, ReattachEnv+"='")
	if !ok || !strings.HasSuffix(value, "'") {
		t.Fatalf("EnvLine = %s", line)
	}
	// The shell's reading of the quoted value.
	value = strings.ReplaceAll(strings.TrimSuffix(value, "'"), `'"'"'`, "'")
	cfgs, err := ParseReattach(value)
	if err != nil || len(cfgs) != 1 || cfgs["acme"] != rc {
		t.Fatalf("ParseReattach(%s) = %v, %v", value, cfgs, err)
	}
	gp, err := ReattachConfig{Protocol: "grpc", ProtocolVersion: 1, Pid: 7, Addr: ReattachAddr{"tcp", "127.0.0.1:1234"}}.GoPlugin()
	if err != nil || !gp.Test || gp.Addr.String() != "127.0.0.1:1234" || gp.Pid != 7 {
		t.Errorf("GoPlugin = %+v, %v", gp, err)
	}

	if cfgs, err := ParseReattach(" "); err != nil || cfgs != nil {
		t.Errorf("ParseReattach of nothing = %v, %v", cfgs, err)
	}
	for value, want := range map[string]string{
		`{"acme": {"Protocol": "grpc"`:  "JSON object",
		`{"acme": {"Protocl": "grpc"}}`: "Protocl",
		`{"Acme": {"Protocol": "grpc", "Pid": 1, "Addr": {"Network": "unix", "String": "/tmp/p"}}}`:        "not a connector name",
		`{"acme": {"Protocol": "netrpc", "Pid": 1, "Addr": {"Network": "unix", "String": "/tmp/p"}}}`:      "protocol",
		`{"acme": {"Protocol": "grpc", "Addr": {"Network": "unix", "String": "/tmp/p"}}}`:                  "pid",
		`{"acme": {"Protocol": "grpc", "Pid": 1, "Addr": {"Network": "udp", "String": "1.2.3.4:5"}}}`:      "network",
		`{"acme": {"Protocol": "grpc", "Pid": 1, "Addr": {"Network": "unix", "String": ""}}}`:              "address",
		`{"a": {"Protocol": "grpc", "Pid": 1, "Addr": {"Network": "unix", "String": "/tmp/p"}}} {"b": {}}`: "one object",
	} {
		if _, err := ParseReattach(value); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseReattach(%s) = %v, want an error about %s", value, err, want)
		}
	}
}

// TestServeDebug: ServeDebug reports where it listens and returns once
// its context ends; a connector with an invalid description is refused.
func TestServeDebug(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan ReattachConfig, 1)
	done := make(chan error, 1)
	go func() { done <- ServeDebug(ctx, stub{}, func(rc ReattachConfig) { got <- rc }) }()
	select {
	case rc := <-got:
		if rc.Protocol != "grpc" || rc.ProtocolVersion != ProtocolVersion || !rc.Test || rc.Pid == 0 || rc.Addr.String == "" {
			t.Errorf("reattach configuration %+v", rc)
		}
	case err := <-done:
		t.Fatalf("ServeDebug returned %v before it listened", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no reattach configuration within 10s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeDebug: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeDebug still serves 10s after its context ended")
	}

	err := ServeDebug(context.Background(), invalid{}, func(ReattachConfig) { t.Error("an invalid connector served") })
	if err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("ServeDebug of an invalid description: %v", err)
	}
}

type invalid struct{ stub }

func (invalid) Describe() sdk.Description { return sdk.Description{Name: "Not A Name"} }
