package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bbolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/e2e"
)

// crashKills is how many times TestCrashDuringIntake kills the host;
// ORDERGATE_CRASH_KILLS sets another number (make test-crash runs more).
func crashKills(t *testing.T, fallback int) int {
	if v := os.Getenv("ORDERGATE_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ORDERGATE_CRASH_KILLS=%q is not a positive number", v)
		}
		return n
	}
	return fallback
}

// crashSeed returns the seed of a crash test's random kill moments,
// logged so a failing run can be repeated with ORDERGATE_CRASH_SEED.
func crashSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ORDERGATE_CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("ORDERGATE_CRASH_SEED=%q: %v", v, err)
		}
	}
	t.Logf("seed %d (repeat with ORDERGATE_CRASH_SEED=%d)", seed, seed)
	return seed
}

// TestCrashDuringIntake kills the real host with SIGKILL at random moments
// while 16 clients post orders, and after every kill checks that
//
//   - the database file passes bbolt's consistency check;
//   - the host starts on it;
//   - every order that got a 201 is there, and its JSON is byte for byte
//     the 201's body;
//   - every order whose request was cut off by the kill is either wholly
//     there (record and index: found by its external id) or not at all;
//   - nothing else is there.
func TestCrashDuringIntake(t *testing.T) { onEachStore(t, testCrashDuringIntake) }

func testCrashDuringIntake(t *testing.T, store []string) {
	kills := crashKills(t, 20)
	rng := rand.New(rand.NewPCG(crashSeed(t), 1))
	ctx := context.Background()

	h := e2e.Start(t, bin, nil, append(store, "--policies", policies)...)
	admin := h.AdminKey
	mustDo(t, h, "POST", "/api/v1/channels", admin, map[string]any{"id": "shop", "kind": "b2b"}, 201)
	template := tutorialOrder(t)
	template["channel_id"] = "shop"

	acked := map[string][]byte{}  // external id -> the 201 body
	inFlight := map[string]bool{} // external ids cut off by a kill
	var settled, lostInFlight int // in-flight orders found stored, and not
	for round := range kills {
		// Post until the kill, from 16 clients.
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for c := range 16 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					ext := fmt.Sprintf("r%d-c%d-%d", round, c, n)
					o := maps.Clone(template)
					o["external_id"], o["number"] = ext, "#"+ext
					o["shipping_address"] = map[string]any{"address1": ext + " Main St", "city": "Austin", "country": "US"}
					code, body, err := h.Do(ctx, "POST", "/api/v1/orders", admin, o)
					mu.Lock()
					switch {
					case err == nil && code == 201:
						acked[ext] = bytes.TrimSpace(body)
					case err == nil:
						mu.Unlock()
						t.Errorf("POST %s: %d %s", ext, code, body)
						return
					default: // the connection died with the host
						inFlight[ext] = true
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(50+rng.IntN(450)) * time.Millisecond) // a random moment to crash at
		h.Kill()
		close(stop)
		wg.Wait()
		if t.Failed() {
			return
		}

		if store[0] == "--data" {
			checkBoltFile(t, filepath.Join(store[1], bolt.FileName))
		}
		h = e2e.Start(t, bin, nil, append(store, "--policies", policies)...)
		stored := storedOrders(t, h, admin)
		for ext, body := range acked {
			got, ok := stored[ext]
			if !ok {
				t.Fatalf("after kill %d: acknowledged order %s is missing", round+1, ext)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("after kill %d: order %s is\n%s\nbut was acknowledged as\n%s", round+1, ext, got, body)
			}
		}
		for ext := range inFlight {
			code, body, err := h.Do(ctx, "GET", "/api/v1/orders?external_id="+ext, admin, nil)
			if err != nil || code != 200 {
				t.Fatalf("GET by external id %s: %d %s %v", ext, code, body, err)
			}
			var page struct {
				Orders []json.RawMessage `json:"orders"`
			}
			json.Unmarshal(body, &page)
			_, isStored := stored[ext]
			if isStored != (len(page.Orders) == 1) || len(page.Orders) > 1 {
				t.Fatalf("in-flight order %s half stored: in the list %v, found by external id %d times", ext, isStored, len(page.Orders))
			}
			if isStored {
				settled++
				acked[ext] = stored[ext] // it is durable now: later rounds check it too
			} else {
				lostInFlight++
			}
			delete(inFlight, ext)
		}
		if len(stored) != len(acked) {
			t.Fatalf("after kill %d: %d orders stored, %d acknowledged or settled", round+1, len(stored), len(acked))
		}
	}
	t.Logf("%d kills; %d orders stored and checked byte for byte after every kill; of the requests cut off by a kill, %d were stored whole and %d not at all",
		kills, len(acked), settled, lostInFlight)
}

// checkBoltFile opens a database file the way bbolt does and runs its
// consistency check (page references, freelist, key order).
func checkBoltFile(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("opening %s after a kill: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt check of %s after a kill: %v", path, err)
	}
}

// storedOrders pages through every order and returns each one's JSON by
// external id.
func storedOrders(t *testing.T, h *e2e.Host, key string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	cursor := ""
	for {
		path := "/api/v1/orders?limit=500"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		code, body, err := h.Do(context.Background(), "GET", path, key, nil)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %s %v", path, code, body, err)
		}
		var page struct {
			Orders     []json.RawMessage `json:"orders"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Orders {
			var id struct {
				ExternalID string `json:"external_id"`
			}
			json.Unmarshal(o, &id)
			if _, dup := out[id.ExternalID]; dup {
				t.Fatalf("external id %s stored twice", id.ExternalID)
			}
			out[id.ExternalID] = o
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// TestHostKilledMidImport kills the real host with SIGKILL while the file
// connector streams 10,000 orders, ten times at random moments (or
// ORDERGATE_CRASH_KILLS times, with 1,000 orders per kill). After
// each kill the saved cursor is never ahead of the stored orders: every
// file the cursor or the processed/ folder counts as imported has all its
// orders in the database. After the last restart the import finishes with
// every order stored exactly once.
func TestHostKilledMidImport(t *testing.T) { onEachStore(t, testHostKilledMidImport) }

func testHostKilledMidImport(t *testing.T, store []string) {
	kills := crashKills(t, 10)
	rng := rand.New(rand.NewPCG(crashSeed(t), 2))
	folder := t.TempDir()
	const perFile = 500
	files := 2 * kills
	writeOrderFiles(t, folder, files, perFile)

	var admin string
	stored := 0
	for kill := range kills {
		startedAt := time.Now()
		h := e2e.Start(t, bin, nil, append(store, "--policies", policies, "--plugins", pluginDir)...)
		if kill == 0 {
			admin = h.AdminKey
			fileChannel(t, h, "shop", folder, map[string]any{"page_size": 50})
		}
		h.AdminKey = admin
		// Kill once a run of this start has stored some orders (read from
		// the run's counters, which cost the same however many orders are
		// stored), a little later.
		want := min(100, files*perFile-stored)
		e2e.Eventually(t, 60*time.Second, func() error {
			for _, r := range runsOf(t, h, "shop") {
				at, err := time.Parse(time.RFC3339Nano, r["started_at"].(string))
				if err == nil && at.After(startedAt) && int(r["imported"].(float64)) >= want {
					return nil
				}
			}
			return fmt.Errorf("no run since this start has stored %d orders yet", want)
		})
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		h.Kill()

		done, n := importedFiles(t, store, folder, "shop", perFile)
		stored = n
		t.Logf("kill %d: %d orders stored; %d files counted as imported, each with all %d orders stored", kill+1, n, done, perFile)
	}

	lastStart := time.Now()
	h := e2e.Start(t, bin, nil, append(store, "--policies", policies, "--plugins", pluginDir)...)
	h.AdminKey = admin
	e2e.Eventually(t, max(120*time.Second, time.Duration(files*perFile)*time.Millisecond), func() error {
		if n := len(channelOrders(t, h, "shop")); n != files*perFile {
			return fmt.Errorf("%d of %d orders stored", n, files*perFile)
		}
		return nil
	})
	// Every run a killed host left running was closed as interrupted at the
	// next start, and the runs' counters, committed with their pages, add
	// up to the orders stored: each counted once.
	e2e.Eventually(t, 30*time.Second, func() error {
		runs := decode(t, mustDo(t, h, "GET", "/api/v1/channels/shop/runs?limit=200", h.AdminKey, nil, 200))["runs"].([]any)
		imported, interrupted := 0, 0
		for _, x := range runs {
			r := x.(map[string]any)
			at, _ := time.Parse(time.RFC3339Nano, r["started_at"].(string))
			switch {
			case r["status"] == "running" && at.Before(lastStart):
				return fmt.Errorf("run %s of a killed host is still running: %v", r["id"], r)
			case r["status"] == "interrupted":
				interrupted++
				if r["finished_at"] == nil {
					return fmt.Errorf("interrupted run %s has no finished_at: %v", r["id"], r)
				}
			}
			imported += int(r["imported"].(float64))
		}
		if interrupted == 0 {
			return fmt.Errorf("no interrupted run after %d kills", kills)
		}
		if len(runs) < 200 && imported != files*perFile {
			return fmt.Errorf("the runs count %d orders imported; %d are stored", imported, files*perFile)
		}
		return nil
	})
	seen := map[string]bool{}
	for _, o := range channelOrders(t, h, "shop") {
		id := o["external_id"].(string)
		if seen[id] {
			t.Errorf("order %s stored twice", id)
		}
		seen[id] = true
	}
}

// importedFiles reads a killed host's database: the channel's saved file
// connector cursor and its stored external ids. Every file the cursor
// names, or the connector moved to processed/, must have all perFile
// orders stored; it returns how many such files there are and how many
// orders of the channel are stored.
func importedFiles(t *testing.T, store []string, folder, channel string, perFile int) (files, stored int) {
	t.Helper()
	var cursor struct {
		Sent []string `json:"sent"`
	}
	cur, have := storedImport(t, store, channel)
	if cur != nil {
		if err := json.Unmarshal(cur, &cursor); err != nil {
			t.Fatalf("cursor %q: %v", cur, err)
		}
	}
	var names []string
	for _, s := range cursor.Sent {
		_, name, _ := strings.Cut(s, ":")
		names = append(names, name)
	}
	processed, _ := filepath.Glob(filepath.Join(folder, "processed", "*.ndjson"))
	for _, p := range processed {
		names = append(names, filepath.Base(p))
	}
	for _, name := range names {
		var f int
		if _, err := fmt.Sscanf(name, "batch-%04d.ndjson", &f); err != nil || orderFileName(f) != name {
			t.Fatalf("unexpected file %q in the cursor or processed/", name)
		}
		for i := range perFile {
			if ext := orderFileExternalID(f, i); !have[ext] {
				t.Fatalf("the cursor or processed/ counts %s as imported, but order %s is not stored", name, ext)
			}
		}
	}
	return len(names), len(have)
}

// storedImport reads, from the store of a killed host, the channel's
// saved cursor and the external ids of its stored orders: from the bbolt
// file (checked first), or from PostgreSQL.
func storedImport(t *testing.T, store []string, channel string) ([]byte, map[string]bool) {
	t.Helper()
	have := map[string]bool{}
	if store[0] == "--store" {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, store[1])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var cursor []byte
		if err := conn.QueryRow(ctx, `SELECT cursor FROM channel_cursors WHERE channel_id = $1`, channel).Scan(&cursor); err != nil && err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		rows, _ := conn.Query(ctx, `SELECT external_id FROM orders WHERE channel_id = $1`, channel)
		var ext string
		if _, err := pgx.ForEachRow(rows, []any{&ext}, func() error { have[ext] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		return cursor, have
	}
	path := filepath.Join(store[1], bolt.FileName)
	checkBoltFile(t, path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cursor []byte
	db.View(func(tx *bbolt.Tx) error {
		cursor = bytes.Clone(tx.Bucket([]byte("channel_cursors")).Get([]byte(channel)))
		return tx.Bucket([]byte("order_external")).ForEach(func(k, _ []byte) error {
			if ch, ext, ok := bytes.Cut(k, []byte{0}); ok && string(ch) == channel {
				have[string(ext)] = true
			}
			return nil
		})
	})
	return cursor, have
}
