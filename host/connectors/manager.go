// Package connectors is the plugin host: it finds connector binaries in
// the plugins directory, starts each as its own process with
// hashicorp/go-plugin (gRPC, AutoMTLS, an optional SHA-256 pin), keeps one
// process per connector, restarts one that exited, and stops them all
// with the host. A connector running in debug mode (sdk/plugin's
// ServeDebug, a connector started with -debug) is attached to instead of
// started, and never stopped (see Reattach).
package connectors

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/plugin"
)

// BinaryPrefix starts the file name of every connector binary.
const BinaryPrefix = "ordergate-connector-"

// ChecksumsFile is the default pin file in the plugins directory, in the
// format of sha256sum: "<hex>  ordergate-connector-<name>" per line.
const ChecksumsFile = "SHA256SUMS"

// StartTimeout bounds a connector's start and handshake.
const StartTimeout = 30 * time.Second

// Manager runs connector processes. It is safe for concurrent use.
type Manager struct {
	dir  string
	pins map[string][]byte // connector name -> SHA-256
	log  hclog.Logger

	mu      sync.Mutex
	running map[string]*instance
	// reattach: connector name -> the debug-mode process to attach to
	reattach map[string]*goplugin.ReattachConfig
	closed   bool
	// onRestart, when set, is told of each restart.
	onRestart func(name string)
}

// OnRestart sets a function told of each connector restart (a process
// that exited, or was stopped for not answering); call it before use.
func (m *Manager) OnRestart(fn func(name string)) { m.onRestart = fn }

func (m *Manager) restarted(name string) {
	if m.onRestart != nil {
		m.onRestart(name)
	}
}

// instance is one running connector process.
type instance struct {
	process *goplugin.Client
	rpc     goplugin.ClientProtocol
	client  *plugin.Client
	desc    sdk.Description
	// attached: a debug-mode process the host did not start and never
	// stops
	attached bool
}

// stop ends the process, or only the host's connection to an attached
// one: go-plugin's Close would ask it to shut down.
func (in *instance) stop() {
	if !in.attached {
		in.process.Kill()
		return
	}
	if c, ok := in.rpc.(*goplugin.GRPCClient); ok {
		c.Conn.Close()
	}
}

// New returns a manager of the connectors in dir, pinned by pins (connector
// name -> hex SHA-256; a connector without a pin is not checked).
func New(dir string, pins map[string]string, log hclog.Logger) (*Manager, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	m := &Manager{dir: dir, pins: map[string][]byte{}, log: log.Named("connector"), running: map[string]*instance{}}
	for name, sum := range pins {
		b, err := hex.DecodeString(sum)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("the pin of connector %s is not a hex SHA-256", name)
		}
		m.pins[name] = b
	}
	return m, nil
}

// ReadChecksums reads a sha256sum-format file of connector pins. A missing
// file is no pins.
func ReadChecksums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pins := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  %s<name>\"", path, line, BinaryPrefix)
		}
		name, ok := strings.CutPrefix(filepath.Base(strings.TrimPrefix(fields[1], "*")), BinaryPrefix)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %s is not a connector binary (%s<name>)", path, line, fields[1], BinaryPrefix)
		}
		pins[name] = strings.ToLower(fields[0])
	}
	return pins, sc.Err()
}

// Reattach makes the manager attach to connectors running in debug mode
// (cfgs as plugin.ParseReattach reads serve's --reattach-connectors,
// ORDERGATE_REATTACH_CONNECTORS) instead of starting their binaries. They
// are listed as installed, binary or not, their pins are not checked, and
// Restart and Close leave their processes running. Call it before use.
func (m *Manager) Reattach(cfgs map[string]plugin.ReattachConfig) error {
	reattach := map[string]*goplugin.ReattachConfig{}
	for name, cfg := range cfgs {
		if !sdk.ValidConnectorName(name) {
			return fmt.Errorf("%q is not a connector name", name)
		}
		rc, err := cfg.GoPlugin()
		if err != nil {
			return fmt.Errorf("connector %s: %w", name, err)
		}
		if _, ok := plugin.PluginSets(nil)[rc.ProtocolVersion]; !ok {
			return fmt.Errorf("connector %s serves protocol version %d, which this host does not speak", name, rc.ProtocolVersion)
		}
		reattach[name] = rc
	}
	m.mu.Lock()
	m.reattach = reattach
	m.mu.Unlock()
	return nil
}

// Installed lists the connectors found in the plugins directory and those
// attached to in debug mode.
func (m *Manager) Installed() ([]string, error) {
	m.mu.Lock()
	var names []string
	for name := range m.reattach {
		names = append(names, name)
	}
	m.mu.Unlock()
	entries, err := os.ReadDir(m.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing the plugins directory %s: %w", m.dir, err)
	}
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Name(), BinaryPrefix); ok && !e.IsDir() && sdk.ValidConnectorName(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names), nil
}

// Connector returns a client of the named connector and its description,
// starting its process unless one is running.
func (m *Manager) Connector(ctx context.Context, name string) (*plugin.Client, sdk.Description, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, sdk.Description{}, host.Errorf(host.EUNAVAILABLE, "the host is stopping")
	}
	if in := m.running[name]; in != nil {
		if !in.process.Exited() {
			return in.client, in.desc, nil
		}
		m.log.Warn("connector exited; starting it again", "connector", name)
		delete(m.running, name)
		m.restarted(name)
	}
	in, err := m.start(ctx, name)
	if err != nil {
		return nil, sdk.Description{}, err
	}
	m.running[name] = in
	return in.client, in.desc, nil
}

func (m *Manager) start(ctx context.Context, name string) (*instance, error) {
	if !sdk.ValidConnectorName(name) {
		return nil, host.Errorf(host.EINVALID, "%q is not a connector name", name)
	}
	if rc, ok := m.reattach[name]; ok {
		return m.attach(ctx, name, rc)
	}
	path := filepath.Join(m.dir, BinaryPrefix+name)
	if _, err := os.Stat(path); err != nil {
		return nil, host.Errorf(host.EINVALID, "connector %s is not installed: no %s in %s", name, BinaryPrefix+name, m.dir)
	}
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake,
		VersionedPlugins: plugin.PluginSets(nil),
		Cmd:              exec.Command(path),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           m.log.Named(name),
		GRPCDialOptions:  plugin.GRPCDialOptions(),
		StartTimeout:     StartTimeout,
	}
	if sum, ok := m.pins[name]; ok {
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	in := &instance{process: goplugin.NewClient(cfg)}
	rpc, err := in.process.Client()
	if err != nil {
		in.process.Kill()
		if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			return nil, host.Errorf(host.EFORBIDDEN, "connector %s was refused: %s does not match its pinned SHA-256", name, path)
		}
		return nil, fmt.Errorf("starting connector %s: %w", name, err)
	}
	in.rpc = rpc
	if err := m.describe(ctx, name, path, in); err != nil {
		return nil, err
	}
	m.log.Info("connector started", "connector", name, "version", in.desc.Version, "protocol", in.process.NegotiatedVersion())
	return in, nil
}

// attach connects to the named connector running in debug mode.
func (m *Manager) attach(ctx context.Context, name string, rc *goplugin.ReattachConfig) (*instance, error) {
	in := &instance{attached: true, process: goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: plugin.Handshake,
		// With Reattach, go-plugin negotiates nothing: the set is the
		// one of the version the connector said it serves.
		Plugins:          plugin.PluginSets(nil)[rc.ProtocolVersion],
		Reattach:         rc,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           m.log.Named(name),
		GRPCDialOptions:  plugin.GRPCDialOptions(),
		StartTimeout:     StartTimeout,
	})}
	where := fmt.Sprintf("pid %d, %s %s", rc.Pid, rc.Addr.Network(), rc.Addr.String())
	rpc, err := in.process.Client()
	if err != nil {
		return nil, host.Errorf(host.EUNAVAILABLE, "connector %s runs in debug mode (%s) but cannot be reached: %v; start it again with -debug and the host with the %s it prints", name, where, err, plugin.ReattachEnv)
	}
	in.rpc = rpc
	if err := m.describe(ctx, name, "the process "+where, in); err != nil {
		return nil, err
	}
	if _, pinned := m.pins[name]; pinned {
		m.log.Warn("connector attached in debug mode: its pin is not checked", "connector", name)
	}
	m.log.Warn("connector attached in debug mode (for development only: the host neither started it nor stops it)",
		"connector", name, "version", in.desc.Version, "protocol", rc.ProtocolVersion, "pid", rc.Pid, "address", rc.Addr.String())
	return in, nil
}

// describe dispenses in's client and asks for its description, which
// must name the connector; on failure in is stopped.
func (m *Manager) describe(ctx context.Context, name, what string, in *instance) error {
	raw, err := in.rpc.Dispense(plugin.PluginName)
	if err != nil {
		in.stop()
		return fmt.Errorf("connector %s: %w", name, err)
	}
	in.client = raw.(*plugin.Client)
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	in.desc, err = in.client.Describe(ctx)
	if err != nil {
		in.stop()
		return fmt.Errorf("connector %s: Describe: %w", name, err)
	}
	if in.desc.Name != name {
		in.stop()
		return fmt.Errorf("%s says it is connector %q", what, in.desc.Name)
	}
	return nil
}

// Describe returns the named connector's description, starting its
// process unless one is running.
func (m *Manager) Describe(ctx context.Context, name string) (sdk.Description, error) {
	_, desc, err := m.Connector(ctx, name)
	return desc, err
}

// Restart stops the named connector's process (e.g. after it hung); the
// next call of Connector starts it again.
func (m *Manager) Restart(name string) {
	m.mu.Lock()
	in := m.running[name]
	delete(m.running, name)
	m.mu.Unlock()
	if in != nil {
		if in.attached {
			m.log.Warn("dropping the connection to a connector in debug mode for a restart; its process keeps running", "connector", name)
		} else {
			m.log.Warn("stopping connector for a restart", "connector", name)
		}
		in.stop()
		m.restarted(name)
	}
}

// Close stops every connector process (and leaves those attached to in
// debug mode running).
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	running := m.running
	m.running = map[string]*instance{}
	m.mu.Unlock()
	for _, in := range running {
		in.stop()
	}
}
