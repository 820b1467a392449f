package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/workers"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// scaleTemplates is how many distinct orders go through the real workflow
// before being copied to fill the database.
const scaleTemplates = 1000

// BenchmarkScale measures the host on a database of b.N stored orders:
// `go test -run '^$' -bench Scale -benchtime 1000000x ./host/cmd/ordergate`
// is the million. It reports
//
//   - B/order: the bbolt file's size over the number of orders;
//   - startup-ms: from starting the real binary on that file to serving;
//   - list-p50-ms, list-p99-ms: GET
//     /api/v1/orders?status=on_hold&limit=100&view=basic over loopback,
//     200 times, the same query paging on from a cursor: the hold queue's
//     pages, read from the status index's values;
//   - list-full-p50-ms, list-full-p99-ms: the same 200 pages of whole
//     orders (view=full), read from the records, after those;
//   - rss-start-MB: the host's resident set once it serves, before the
//     queries;
//   - rss-MB, anon-MB, file-MB: the host's resident set after the basic
//     pages (VmRSS from /proc), and its parts: the process's own memory
//     (RssAnon: heap, stacks) and pages of the memory-mapped database file
//     the queries touched (RssFile), which the kernel shares with its page
//     cache and reclaims under memory pressure;
//   - rss-full-MB, file-full-MB: the same after the pages of whole orders
//     too;
//   - backtest-orders/s, backtest-anon-MB: a backtest of the shipped
//     policies on every stored order through the API of the serving host,
//     and the host's RssAnon at its highest while it ran (sampled each
//     poll): streamed, it stays bounded whatever the number of orders.
//
// The file is filled in the benchmark process: scaleTemplates realistic
// 3-line orders (a quarter over the review limit, so held) are imported
// through orders.Service with the shipped policies, then stored again and
// again under new ids, external ids, numbers and street addresses, so
// every record is a real decided record and each has its own index
// entries. Filling is not timed.
func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	n := b.N
	b.StopTimer()
	fillStart := time.Now()
	fillScaleDB(b, dir, n)
	b.Logf("filled %d orders in %s", n, time.Since(fillStart).Round(time.Second))
	info, err := os.Stat(filepath.Join(dir, bolt.FileName))
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	h := e2e.Start(b, bin, nil, "--data", dir, "--policies", policies)
	startup := time.Since(start)
	memStart := procMemory(b, h.PID())

	// One cursor walk over the held orders in the basic view, as the hold
	// queue shows them, then the host's memory; then the same walk of
	// whole orders, and the memory again.
	basic := listHeld(ctx, b, h, "&view=basic")
	memBasic := procMemory(b, h.PID())
	full := listHeld(ctx, b, h, "")
	memFull := procMemory(b, h.PID())

	// A backtest of the shipped policies on every stored order, on the
	// serving host: its speed, and the host's own memory (RssAnon)
	// sampled while it streams the orders.
	files, err := policy.ReadBundle(policies)
	if err != nil {
		b.Fatal(err)
	}
	btStart := time.Now()
	code, body, err := h.Do(ctx, "POST", "/api/v1/workflow/backtest", h.AdminKey, map[string]any{"files": files})
	if err != nil || code != 202 {
		b.Fatalf("POST backtest: %d %s %v", code, body, err)
	}
	job := "/api/v1/workflow/backtests/" + decodeB(b, body)["id"].(string)
	var btAnon int64
	for {
		code, body, err := h.Do(ctx, "GET", job, h.AdminKey, nil)
		if err != nil || code != 200 {
			b.Fatalf("GET %s: %d %s %v", job, code, body, err)
		}
		if a := procMemory(b, h.PID()).anon; a > btAnon {
			btAnon = a
		}
		state := decodeB(b, body)
		if state["status"] == "failed" {
			b.Fatalf("backtest failed: %s", body)
		}
		if state["status"] == "succeeded" {
			if got := state["result"].(map[string]any)["orders_evaluated"].(float64); int(got) != n {
				b.Fatalf("the backtest replayed %v orders, want %d", got, n)
			}
			break
		}
		time.Sleep(500 * time.Millisecond) // polling the job, as a client does
	}
	btTook := time.Since(btStart)

	b.ReportMetric(0, "ns/op") // nothing here is per iteration
	b.ReportMetric(float64(info.Size())/float64(n), "B/order")
	b.ReportMetric(float64(startup.Microseconds())/1000, "startup-ms")
	mb := func(v int64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(float64(basic.Percentile(50).Microseconds())/1000, "list-p50-ms")
	b.ReportMetric(float64(basic.Percentile(99).Microseconds())/1000, "list-p99-ms")
	b.ReportMetric(float64(full.Percentile(50).Microseconds())/1000, "list-full-p50-ms")
	b.ReportMetric(float64(full.Percentile(99).Microseconds())/1000, "list-full-p99-ms")
	b.ReportMetric(mb(memStart.rss), "rss-start-MB")
	b.ReportMetric(mb(memBasic.rss), "rss-MB")
	b.ReportMetric(mb(memBasic.anon), "anon-MB")
	b.ReportMetric(mb(memBasic.file), "file-MB")
	b.ReportMetric(mb(memFull.rss), "rss-full-MB")
	b.ReportMetric(mb(memFull.file), "file-full-MB")
	b.ReportMetric(float64(n)/btTook.Seconds(), "backtest-orders/s")
	b.ReportMetric(float64(btAnon)/(1<<20), "backtest-anon-MB")
}

func decodeB(b *testing.B, data []byte) map[string]any {
	b.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		b.Fatalf("%v: %s", err, data)
	}
	return m
}

// fillScaleDB stores n decided orders in a new database in dir.
func fillScaleDB(b *testing.B, dir string, n int) {
	ctx := context.Background()
	db, err := bolt.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	engine := policy.NewEngine(policies, nil, 0)
	if _, err := engine.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	ch, err := db.EnsureChannel(ctx, &host.Channel{ID: "shopify", Name: "Shopify", Kind: "b2c"})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../../api/testdata/bench/order-3line.json")
	if err != nil {
		b.Fatal(err)
	}
	incoming := make([]orders.Incoming, min(n, scaleTemplates))
	for i := range incoming {
		var o sdk.Order
		if err := json.Unmarshal(data, &o); err != nil {
			b.Fatal(err)
		}
		o.ChannelID = ""
		o.ExternalID, o.Number = fmt.Sprintf("shopify-%d", i), fmt.Sprintf("#%d", i)
		o.ShippingAddress.Address1 = fmt.Sprintf("%d Main St", i)
		if i%4 != 0 {
			o.LineItems[0].Quantity = 2 // under the review limit: open
		}
		incoming[i] = orders.Incoming{Order: &o}
	}
	results, err := orders.NewService(db, engine, nil).Import(ctx, ch, incoming)
	if err != nil {
		b.Fatal(err)
	}
	templates := make([]*host.Record, len(results))
	for i, r := range results {
		if r.Err != nil || !r.Created {
			b.Fatalf("template %d: created %v, %v", i, r.Created, r.Err)
		}
		templates[i] = r.Record
	}

	const chunk = 5000
	base := time.Now().Add(-time.Duration(n) * time.Millisecond)
	entropy := ulid.Monotonic(rand.NewChaCha8([32]byte{}), 0)
	batch := make([]host.NewOrder, 0, chunk)
	for i := len(templates); i < n; i++ {
		r := *templates[i%len(templates)]
		at := base.Add(time.Duration(i) * time.Millisecond)
		r.ID = ulid.MustNew(ulid.Timestamp(at), entropy).String()
		r.ExternalID, r.Number = "shopify-"+strconv.Itoa(i), "#"+strconv.Itoa(i)
		varyScaleRecord(&r, i)
		r.ImportedAt = &at
		batch = append(batch, host.NewOrder{Record: &r})
		if len(batch) == chunk || i == n-1 {
			created, err := db.CreateOrders(ctx, batch)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range created {
				if c.Err != nil || !c.Created {
					b.Fatalf("storing a copy: created %v, %v", c.Created, c.Err)
				}
			}
			batch = batch[:0]
		}
	}
}

// varyScaleRecord makes copy i of a template its own order: its ids,
// customer, addresses, SKUs, titles and prices, so that records compress
// no better than real ones with different content would. The decision
// events and holds stay the template's.
func varyScaleRecord(r *host.Record, i int) {
	n := strconv.Itoa(i)
	r.ExternalID, r.Number = "shopify-"+n, "#"+n
	r.Customer = sdk.Customer{Name: "Customer " + n, Email: "c" + n + "@example.com", Phone: fmt.Sprintf("+1 512 %03d %04d", i%1000, i%10000)}
	r.ShippingAddress.Name, r.ShippingAddress.Address1 = r.Customer.Name, n+" Main St"
	r.ShippingAddress.PostalCode = fmt.Sprintf("%05d", i%100000)
	billing := r.ShippingAddress
	r.BillingAddress = &billing
	lines := slices.Clone(r.LineItems)
	for k := range lines {
		sku := (i*7 + k*1301) % 5000
		lines[k].SKU = fmt.Sprintf("SKU-%04d", sku)
		lines[k].Title = fmt.Sprintf("Product %04d, size %c", sku, "SML"[k%3])
		lines[k].UnitPrice = sdk.Money(fmt.Sprintf("%d.%02d", 1+sku%200, sku%100))
	}
	r.LineItems = lines
	r.Totals.Total = sdk.Money(fmt.Sprintf("%d.%02d", 10+i%900, i%100))
}

// listHeld walks 200 pages of 100 held orders with the query's extra
// parameters (view), newest first, and returns each request's latency,
// timed until its whole body is read; reading the page's cursor out of
// it is not timed.
func listHeld(ctx context.Context, b *testing.B, h *e2e.Host, extra string) workers.Result {
	after := ""
	res := workers.Result{Latencies: make([]time.Duration, 200)}
	for i := range res.Latencies {
		path := "/api/v1/orders?status=on_hold&limit=100" + extra
		if after != "" {
			path += "&cursor=" + after
		}
		t := time.Now()
		code, body, err := h.Do(ctx, "GET", path, h.AdminKey, nil)
		res.Latencies[i] = time.Since(t)
		if err != nil || code != 200 {
			b.Fatalf("GET %s: %d %s %v", path, code, body, err)
		}
		var page struct {
			Orders []json.RawMessage `json:"orders"`
			Next   string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			b.Fatal(err)
		}
		if len(page.Orders) == 0 {
			b.Fatalf("GET %s: no orders", path)
		}
		after = page.Next
	}
	return res
}

// memory is a process's resident set (VmRSS) and its parts: anonymous
// memory (RssAnon: heap, stacks) and pages of mapped files (RssFile:
// here the database file).
type memory struct{ rss, anon, file int64 }

// procMemory reads a process's memory from /proc, in bytes.
func procMemory(b *testing.B, pid int) memory {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	var m memory
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch {
		case err != nil:
		case name == "VmRSS":
			m.rss = kb << 10
		case name == "RssAnon":
			m.anon = kb << 10
		case name == "RssFile":
			m.file = kb << 10
		}
	}
	return m
}
