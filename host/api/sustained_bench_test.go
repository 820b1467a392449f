package api_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/cli"
	"github.com/ordergate/ordergate/host/internal/workers"
	"github.com/ordergate/ordergate/sdk"
)

// sustainedDuration is how long each sub-benchmark of BenchmarkSustained
// posts; make bench runs them for the performance issue's 10 minutes.
var sustainedDuration = flag.Duration("sustained-duration", 30*time.Second, "how long each sub-benchmark of BenchmarkSustained posts")

// sustainedSegments is how many equal parts of the run BenchmarkSustained
// reports the rate of: per minute over 10 minutes.
const sustainedSegments = 10

// lookAlikeBaskets is how many different baskets the look-alike load
// ships to its one address: every order has as many look-alikes stored as
// the run has posted, divided by this.
const lookAlikeBaskets = 4

// BenchmarkSustained posts orders for -sustained-duration from 64 clients
// over loopback HTTP, one order per request, to the real host (bbolt with
// fsync, the shipped policies), and reports whether the cost of an order
// stays flat as the data grows:
//
//   - varied: every order ships to its own address (no look-alikes);
//   - look-alikes: every order ships to one address with one of
//     lookAlikeBaskets baskets, so each has ever more stored look-alikes
//     (duplicate protection holds all but the first of each basket);
//   - catalog-growing: varied orders while the catalog gains
//     catalogGrowth managed items a second (one line of each order is one
//     of them);
//   - sources-50: varied orders to a routing group of 50 sources, each
//     stocking every SKU.
//
// Each reports orders/s over the whole run, first-orders/s and
// last-orders/s (the rate of the first and last tenth of the run: its
// first and last minute at 10 minutes), last/first, and the p99 request
// latency. The rate of every tenth is logged (-v). b.N is not used: run
// with -benchtime 1x.
func BenchmarkSustained(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(cli.DefaultGCPercent))
	}
	tmpl := benchOrders(b, 1)[0]
	b.Run("varied", func(b *testing.B) {
		url, admin, db := benchServer(b)
		sustain(b, url, admin, db, func(i int) sdk.Order {
			o := sustainedOrder(tmpl, i)
			o.ShippingAddress.Address1 = fmt.Sprintf("%d Main St", i)
			return o
		})
	})
	b.Run("look-alikes", func(b *testing.B) {
		url, admin, db := benchServer(b)
		sustain(b, url, admin, db, func(i int) sdk.Order {
			o := sustainedOrder(tmpl, i)
			o.LineItems = slices.Clone(o.LineItems)
			o.LineItems[1].Quantity = int64(1 + i%lookAlikeBaskets)
			return o
		})
	})
	b.Run("catalog-growing", func(b *testing.B) {
		url, admin, db := benchServer(b)
		var grown atomic.Int64
		growCatalog(b, db, &grown)
		sustain(b, url, admin, db, func(i int) sdk.Order {
			o := sustainedOrder(tmpl, i)
			o.ShippingAddress.Address1 = fmt.Sprintf("%d Main St", i)
			o.LineItems = slices.Clone(o.LineItems)
			o.LineItems[2].SKU = grownSKU(int64(i) % grown.Load())
			return o
		})
	})
	b.Run("sources-50", func(b *testing.B) {
		url, admin, db := benchServer(b)
		manySources(b, db, 50, tmpl)
		sustain(b, url, admin, db, func(i int) sdk.Order {
			o := sustainedOrder(tmpl, i)
			o.ShippingAddress.Address1 = fmt.Sprintf("%d Main St", i)
			return o
		})
	})
}

// catalogGrowth is how many catalog items a second catalog-growing adds:
// 600,000 in 10 minutes.
const catalogGrowth = 1000

func grownSKU(i int64) string { return fmt.Sprintf("GROW-%07d", i) }

// growCatalog adds a first catalogGrowth items, then as many more each
// second until the benchmark ends; grown counts the items added.
func growCatalog(b *testing.B, db host.Store, grown *atomic.Int64) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	add := func() error {
		items := make([]*host.CatalogItem, catalogGrowth)
		for k := range items {
			sku := grownSKU(grown.Load() + int64(k))
			items[k] = &host.CatalogItem{SKU: sku, Title: "Grown " + sku, Managed: true}
		}
		if err := db.PutCatalogItems(ctx, items); err != nil {
			return err
		}
		grown.Add(catalogGrowth)
		return nil
	}
	if err := add(); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := add(); err != nil && ctx.Err() == nil {
					panic(fmt.Sprintf("growing the catalog: %v", err))
				}
			}
		}
	})
}

// sustainedOrder is tmpl with a unique external id and number.
func sustainedOrder(tmpl sdk.Order, i int) sdk.Order {
	o := tmpl
	o.ExternalID = fmt.Sprintf("sustained-%d", i)
	o.Number = fmt.Sprintf("#S%d", i)
	o.PlacedAt = time.Now().UTC()
	return o
}

// manySources makes a default routing group of n sources, each with
// stock of every SKU of tmpl.
func manySources(b *testing.B, db host.Store, n int, tmpl sdk.Order) {
	b.Helper()
	ctx := context.Background()
	group := &host.RoutingGroup{ID: "many", Name: "Many sources", Default: true}
	var levels []host.StockLevel
	for i := range n {
		id := fmt.Sprintf("wh-%02d", i)
		if err := db.CreateSource(ctx, &host.Source{ID: id, Name: "Warehouse " + id, Enabled: true}); err != nil {
			b.Fatal(err)
		}
		group.Sources = append(group.Sources, host.GroupSource{SourceID: id, Enabled: true})
		for _, li := range tmpl.LineItems {
			levels = append(levels, host.StockLevel{SourceID: id, SKU: li.SKU, Available: 1_000_000})
		}
	}
	if err := db.CreateRoutingGroup(ctx, group); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SetInventory(ctx, levels, host.InventoryMerge, time.Now()); err != nil {
		b.Fatal(err)
	}
}

// sustain posts order(i) for i = 0, 1, ... from benchClients clients
// until -sustained-duration has passed, and reports the rates.
func sustain(b *testing.B, url, admin string, db host.OrderStore, order func(i int) sdk.Order) {
	client := benchClient(b)
	var next atomic.Int64
	var done [sustainedSegments]atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var firstErr error
	var failed atomic.Bool
	segment := *sustainedDuration / sustainedSegments
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			}()
			for !failed.Load() && time.Since(start) < *sustainedDuration {
				i := int(next.Add(1)) - 1
				o := order(i)
				body, err := json.Marshal(&o)
				t := time.Now()
				if err == nil {
					err = sustainedPost(client, url, admin, body, o.ExternalID)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("order %d: %w", i, err)
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
				mine = append(mine, time.Since(t))
				if s := int(time.Since(start) / segment); s < sustainedSegments {
					done[s].Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	rate := func(s int) float64 { return float64(done[s].Load()) / segment.Seconds() }
	for s := range sustainedSegments {
		b.Logf("%s to %s: %.0f orders/s", segment*time.Duration(s), segment*time.Duration(s+1), rate(s))
	}
	var total int64
	for s := range done {
		total += done[s].Load()
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(total)/sustainedDuration.Seconds(), "orders/s")
	b.ReportMetric(rate(0), "first-orders/s")
	b.ReportMetric(rate(sustainedSegments-1), "last-orders/s")
	b.ReportMetric(rate(sustainedSegments-1)/rate(0), "last/first")
	res := workers.Result{Latencies: latencies}
	b.ReportMetric(float64(res.Percentile(99))/float64(time.Millisecond), "p99-ms")
	checkNoPolicyErrors(b, db, int(total))
}

// sustainedPost posts one order and checks it was taken.
func sustainedPost(client *http.Client, url, admin string, body []byte, externalID string) error {
	status, answer, err := post(client, url+"/api/v1/orders", admin, body)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("status %d, want 201: %s", status, answer)
	}
	// Only what is checked is decoded: the load's own cost stays small
	// beside the host's, whatever the answer holds.
	var got struct {
		ID         string `json:"id"`
		ExternalID string `json:"external_id"`
		Holds      []struct {
			Reason string `json:"reason"`
		} `json:"holds"`
	}
	if err := json.Unmarshal(answer, &got); err != nil {
		return err
	}
	if got.ExternalID != externalID || got.ID == "" {
		return fmt.Errorf("answered external_id %q id %q, want %q with an id", got.ExternalID, got.ID, externalID)
	}
	for _, h := range got.Holds {
		if h.Reason == sdk.HoldPolicyError {
			return fmt.Errorf("the workflow could not decide: %s", answer)
		}
	}
	return nil
}
