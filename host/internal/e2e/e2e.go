// Package e2e runs the real ordergate binary for end-to-end tests: it
// builds it once, starts `ordergate serve` on a loopback port chosen by the
// kernel, and waits for the host to say it serves before a test talks to
// it. Tests of the CLI, the connectors and crash safety share it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/secrets"
)

// StartTimeout bounds how long Start waits for the host to serve. It is a
// deadline for a condition, not a sleep: a healthy host is up in well
// under a second.
const StartTimeout = 60 * time.Second

// Build compiles the ordergate command into dir and returns the binary's
// path. Call it once from TestMain.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "ordergate")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ordergate/ordergate/host/cmd/ordergate")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building ordergate: %w", err)
	}
	return bin, nil
}

// Host is one running `ordergate serve` process.
type Host struct {
	URL string
	// AdminKey is the key the first start printed, empty when the data
	// directory already had keys.
	AdminKey string

	cmd *exec.Cmd
	// stdout is a file the host writes to directly: what it printed before
	// it logged a line is in the file once the line is read. (Through a
	// pipe copied by a goroutine, stdout could lag the log.)
	stdout *os.File
	logs   *lockedBuffer
	exited chan struct{}
	err    error // the process's exit error, once exited is closed
}

// TestSecretKey is the secret key hosts started by Start have.
const TestSecretKey = "b3JkZXJnYXRlIHRlc3Qgc2VjcmV0IGtleSwgMzIgYnk="

// OpenStore opens a store in a new temporary directory, with
// TestSecretKey sealing its secrets, for tests that run the host's parts
// in their own process. It is closed when the test ends, after the
// cleanups registered later.
func OpenStore(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secrets.Load("", TestSecretKey)
	if err == nil {
		err = db.UseSecrets(context.Background(), box)
	}
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Start runs `bin serve` with args plus a kernel-chosen loopback address
// and JSON logs, and returns once the host serves. The process is stopped
// when the test ends if the test has not stopped it.
func Start(t testing.TB, bin string, env []string, args ...string) *Host {
	t.Helper()
	stdout, err := os.CreateTemp(t.TempDir(), "stdout-")
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{stdout: stdout, logs: &lockedBuffer{}, exited: make(chan struct{})}
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	h.cmd = exec.Command(bin, args...)
	// A secret key, so tests can store channel and destination secrets;
	// env may override it.
	h.cmd.Env = append(append(os.Environ(), "ORDERGATE_SECRET_KEY="+TestSecretKey), env...)
	h.cmd.Stdout = h.stdout
	t.Cleanup(func() { h.stdout.Close() })
	stderr, err := h.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	serving := make(chan string, 1)
	go h.readLogs(stderr, serving)
	go func() {
		h.err = h.cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() {
		_ = h.cmd.Process.Kill()
		<-h.exited
		if t.Failed() {
			t.Logf("host stdout:\n%s\nhost log:\n%s", h.Stdout(), h.logs.String())
		}
	})

	select {
	case addr := <-serving:
		h.URL = "http://" + addr
	case <-h.exited:
		t.Fatalf("ordergate exited before serving (%v)\nstdout:\n%s\nlog:\n%s", h.err, h.Stdout(), h.logs.String())
	case <-time.After(StartTimeout):
		t.Fatalf("ordergate did not serve within %s\nlog:\n%s", StartTimeout, h.logs.String())
	}
	// The first-start message ends with the key alone on its line; it is
	// written before the host serves.
	if out := strings.TrimSpace(h.Stdout()); strings.Contains(out, "admin key") {
		lines := strings.Split(out, "\n")
		h.AdminKey = strings.TrimSpace(lines[len(lines)-1])
	}
	return h
}

// readLogs keeps every log line and reports the address of the
// "ordergate serving" line.
func (h *Host) readLogs(r io.Reader, serving chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		h.logs.Write(append(line, '\n'))
		var entry struct {
			Message string `json:"@message"`
			Addr    string `json:"addr"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Message == "ordergate serving" {
			select {
			case serving <- entry.Addr:
			default:
			}
		}
	}
}

// Stdout is everything the host printed on stdout so far.
func (h *Host) Stdout() string {
	data, err := os.ReadFile(h.stdout.Name())
	if err != nil {
		return fmt.Sprintf("(reading the host's stdout: %v)", err)
	}
	return string(data)
}

// Logs is every log line so far.
func (h *Host) Logs() string { return h.logs.String() }

// Signal sends sig to the host process.
func (h *Host) Signal(sig os.Signal) error { return h.cmd.Process.Signal(sig) }

// Kill ends the host with SIGKILL, as a crash would, and waits for it.
func (h *Host) Kill() {
	_ = h.cmd.Process.Kill()
	<-h.exited
}

// Stop sends SIGTERM and returns the exit code once the process is gone,
// or an error when it does not exit within timeout.
func (h *Host) Stop(timeout time.Duration) (int, error) {
	if err := h.Signal(syscall.SIGTERM); err != nil {
		return -1, err
	}
	select {
	case <-h.exited:
		return h.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return -1, fmt.Errorf("ordergate did not exit within %s of SIGTERM", timeout)
	}
}

// Do sends one request with the key as bearer token and returns the status
// and body. body may be nil, a []byte or a value encoded as JSON.
func (h *Host) Do(ctx context.Context, method, path, key string, body any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// WaitLog waits until the log contains s at least n times, or fails the
// test after timeout.
func (h *Host) WaitLog(t testing.TB, s string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		text, changed := h.logs.snapshot()
		if strings.Count(text, s) >= n {
			return
		}
		select {
		case <-changed:
		case <-h.exited:
			t.Fatalf("ordergate exited (%v) before logging %q\n%s", h.err, s, h.logs.String())
		case <-deadline:
			t.Fatalf("ordergate did not log %q within %s\n%s", s, timeout, h.logs.String())
		}
	}
}

// lockedBuffer is a buffer safe for one writer and many readers; readers
// can wait for the next write.
type lockedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// snapshot returns the text so far and a channel closed by the next write.
func (b *lockedBuffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.buf.String(), b.changed
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// BuildConnector compiles the connector in plugins/<name> into
// dir/ordergate-connector-<name> and returns the binary's path.
func BuildConnector(ctx context.Context, dir, name string) (string, error) {
	bin := filepath.Join(dir, "ordergate-connector-"+name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ordergate/ordergate/plugins/"+name)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building connector %s: %w", name, err)
	}
	return bin, nil
}

// PID is the host process's id.
func (h *Host) PID() int { return h.cmd.Process.Pid }

// Children returns the ids of the live processes whose parent is pid and
// whose command name contains name (Linux /proc).
func Children(pid int, name string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, comm, ok := procStat(child); ok && ppid == pid && strings.Contains(comm, name) {
			out = append(out, child)
		}
	}
	return out
}

// Alive reports whether process pid exists and is not a zombie.
func Alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

// procStat reads a process's parent id and command name.
func procStat(pid int) (ppid int, comm string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, "", false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return ppid, s[open+1 : end], err == nil
}

// Eventually calls check until it returns nil, or fails the test with its
// last error after timeout. It waits for a condition; it is not a sleep.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
