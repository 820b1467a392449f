package main_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestBackupAndRestore takes a backup of a host while 8 clients keep
// posting orders, restores it into a new data directory and starts a host
// on it: every order acknowledged before the backup began is there, byte
// for byte, and the admin key still works. Restore refuses a damaged file
// and a data directory a host is running on.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "shop", "kind": "b2b"}, 201)
	template := tutorialOrder(t)
	template["channel_id"] = "shop"

	var mu sync.Mutex
	acked := map[string][]byte{}
	var seq atomic.Int64
	post := func() error {
		ext := fmt.Sprintf("b-%d", seq.Add(1))
		o := maps.Clone(template)
		o["external_id"], o["number"] = ext, "#"+ext
		o["shipping_address"] = map[string]any{"address1": ext + " Main St", "city": "Austin", "country": "US"}
		code, body, err := h.Do(ctx, "POST", "/api/v1/orders", h.AdminKey, o)
		if err != nil || code != 201 {
			return fmt.Errorf("POST %s: %d %s %v", ext, code, body, err)
		}
		mu.Lock()
		acked[ext] = bytes.TrimSpace(body)
		mu.Unlock()
		return nil
	}
	for range 200 {
		if err := post(); err != nil {
			t.Fatal(err)
		}
	}

	// Back up while 8 clients post.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := post(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	mu.Lock()
	before := maps.Clone(acked)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "ordergate.backup")
	out := run(t, 0, "backup", "--url", h.URL, "--key", h.AdminKey, "--out", file)
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "wrote "+file) {
		t.Errorf("backup printed %q", out)
	}

	// A host runs on data: restore refuses it.
	if out := run(t, 1, "restore", "--from", file, "--data", data); !strings.Contains(out, "a host is running") {
		t.Errorf("restore onto a running host's data: %q", out)
	}
	// A damaged file is refused and changes nothing.
	damaged := filepath.Join(t.TempDir(), "damaged.backup")
	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, damaged, string(content[:len(content)/2]))
	other := t.TempDir()
	if out := run(t, 1, "restore", "--from", damaged, "--data", other); !strings.Contains(out, "refusing to restore") {
		t.Errorf("restore of a damaged file: %q", out)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("a refused restore left %v", entries)
	}

	restored := t.TempDir()
	if out := run(t, 0, "restore", "--from", file, "--data", restored); !strings.Contains(out, "restored") {
		t.Errorf("restore printed %q", out)
	}
	r := e2e.Start(t, bin, nil, "--data", restored, "--policies", policies)
	if r.AdminKey != "" {
		t.Error("the restored host printed a new admin key")
	}
	stored := storedOrders(t, r, h.AdminKey)
	for ext, body := range before {
		if got, ok := stored[ext]; !ok || !bytes.Equal(got, body) {
			t.Fatalf("order %s acknowledged before the backup: restored as %q, acknowledged as %q", ext, got, body)
		}
	}
	mu.Lock()
	for ext, got := range stored {
		if want, ok := acked[ext]; !ok || !bytes.Equal(got, want) {
			t.Errorf("the backup holds order %s as %q, which was acknowledged as %q", ext, got, want)
		}
	}
	t.Logf("%d orders acknowledged before the backup, %d in it, %d acknowledged in all", len(before), len(stored), len(acked))
	mu.Unlock()
}
