package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/api"
	"github.com/ordergate/ordergate/host/app"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/policy"
)

const shippedPolicies = "../../policies"

// testHost is a real host on loopback: the gin API over a bbolt file in a
// temp dir, deciding with a real policy directory.
type testHost struct {
	t      testing.TB
	url    string
	db     *bolt.DB   // the store, when it is bbolt
	store  host.Store // the store
	engine *policy.Engine
	app    *app.App
	admin  string
}

func newTestHost(t testing.TB, policies string) *testHost {
	t.Helper()
	return newTestHostWith(t, policies, time.Second)
}

// newTestHostWith is newTestHost with an evaluation budget: a host built
// by the composition root, as serve builds one, on a store of its own.
func newTestHostWith(t testing.TB, policies string, evalTimeout time.Duration) *testHost {
	t.Helper()
	db := e2e.OpenStore(t)
	h := newTestHostOn(t, db, db.Backup, policies, evalTimeout)
	h.db = db
	return h
}

// newTestHostOn is a host on the given store; it creates the admin key
// when the store has none.
func newTestHostOn(t testing.TB, store host.Store, backup func(io.Writer) (int64, error), policies string, evalTimeout time.Duration) *testHost {
	t.Helper()
	h, stop := startApp(t, store, backup, policies, evalTimeout)
	t.Cleanup(stop)
	_, admin, err := h.app.Keys.Create(host.WithActor(context.Background(), host.System), host.RoleAdmin, "", "test admin")
	if err != nil {
		t.Fatal(err)
	}
	h.admin = admin
	return h
}

// startApp builds a host on the store with the composition root, as
// serve builds one, runs it and serves its API on loopback; stop stops
// it and waits for it (the store stays open).
func startApp(t testing.TB, store host.Store, backup func(io.Writer) (int64, error), policies string, evalTimeout time.Duration) (h *testHost, stop func()) {
	t.Helper()
	a, err := app.New(context.Background(), app.Config{
		Store: store, Backup: backup, Policies: policies, EvalTimeout: evalTimeout, Plugins: t.TempDir(), Version: "test",
		API:      api.Config{BodyLimit: 64 << 10, BatchBodyLimit: 4 << 20},
		Importer: importer.Config{Tick: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	ts := httptest.NewServer(a.Handler())
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
			a.Close()
			ts.Close()
		}
	}
	return &testHost{t: t, url: ts.URL, store: store, engine: a.Engine, app: a}, stop
}

// copyPolicies copies the shipped policies into a temp dir a test may edit.
func copyPolicies(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(shippedPolicies, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(shippedPolicies, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (h *testHost) do(method, path, key string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func (h *testHost) expect(r response, status int) response {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// order returns the #1203 fixture as a map a test may change.
func order(t *testing.T, changes map[string]any) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "order-1203.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func (h *testHost) createChannel(id, kind string) {
	h.t.Helper()
	h.expect(h.do("POST", "/api/v1/channels", h.admin, map[string]any{"id": id, "kind": kind}), http.StatusCreated)
}

func (h *testHost) resellerKey(channel string) string {
	h.t.Helper()
	r := h.expect(h.do("POST", "/api/v1/keys", h.admin, map[string]any{"role": "reseller", "channel_id": channel}), http.StatusCreated)
	return r.json(h.t)["secret"].(string)
}

func (h *testHost) countOrders() int {
	h.t.Helper()
	page, _, err := h.db.ListOrders(context.Background(), host.OrderFilter{Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(page)
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
