package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// syncBuffer collects a process's output for a test to read while the
// process writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestConnectorDebugMode is a vendor's debugging session: the real file
// connector started by hand with -debug (as under dlv) prints the
// ORDERGATE_REATTACH_CONNECTORS line; the real host started with it, and
// with no connector binary at all, attaches to that process, tests and
// imports a channel through it, and leaves it running when it stops. The
// connector logs on its own terminal, and exits on SIGTERM.
func TestConnectorDebugMode(t *testing.T) {
	cmd := exec.Command(filepath.Join(pluginDir, "ordergate-connector-file"), "-debug")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("connector stderr:\n%s", stderr.String())
		}
	})

	lines := make(chan string, 1)
	var printed syncBuffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(&printed, sc.Text())
			if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "ORDERGATE_REATTACH_CONNECTORS=") {
				lines <- line
			}
		}
	}()
	var line string
	select {
	case line = <-lines:
	case err := <-exited:
		t.Fatalf("the connector exited (%v) before printing its reattach line:\n%s", err, printed.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no reattach line within 30s:\n%s", printed.String())
	}
	value := strings.TrimSuffix(strings.TrimPrefix(line, "ORDERGATE_REATTACH_CONNECTORS='"), "'")
	var cfgs map[string]struct{ Pid int }
	if err := json.Unmarshal([]byte(value), &cfgs); err != nil || cfgs["file"].Pid != cmd.Process.Pid {
		t.Fatalf("reattach line %s: %v (the connector is pid %d)", line, err, cmd.Process.Pid)
	}

	h := e2e.Start(t, bin, []string{"ORDERGATE_REATTACH_CONNECTORS=" + value},
		"--data", t.TempDir(), "--policies", policies, "--plugins", t.TempDir())
	list := decode(t, mustDo(t, h, "GET", "/api/v1/connectors", h.AdminKey, nil, 200))
	var names []string
	for _, c := range list["connectors"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"file"}) {
		t.Fatalf("connectors = %v, want the attached file connector alone", names)
	}
	h.WaitLog(t, "connector attached in debug mode", 1, 10*time.Second)

	folder := t.TempDir()
	fileChannel(t, h, "shop", folder, nil)
	test := decode(t, mustDo(t, h, "POST", "/api/v1/channels/shop/test", h.AdminKey, nil, 200))
	if test["ok"] != true || !strings.Contains(test["detail"].(string), folder) {
		t.Errorf("connection test = %v", test)
	}
	dropTutorialOrder(t, folder, "orders-1.json")
	e2e.Eventually(t, 30*time.Second, func() error {
		if n := len(channelOrders(t, h, "shop")); n != 1 {
			return fmt.Errorf("%d orders imported, want 1", n)
		}
		return nil
	})
	// The connector's log is on its own stderr, as text.
	e2e.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(stderr.String(), "[DEBUG] connector.file: file sent") {
			return fmt.Errorf("the connector's stderr lacks its log line")
		}
		return nil
	})

	if code, err := h.Stop(30 * time.Second); err != nil || code != 0 {
		t.Fatalf("host stop: exit %d, %v", code, err)
	}
	select {
	case err := <-exited:
		t.Fatalf("the connector exited (%v) with the host that attached to it", err)
	case <-time.After(time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the connector ended by SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the connector still runs 10s after SIGTERM")
	}
}
