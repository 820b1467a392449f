// Package connectors is the plugin host: it finds connector binaries in
// the plugins directory, starts each as its own process with
// hashicorp/go-plugin (gRPC, AutoMTLS, an optional SHA-256 pin), keeps one
// process per connector, restarts one that exited, and stops them all
// with the host.
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
	closed  bool
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
	client  *plugin.Client
	desc    sdk.Description
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

// Installed lists the connectors found in the plugins directory.
func (m *Manager) Installed() ([]string, error) {
	entries, err := os.ReadDir(m.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the plugins directory %s: %w", m.dir, err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Name(), BinaryPrefix); ok && !e.IsDir() && sdk.ValidConnectorName(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
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
	process := goplugin.NewClient(cfg)
	rpc, err := process.Client()
	if err != nil {
		process.Kill()
		if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			return nil, host.Errorf(host.EFORBIDDEN, "connector %s was refused: %s does not match its pinned SHA-256", name, path)
		}
		return nil, fmt.Errorf("starting connector %s: %w", name, err)
	}
	raw, err := rpc.Dispense(plugin.PluginName)
	if err != nil {
		process.Kill()
		return nil, fmt.Errorf("connector %s: %w", name, err)
	}
	client := raw.(*plugin.Client)
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	desc, err := client.Describe(ctx)
	if err != nil {
		process.Kill()
		return nil, fmt.Errorf("connector %s: Describe: %w", name, err)
	}
	if desc.Name != name {
		process.Kill()
		return nil, fmt.Errorf("%s says it is connector %q", path, desc.Name)
	}
	m.log.Info("connector started", "connector", name, "version", desc.Version, "protocol", process.NegotiatedVersion())
	return &instance{process: process, client: client, desc: desc}, nil
}

// Restart stops the named connector's process (e.g. after it hung); the
// next call of Connector starts it again.
func (m *Manager) Restart(name string) {
	m.mu.Lock()
	in := m.running[name]
	delete(m.running, name)
	m.mu.Unlock()
	if in != nil {
		m.log.Warn("stopping connector for a restart", "connector", name)
		in.process.Kill()
		m.restarted(name)
	}
}

// Close stops every connector process.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	running := m.running
	m.running = map[string]*instance{}
	m.mu.Unlock()
	for _, in := range running {
		in.process.Kill()
	}
}
