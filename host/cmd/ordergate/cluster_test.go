package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/pgtest"
)

// clusterTTL is the lease TTL of the hosts these tests start: short, so
// that takeovers happen within a test's patience.
const clusterTTL = 3 * time.Second

// startHosts starts n hosts on one PostgreSQL database, one after the
// other (the first creates the admin key), and returns them with the key.
func startHosts(t *testing.T, dsn string, n int, extra ...string) ([]*e2e.Host, string) {
	t.Helper()
	var hosts []*e2e.Host
	key := ""
	for i := range n {
		args := append([]string{"--store", dsn, "--policies", policies, "--plugins", pluginDir, "--lease-ttl", clusterTTL.String()}, extra...)
		h := e2e.Start(t, bin, nil, args...)
		if i == 0 {
			key = h.AdminKey
		} else if h.AdminKey != "" {
			t.Fatalf("host %d printed a new admin key although the store has one", i+1)
		}
		h.AdminKey = key
		hosts = append(hosts, h)
	}
	return hosts, key
}

type member struct {
	ID     string   `json:"id"`
	Self   bool     `json:"self"`
	PID    int      `json:"pid"`
	Leases []string `json:"leases"`
}

func members(t *testing.T, h *e2e.Host) []member {
	t.Helper()
	var list struct{ Hosts []member }
	decodeInto(t, mustDo(t, h, "GET", "/api/v1/hosts", h.AdminKey, nil, 200), &list)
	return list.Hosts
}

// leaseHolder returns the host (of hosts) whose process holds the
// channel's lease, as h sees it, or nil.
func leaseHolder(t *testing.T, h *e2e.Host, hosts []*e2e.Host, channel string) *e2e.Host {
	t.Helper()
	for _, m := range members(t, h) {
		if slices.Contains(m.Leases, channel) {
			for _, x := range hosts {
				if x.PID() == m.PID {
					return x
				}
			}
		}
	}
	return nil
}

// waitForHolder waits until one of among holds the channel's lease, as
// via sees it, and returns it.
func waitForHolder(t *testing.T, via *e2e.Host, among []*e2e.Host, channel string) *e2e.Host {
	t.Helper()
	var holder *e2e.Host
	e2e.Eventually(t, 3*clusterTTL, func() error {
		if holder = leaseHolder(t, via, among, channel); holder == nil {
			return fmt.Errorf("none of %d hosts holds the lease of %s", len(among), channel)
		}
		return nil
	})
	return holder
}

// TestSeveralHosts runs three hosts on one PostgreSQL database: any host
// serves what another wrote, /api/v1/hosts lists them all, one host at a
// time imports a channel, and when the lease holder is killed mid-import
// another host takes the channel within 1.5 TTL and finishes the import
// with every order stored exactly once.
func TestSeveralHosts(t *testing.T) {
	dsn := postgresServer(t).NewDatabase(t)
	hosts, key := startHosts(t, dsn, 3)

	// Intake spread across the hosts; each order reads back on every host.
	mustDo(t, hosts[0], "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)

	// keys create works on the database while the hosts run, and the key
	// works on every host at once.
	reseller := lastLine(t, run(t, 0, "keys", "create", "--role", "reseller", "--channel", "acme", "--store", dsn))
	o := tutorialOrder(t)
	delete(o, "channel_id")
	o["external_id"] = "from-a-new-key"
	mustDo(t, hosts[2], "POST", "/api/v1/orders", reseller, o, 201)
	// Backups are the database's own: the command says so.
	if out := run(t, 1, "backup", "--url", hosts[1].URL, "--key", key, "--out", filepath.Join(t.TempDir(), "b.db")); !strings.Contains(out, "PostgreSQL") || !strings.Contains(out, "pg_dump") {
		t.Errorf("ordergate backup against a PostgreSQL host said:\n%s", out)
	}

	for i := range 9 {
		o := tutorialOrder(t)
		o["channel_id"], o["external_id"] = "acme", fmt.Sprintf("spread-%d", i)
		o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d Elm St", i), "city": "Austin", "country": "US"}
		created := decode(t, mustDo(t, hosts[i%3], "POST", "/api/v1/orders", key, o, 201))
		for _, other := range hosts {
			got := decode(t, mustDo(t, other, "GET", "/api/v1/orders/"+created["id"].(string), key, nil, 200))
			if got["external_id"] != o["external_id"] {
				t.Fatalf("host %d reads %v for the order host %d stored", other.PID(), got["external_id"], hosts[i%3].PID())
			}
		}
	}

	e2e.Eventually(t, 3*clusterTTL, func() error {
		list := members(t, hosts[1])
		if len(list) != 3 {
			return fmt.Errorf("%d hosts listed, want 3: %+v", len(list), list)
		}
		selves := 0
		for _, m := range list {
			if m.Self {
				selves++
				if m.PID != hosts[1].PID() {
					return fmt.Errorf("self is pid %d, want %d", m.PID, hosts[1].PID())
				}
			}
		}
		if selves != 1 {
			return fmt.Errorf("%d hosts marked self", selves)
		}
		return nil
	})

	// A channel imported by one host at a time; kill its holder mid-import.
	folder := t.TempDir()
	const files, perFile = 40, 250
	writeOrderFiles(t, folder, files, perFile)
	fileChannel(t, hosts[0], "shop", folder, map[string]any{"page_size": 50})
	holder := waitForHolder(t, hosts[0], hosts, "shop")
	e2e.Eventually(t, 60*time.Second, func() error {
		if n := len(channelOrders(t, hosts[0], "shop")); n < 1000 {
			return fmt.Errorf("%d orders imported", n)
		}
		return nil
	})
	holder.Kill()
	killedAt := time.Now()
	var alive []*e2e.Host
	for _, h := range hosts {
		if h != holder {
			alive = append(alive, h)
		}
	}
	next := waitForHolder(t, alive[0], alive, "shop")
	took := time.Since(killedAt)
	t.Logf("the lease moved from pid %d to pid %d %s after the kill", holder.PID(), next.PID(), took.Round(10*time.Millisecond))
	if took > 3*clusterTTL/2+clusterTTL/3 { // 1.5 TTL, and the poll of this test
		t.Errorf("the takeover took %s, more than 1.5 × the %s TTL", took, clusterTTL)
	}
	e2e.Eventually(t, 120*time.Second, func() error {
		if n := len(channelOrders(t, alive[0], "shop")); n != files*perFile {
			return fmt.Errorf("%d of %d orders stored", n, files*perFile)
		}
		return nil
	})
	seen := map[string]bool{}
	for _, o := range channelOrders(t, alive[1], "shop") {
		id := o["external_id"].(string)
		if seen[id] {
			t.Errorf("order %s stored twice", id)
		}
		seen[id] = true
	}
	// The killed holder's run was closed by the host that took over.
	e2e.Eventually(t, 10*time.Second, func() error {
		for _, r := range runsOf(t, next, "shop") {
			if r["status"] == "running" {
				at, _ := time.Parse(time.RFC3339Nano, r["started_at"].(string))
				if at.Before(killedAt) {
					return fmt.Errorf("run %s of the killed host is still running", r["id"])
				}
			}
		}
		return nil
	})
}

// TestFencedAfterPause pauses the lease holder (SIGSTOP) past its lease:
// another host takes the channel, and the paused host, resumed, commits
// nothing more: its run counts what it had committed before the pause.
func TestFencedAfterPause(t *testing.T) {
	hosts, _ := startHosts(t, postgresServer(t).NewDatabase(t), 2)
	folder := t.TempDir()
	const files, perFile = 60, 250
	writeOrderFiles(t, folder, files, perFile)
	fileChannel(t, hosts[0], "shop", folder, map[string]any{"page_size": 25})
	holder := waitForHolder(t, hosts[0], hosts, "shop")
	other := hosts[0]
	if other == holder {
		other = hosts[1]
	}
	e2e.Eventually(t, 60*time.Second, func() error {
		if n := len(channelOrders(t, other, "shop")); n < 500 {
			return fmt.Errorf("%d orders imported", n)
		}
		return nil
	})
	if err := holder.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := true
	defer func() {
		if paused {
			holder.Signal(syscall.SIGCONT)
		}
	}()
	// The paused host's run, as it stands: it cannot change while paused
	// unless a page it sent before the pause commits.
	e2e.Eventually(t, 3*clusterTTL, func() error {
		if leaseHolder(t, other, hosts, "shop") != other {
			return fmt.Errorf("the other host does not hold the lease yet")
		}
		return nil
	})
	pausedRun := func() map[string]any {
		for _, r := range runsOf(t, other, "shop") {
			if r["trigger"] == "schedule" && (r["status"] == "running" || r["status"] == "interrupted") && r["imported"].(float64) > 0 {
				return r
			}
		}
		return nil
	}
	before := pausedRun()
	if before == nil {
		t.Fatalf("no run of the paused host: %v", runsOf(t, other, "shop"))
	}
	if err := holder.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	paused = false
	e2e.Eventually(t, 120*time.Second, func() error {
		if n := len(channelOrders(t, other, "shop")); n != files*perFile {
			return fmt.Errorf("%d of %d orders stored", n, files*perFile)
		}
		return nil
	})
	holder.WaitLog(t, "stopped importing a channel", 1, 3*clusterTTL)
	for _, r := range runsOf(t, other, "shop") {
		if r["id"] == before["id"] {
			if r["imported"] != before["imported"] || r["cursor_after"] != before["cursor_after"] {
				t.Errorf("the paused host committed after it lost its lease: run was %v, is %v", before, r)
			}
			if r["status"] != "interrupted" {
				t.Errorf("the paused host's run is %v, want interrupted", r["status"])
			}
		}
	}
}

func decodeInto(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

// TestDatabaseRestart stops PostgreSQL under intake load and starts it
// again: while it is down, intake answers 503 problem+json with
// Retry-After within 10 seconds and /readyz is not ready; once it is
// back, the host serves again within 30 seconds without a restart, and
// every order it acknowledged is stored.
func TestDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	hosts, key := startHosts(t, srv.NewDatabase(t), 1)
	h := hosts[0]
	mustDo(t, h, "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)

	var mu sync.Mutex
	acked := map[string]string{} // external id -> order id
	answers := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := tutorialOrder(t)
				ext := fmt.Sprintf("w%d-%d", w, i)
				o["channel_id"], o["external_id"] = "acme", ext
				o["shipping_address"] = map[string]any{"address1": ext + " Oak St", "city": "Austin", "country": "US"}
				reqCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				code, body, err := h.Do(reqCtx, "POST", "/api/v1/orders", key, o)
				cancel()
				mu.Lock()
				if err != nil {
					answers[-1]++
				} else {
					answers[code]++
				}
				if code == 201 {
					var got map[string]any
					json.Unmarshal(body, &got)
					acked[ext] = got["id"].(string)
				}
				mu.Unlock()
				if code == 503 {
					time.Sleep(50 * time.Millisecond) // as Retry-After asks, but sooner
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	e2e.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 50 {
			return fmt.Errorf("%d orders acknowledged", len(acked))
		}
		return nil
	})

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	o := tutorialOrder(t)
	o["channel_id"], o["external_id"] = "acme", "while-down"
	start := time.Now()
	code, body, err := h.Do(ctx, "POST", "/api/v1/orders", key, o)
	if took := time.Since(start); err != nil || code != 503 || took > 10*time.Second {
		t.Fatalf("intake while the database is down: %d %s %v after %s, want 503 within 10s", code, body, err, took)
	}
	var problem map[string]any
	if json.Unmarshal(body, &problem) != nil || problem["status"] != float64(503) {
		t.Errorf("not a problem document: %s", body)
	}
	if code, _, _ := h.Do(ctx, "GET", "/readyz", "", nil); code == 200 {
		t.Error("/readyz is 200 while the database is down")
	}
	retry := ""
	e2e.Eventually(t, 10*time.Second, func() error {
		req, _ := http.NewRequest("POST", h.URL+"/api/v1/orders", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if retry = res.Header.Get("Retry-After"); res.StatusCode != 503 || retry == "" {
			return fmt.Errorf("%s, Retry-After %q", res.Status, retry)
		}
		return nil
	})

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	e2e.Eventually(t, 30*time.Second, func() error {
		if code, body, err := h.Do(ctx, "GET", "/readyz", "", nil); err != nil || code != 200 {
			return fmt.Errorf("readyz %d %s %v", code, body, err)
		}
		mu.Lock()
		defer mu.Unlock()
		answers[201] = 0
		return nil
	})
	e2e.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if answers[201] < 20 {
			return fmt.Errorf("%d orders acknowledged since the database came back", answers[201])
		}
		return nil
	})
	t.Logf("serving again %s after the database came back", time.Since(back).Round(10*time.Millisecond))
	close(stop)
	wg.Wait()
	stop = make(chan struct{})
	mu.Lock()
	defer mu.Unlock()
	for ext, id := range acked {
		got := decode(t, mustDo(t, h, "GET", "/api/v1/orders/"+id, key, nil, 200))
		if got["external_id"] != ext {
			t.Errorf("acknowledged order %s reads as %v", id, got["external_id"])
		}
	}
	t.Logf("%d orders acknowledged, all stored; answers: %v", len(acked), answers)
}

// TestAlertsOnceAcrossHosts: alerts raised on three hosts sharing one
// database each reach the receiver once, with one host killed and another
// started between two rounds of alerts: the hosts claim deliveries from
// the shared outbox one at a time. (A host killed while it sends may have
// sent a delivery it had no time to record: another host sends it again
// once the claim runs out, at least once, as docs/operations.md says.)
func TestAlertsOnceAcrossHosts(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p alerts.Payload
		json.Unmarshal(body, &p)
		mu.Lock()
		got[p.ID]++
		mu.Unlock()
	}))
	defer rcv.Close()
	dsn := postgresServer(t).NewDatabase(t)
	hosts, key := startHosts(t, dsn, 3)
	mustDo(t, hosts[0], "POST", "/api/v1/channels", key, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	mustDo(t, hosts[0], "POST", "/api/v1/alert-destinations", key, map[string]any{"name": "sales", "kind": "webhook", "url": rcv.URL, "secret": "whsec_test"}, 201)
	const n = 60
	post := func(i int) {
		o := tutorialOrder(t)
		o["channel_id"], o["external_id"] = "acme", fmt.Sprintf("big-%d", i)
		o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d Main St", i), "city": "Austin", "country": "US"}
		o["totals"] = map[string]any{"total": "2500.00"}
		mustDo(t, hosts[i%len(hosts)], "POST", "/api/v1/orders", key, o, 201)
	}
	received := func(want int) {
		e2e.Eventually(t, 60*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(got) != want {
				return fmt.Errorf("%d of %d alerts received", len(got), want)
			}
			return nil
		})
	}
	for i := range n / 2 {
		post(i)
	}
	received(n / 2)
	hosts[2].Kill()
	hosts = hosts[:2]
	more, _ := startHosts(t, dsn, 1)
	more[0].AdminKey = key
	hosts = append(hosts, more[0])
	for i := n / 2; i < n; i++ {
		post(i)
	}
	received(n)
	mu.Lock()
	defer mu.Unlock()
	for id, times := range got {
		if times != 1 {
			t.Errorf("alert %s received %d times", id, times)
		}
	}
}
