package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/pgtest"
)

// These tests run the real ordergate binary and the real connectors,
// built once by TestMain.
var bin, pluginDir string

const policies = "../../../policies"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ordergate-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err = e2e.Build(context.Background(), dir)
	if err == nil {
		pluginDir = filepath.Join(dir, "plugins")
		_, err = e2e.BuildConnector(context.Background(), pluginDir, "file")
	}
	if err == nil {
		_, err = e2e.BuildConnector(context.Background(), pluginDir, "shopify")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if pg.srv != nil {
		pg.srv.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestServeTutorial is the README from a newcomer's side, on each store:
// the first start prints an admin key, the tutorial order is held and
// approved over HTTP, SIGTERM stops the host cleanly, and a restart on
// the same store prints no new key and still has the order. The store's
// password reaches neither the log nor the status.
func TestServeTutorial(t *testing.T) { onEachStore(t, testServeTutorial) }

func testServeTutorial(t *testing.T, store []string) {
	ctx := context.Background()
	h := e2e.Start(t, bin, nil, append(store, "--policies", policies)...)
	if h.AdminKey == "" || !strings.HasPrefix(h.AdminKey, "ogk_") {
		t.Fatalf("the first start printed no admin key on the last line of stdout:\n%s", h.Stdout())
	}
	if strings.Contains(h.Logs(), h.AdminKey) {
		t.Error("the admin key reached the log")
	}
	if code, body, err := h.Do(ctx, "GET", "/readyz", "", nil); err != nil || code != 200 {
		t.Fatalf("readyz: %d %s %v", code, body, err)
	}

	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "shopify", "name": "Shopify", "kind": "b2c"}, 201)
	o := tutorialOrder(t)
	created := decode(t, mustDo(t, h, "POST", "/api/v1/orders", h.AdminKey, o, 201))
	id, _ := created["id"].(string)
	if created["status"] != "on_hold" || !slices.Contains(strs(created["tags"]), "Review Needed") {
		t.Fatalf("imported: status %v tags %v, want on_hold with Review Needed", created["status"], created["tags"])
	}
	released := decode(t, mustDo(t, h, "POST", "/api/v1/orders/"+id+"/release", h.AdminKey, map[string]any{"note": "checked"}, 200))
	if released["status"] != "open" {
		t.Fatalf("after release: status %v", released["status"])
	}

	if code, err := h.Stop(30 * time.Second); err != nil || code != 0 {
		t.Fatalf("SIGTERM: exit code %d, %v\n%s", code, err, h.Logs())
	}
	if !strings.Contains(h.Logs(), `"@message":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", h.Logs())
	}

	again := e2e.Start(t, bin, nil, append(store, "--policies", policies)...)
	if again.AdminKey != "" || strings.Contains(again.Stdout(), "ogk_") {
		t.Errorf("a restart printed a key again:\n%s", again.Stdout())
	}
	got := decode(t, mustDo(t, again, "GET", "/api/v1/orders/"+id, h.AdminKey, nil, 200))
	if got["status"] != "open" {
		t.Errorf("after restart the order is %v, want open", got["status"])
	}
	status := mustDo(t, again, "GET", "/api/v1/status", h.AdminKey, nil, 200)
	for what, text := range map[string]string{"the log": h.Logs() + again.Logs(), "stdout": h.Stdout() + again.Stdout(), "the status": string(status)} {
		if strings.Contains(text, pgtest.Password) {
			t.Errorf("the store's password reached %s", what)
		}
	}
}

// TestReloadOnHangup adds a rule and sends SIGHUP: the new revision
// serves. A revision that does not compile is refused on
// SIGHUP and the previous one keeps serving.
func TestReloadOnHangup(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(policies)); err != nil {
		t.Fatal(err)
	}
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", dir, "--watch=false")
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "shopify", "name": "Shopify", "kind": "b2c"}, 201)
	before := decode(t, mustDo(t, h, "GET", "/readyz", "", nil, 200))["revision"]

	writeFile(t, filepath.Join(dir, "workflow", "vip.rego"),
		"package ordergate.workflow.vip\n\ntags contains \"VIP\" if input.order.customer.email == \"ada@example.com\"\n")
	if err := h.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	h.WaitLog(t, `"@message":"policy revision loaded"`, 2, 30*time.Second)
	after := decode(t, mustDo(t, h, "GET", "/readyz", "", nil, 200))["revision"]
	if after == before {
		t.Fatalf("revision %v did not change on SIGHUP", after)
	}
	got := decode(t, mustDo(t, h, "POST", "/api/v1/orders", h.AdminKey, tutorialOrder(t), 201))
	if tags := strs(got["tags"]); !slices.Contains(tags, "VIP") || !slices.Contains(tags, "Review Needed") {
		t.Errorf("after the reload the tutorial order has tags %v, want VIP and Review Needed", tags)
	}

	writeFile(t, filepath.Join(dir, "workflow", "broken.rego"), "package ordergate.workflow.broken\n\ntags contains x if {\n")
	if err := h.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	h.WaitLog(t, "policy reload refused", 1, 30*time.Second)
	if now := decode(t, mustDo(t, h, "GET", "/readyz", "", nil, 200))["revision"]; now != after {
		t.Errorf("revision %v serves after a refused reload, want %v", now, after)
	}
}

// TestEnvironmentFlags checks that ORDERGATE_* variables set serve's flags.
func TestEnvironmentFlags(t *testing.T) {
	data := t.TempDir()
	h := e2e.Start(t, bin, []string{"ORDERGATE_DATA=" + data, "ORDERGATE_POLICIES=" + policies})
	if _, err := os.Stat(filepath.Join(data, "ordergate.db")); err != nil {
		t.Errorf("ORDERGATE_DATA was not used: %v\n%s", err, h.Logs())
	}
}

// TestGCPercent checks which garbage collector target the host sets: 400
// by default, --gc-percent or ORDERGATE_GC_PERCENT when given (even with
// GOGC set), and none of its own when only GOGC is set.
func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		log  string
	}{
		{"default", []string{"GOGC="}, nil, `"gc_percent":400`},
		{"flag over GOGC", []string{"GOGC=50"}, []string{"--gc-percent", "150"}, `"gc_percent":150`},
		{"variable over GOGC", []string{"GOGC=50", "ORDERGATE_GC_PERCENT=250"}, nil, `"gc_percent":250`},
		{"GOGC alone", []string{"GOGC=50"}, nil, `"gogc":"50"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--data", t.TempDir(), "--policies", policies, "--log-level", "debug"}, tc.args...)
			h := e2e.Start(t, bin, tc.env, args...)
			if logs := h.Logs(); !strings.Contains(logs, tc.log) {
				t.Errorf("the log does not say %s:\n%s", tc.log, logs)
			}
		})
	}
}

// TestGracefulShutdown sends SIGTERM while clients are posting orders:
// every order the host acknowledged must be there after a restart.
func TestGracefulShutdown(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	key := h.AdminKey
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "name": "Acme", "kind": "b2b"}, 201)

	var (
		mu    sync.Mutex
		acked = map[string]string{} // external id -> order id
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	// SIGTERM goes out once the host is busy: 100 orders acknowledged.
	busy := make(chan struct{})
	var once sync.Once
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := tutorialOrder(t)
				o["channel_id"] = "acme"
				o["external_id"] = fmt.Sprintf("w%d-%d", w, i)
				code, body, err := h.Do(ctx, "POST", "/api/v1/orders", key, o)
				if err != nil {
					return // the host has closed its listener
				}
				if code == 201 {
					var got map[string]any
					if json.Unmarshal(body, &got) == nil {
						mu.Lock()
						acked[o["external_id"].(string)] = got["id"].(string)
						if len(acked) == 100 {
							once.Do(func() { close(busy) })
						}
						mu.Unlock()
					}
				}
			}
		})
	}
	<-busy
	code, err := h.Stop(30 * time.Second)
	close(stop)
	wg.Wait()
	if err != nil || code != 0 {
		t.Fatalf("SIGTERM under load: exit code %d, %v", code, err)
	}

	again := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	for ext, id := range acked {
		got := decode(t, mustDo(t, again, "GET", "/api/v1/orders/"+id, key, nil, 200))
		if got["external_id"] != ext {
			t.Errorf("order %s: external_id %v, want %s", id, got["external_id"], ext)
		}
	}
	t.Logf("%d orders acknowledged before shutdown, all present after restart", len(acked))
}

// TestKeysCreate creates keys in a stopped host's data directory: the key
// is alone on the last line of stdout and works once the host runs.
func TestKeysCreate(t *testing.T) {
	data := t.TempDir()
	admin := lastLine(t, run(t, 0, "keys", "create", "--role", "admin", "--data", data))
	reseller := lastLine(t, run(t, 0, "keys", "create", "--role", "reseller", "--channel", "acme", "--data", data))
	for _, k := range []string{admin, reseller} {
		if !strings.HasPrefix(k, "ogk_") || strings.ContainsAny(k, " :") {
			t.Fatalf("last line %q is not a key", k)
		}
	}
	out := run(t, 1, "keys", "create", "--role", "owner", "--data", data)
	if !strings.Contains(out, "role") {
		t.Errorf("a bad role should be named in the error: %s", out)
	}

	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	if h.AdminKey != "" {
		t.Error("serve printed a new admin key although one existed")
	}
	mustDo(t, h, "GET", "/api/v1/keys", admin, nil, 200)
	o := tutorialOrder(t)
	delete(o, "channel_id")
	got := decode(t, mustDo(t, h, "POST", "/api/v1/orders", reseller, o, 201))
	if got["channel_id"] != "acme" {
		t.Errorf("a reseller's order went to channel %v, want acme", got["channel_id"])
	}
	mustDo(t, h, "GET", "/api/v1/keys", reseller, nil, 403)
}

// TestPolicyCommands runs `policy test` on the shipped and on a failing
// policy directory, and `policy eval` on the tutorial order.
func TestPolicyCommands(t *testing.T) {
	out := run(t, 0, "policy", "test", policies)
	if !strings.Contains(out, "PASS:") {
		t.Errorf("policy test: %s", out)
	}

	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "workflow", "x.rego"), "package ordergate.workflow.x\n\ntags contains \"A\" if input.order.number == \"1\"\n")
	writeFile(t, filepath.Join(broken, "workflow", "x_test.rego"), "package ordergate.workflow.x_test\n\nimport data.ordergate.workflow.x\n\ntest_a if x.tags[\"B\"] with input as {\"order\": {\"number\": \"1\"}}\n")
	out = run(t, 1, "policy", "test", broken)
	if !strings.Contains(out, "test_a") || !strings.Contains(out, "FAIL") {
		t.Errorf("a failing Rego test should be named: %s", out)
	}

	orderFile := filepath.Join(t.TempDir(), "order.json")
	data, _ := json.Marshal(tutorialOrder(t))
	writeFile(t, orderFile, string(data))
	var d struct {
		Status   string `json:"status"`
		Revision string `json:"revision"`
		Tags     []struct {
			Tag     string `json:"tag"`
			Package string `json:"package"`
		} `json:"tags"`
		Holds []struct {
			Reason string `json:"reason"`
		} `json:"holds"`
	}
	out = run(t, 0, "policy", "eval", "--order", orderFile, "--policies", policies)
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("policy eval printed no JSON decision: %v\n%s", err, out)
	}
	if d.Status != "on_hold" || d.Revision == "" || len(d.Holds) != 1 || d.Holds[0].Reason != "custom_rule" {
		t.Errorf("decision = %+v", d)
	}
	if !slices.ContainsFunc(d.Tags, func(tg struct {
		Tag     string `json:"tag"`
		Package string `json:"package"`
	}) bool {
		return tg.Tag == "Review Needed" && tg.Package != ""
	}) {
		t.Errorf("tags = %+v, want Review Needed with its package", d.Tags)
	}

	// --context gives input.context: here a catalog without V789.
	ctxFile := filepath.Join(t.TempDir(), "context.json")
	writeFile(t, ctxFile, `{"catalog": {"in_use": true}, "line_items": [{"index": 0, "sku": "V789", "quantity": 5, "catalog": null, "managed": false,
		"available": 0, "available_disabled": 0, "sources": []}], "routing_group": null,
		"shipping": {"method": "Standard", "channel_has_mappings": false, "mapped": false, "policy": ""},
		"duplicates": {"enabled": true, "window": "24h", "orders": []}}`)
	out = run(t, 0, "policy", "eval", "--order", orderFile, "--policies", policies, "--context", ctxFile)
	if !strings.Contains(out, `"reason": "not_managed_item"`) || !strings.Contains(out, "V789 is not in the catalog") {
		t.Errorf("policy eval --context: %s", out)
	}

	out = run(t, 1, "policy", "eval", "--policies", policies)
	if !strings.Contains(out, "--order") {
		t.Errorf("missing --order should be named: %s", out)
	}
}

// run runs the binary with args, checks its exit code and returns stdout
// and stderr together. It runs without the ORDERGATE_ variables of the
// test's environment, and is killed after a minute (a command that should
// fail but serves instead fails the test rather than hang it).
func run(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORDERGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("ordergate %v: %v", args, err)
	}
	if code != wantCode {
		t.Fatalf("ordergate %s: exit code %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out)
	}
	return string(out)
}

func mustDo(t *testing.T, h *e2e.Host, method, path, key string, body any, want int) []byte {
	t.Helper()
	code, data, err := h.Do(context.Background(), method, path, key, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: %d, want %d\n%s", method, path, code, want, data)
	}
	return data
}

func tutorialOrder(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../../sdk/testdata/order-1203.json")
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	o["channel_id"] = "shopify"
	return o
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return v
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		if s, ok := s.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func lastLine(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadtest runs `ordergate loadtest` against a real host: single
// orders as fast as 4 clients go, then rate-limited batches; a wrong key
// is an error.
func TestLoadtest(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies)
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	out := run(t, 0, "loadtest", "--url", h.URL, "--key", h.AdminKey, "--channel", "acme", "--duration", "1s", "--concurrency", "4")
	for _, want := range []string{"orders/s accepted", "p99", "201:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out = run(t, 0, "loadtest", "--url", h.URL, "--key", h.AdminKey, "--channel", "acme", "--duration", "1s", "--concurrency", "2", "--batch", "10", "--rate", "100")
	if !strings.Contains(out, "orders:batch") || !strings.Contains(out, "aiming at 100 orders/s") {
		t.Errorf("batch output:\n%s", out)
	}
	page := decode(t, mustDo(t, h, "GET", "/api/v1/orders?channel_id=acme&tag=loadtest&limit=5", h.AdminKey, nil, 200))
	if len(page["orders"].([]any)) == 0 {
		t.Error("no load test order was stored")
	}
	out = run(t, 1, "loadtest", "--url", h.URL, "--key", "ogk_wrong", "--channel", "acme", "--duration", "300ms", "--concurrency", "1")
	if !strings.Contains(out, "401:") || !strings.Contains(out, "no order was accepted") {
		t.Errorf("wrong key output:\n%s", out)
	}
}
