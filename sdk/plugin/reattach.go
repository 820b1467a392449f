package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/ordergate/ordergate/sdk"
)

// ReattachEnv is the host's environment variable (serve's
// --reattach-connectors) naming connectors running in debug mode that the
// host attaches to instead of starting their binaries: a JSON object of
// connector name to ReattachConfig, as a connector started with -debug
// prints it. Join the objects of several connectors into one.
const ReattachEnv = "ORDERGATE_REATTACH_CONNECTORS"

// ReattachConfig says where a connector in debug mode listens. It is
// go-plugin's ReattachConfig in a form that JSON can carry (the fields and
// their names are those of Terraform's TF_REATTACH_PROVIDERS).
type ReattachConfig struct {
	// Protocol is go-plugin's protocol, "grpc".
	Protocol string
	// ProtocolVersion is the connector protocol version the connector
	// serves (ProtocolVersion of its SDK).
	ProtocolVersion int
	// Pid is the connector's process: the host watches it to tell when
	// the connector has exited.
	Pid int
	// Test is go-plugin's test mode, always true: the host never stops a
	// process it attached to.
	Test bool
	// Addr is where the connector listens.
	Addr ReattachAddr
}

// ReattachAddr is a network address: Network "unix" and a socket's path,
// or "tcp" and host:port.
type ReattachAddr struct {
	Network string
	String  string
}

func reattachConfigOf(rc *goplugin.ReattachConfig) ReattachConfig {
	return ReattachConfig{
		Protocol:        string(rc.Protocol),
		ProtocolVersion: rc.ProtocolVersion,
		Pid:             rc.Pid,
		Test:            rc.Test,
		Addr:            ReattachAddr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}
}

// EnvLine returns the shell assignment of ReattachEnv that attaches a host
// to this connector under name: ORDERGATE_REATTACH_CONNECTORS='{...}'.
func (r ReattachConfig) EnvLine(name string) string {
	data, _ := json.Marshal(map[string]ReattachConfig{name: r})
	return ReattachEnv + "='" + strings.ReplaceAll(string(data), "'", `'"'"'`) + "'"
}

// GoPlugin returns r as go-plugin's ClientConfig.Reattach takes it, in
// test mode so that the client never kills the process.
func (r ReattachConfig) GoPlugin() (*goplugin.ReattachConfig, error) {
	if r.Protocol != string(goplugin.ProtocolGRPC) {
		return nil, fmt.Errorf("protocol %q is not %q", r.Protocol, goplugin.ProtocolGRPC)
	}
	if r.Pid <= 0 {
		return nil, fmt.Errorf("no pid")
	}
	var addr net.Addr
	var err error
	switch r.Addr.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", r.Addr.String)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", r.Addr.String)
	default:
		return nil, fmt.Errorf("the address's network %q is neither unix nor tcp", r.Addr.Network)
	}
	if err == nil && r.Addr.String == "" {
		err = fmt.Errorf("no address")
	}
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	return &goplugin.ReattachConfig{Protocol: goplugin.ProtocolGRPC, ProtocolVersion: r.ProtocolVersion, Addr: addr, Pid: r.Pid, Test: true}, nil
}

// ParseReattach reads the value of ReattachEnv: a JSON object of connector
// name to ReattachConfig. The empty string is no connectors.
func ParseReattach(s string) (map[string]ReattachConfig, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var cfgs map[string]ReattachConfig
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfgs); err != nil {
		return nil, fmt.Errorf("not a JSON object of connector name to reattach configuration, as a connector started with %s prints it: %w", DebugFlag, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value; join the connectors into one object")
	}
	names := make([]string, 0, len(cfgs))
	for name := range cfgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !sdk.ValidConnectorName(name) {
			return nil, fmt.Errorf("%q is not a connector name", name)
		}
		if _, err := cfgs[name].GoPlugin(); err != nil {
			return nil, fmt.Errorf("connector %s: %w", name, err)
		}
	}
	return cfgs, nil
}
