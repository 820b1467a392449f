package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// BenchmarkConnectorImport streams b.N orders (files of 500) from the real
// file connector through the real plugin host, workflow and store, and
// reports orders/s end to end, from the import's start to the last order
// stored. `go test -run '^$' -bench ConnectorImport -benchtime 100000x
// ./host/cmd/ordergate` is the issue's 100,000-order figure.
func BenchmarkConnectorImport(b *testing.B) {
	folder := b.TempDir()
	o := map[string]any{}
	data, err := os.ReadFile("../../../sdk/testdata/order-1203.json")
	if err != nil {
		b.Fatal(err)
	}
	json.Unmarshal(data, &o)
	var lines []string
	flush := func(n int) {
		if len(lines) > 0 {
			if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("orders-%07d.ndjson", n)), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				b.Fatal(err)
			}
			lines = lines[:0]
		}
	}
	for i := range b.N {
		o["external_id"], o["number"] = fmt.Sprintf("bench-%d", i), fmt.Sprintf("B%d", i)
		o["shipping_address"] = map[string]any{"address1": fmt.Sprintf("%d Main St", i), "city": "Austin", "country": "US"}
		line, _ := json.Marshal(o)
		lines = append(lines, string(line))
		if len(lines) == 500 {
			flush(i)
		}
	}
	flush(b.N)

	h := e2e.Start(b, bin, nil, "--data", b.TempDir(), "--policies", policies, "--plugins", pluginDir)
	ctx := context.Background()
	post := func(path string, body any) {
		if code, resp, err := h.Do(ctx, "POST", path, h.AdminKey, body); err != nil || code/100 != 2 {
			b.Fatalf("POST %s: %d %s %v", path, code, resp, err)
		}
	}
	// Disabled, so the timer starts with the manual import.
	post("/api/v1/channels", map[string]any{"id": "shop", "kind": "b2c", "connector": "file", "enabled": false,
		"config": map[string]any{"folder": folder, "max_files": 100000, "page_size": 500}})
	b.ResetTimer()
	start := time.Now()
	post("/api/v1/channels/shop/import", nil)
	for {
		_, body, err := h.Do(ctx, "GET", "/api/v1/channels/shop/runs?limit=1", h.AdminKey, nil)
		if err != nil {
			b.Fatal(err)
		}
		var runs struct {
			Runs []struct {
				Status   string   `json:"status"`
				Imported int      `json:"imported"`
				Errors   []string `json:"errors"`
			} `json:"runs"`
		}
		json.Unmarshal(body, &runs)
		if len(runs.Runs) == 1 && runs.Runs[0].Status != "running" {
			if r := runs.Runs[0]; r.Status != "succeeded" || r.Imported != b.N {
				b.Fatalf("run %s imported %d of %d: %v", r.Status, r.Imported, b.N, r.Errors)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "orders/s")
}
