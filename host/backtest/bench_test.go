package backtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

const shippedPolicies = "../../policies"

// benchOrders is how many stored orders BenchmarkBacktest replays.
const benchOrders = 5000

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixture is a bbolt store of benchOrders realistic 3-line orders decided
// by the shipped policies through orders.Service (a quarter held for
// review), built once per process.
func fixture(b *testing.B) string {
	fixtureOnce.Do(func() {
		ctx := context.Background()
		if fixtureDir, fixtureErr = os.MkdirTemp("", "ordergate-backtest-bench-"); fixtureErr != nil {
			return
		}
		db, err := bolt.Open(fixtureDir, nil)
		if err != nil {
			fixtureErr = err
			return
		}
		defer db.Close()
		engine := policy.NewEngine(shippedPolicies, nil, 0)
		if _, fixtureErr = engine.Reload(ctx); fixtureErr != nil {
			return
		}
		ch, err := db.EnsureChannel(ctx, &host.Channel{ID: "shopify", Name: "Shopify", Kind: host.ChannelB2C})
		if err != nil {
			fixtureErr = err
			return
		}
		data, err := os.ReadFile("../api/testdata/bench/order-3line.json")
		if err != nil {
			fixtureErr = err
			return
		}
		svc := orders.NewService(db, engine, nil)
		for start := 0; start < benchOrders; start += 500 {
			incoming := make([]orders.Incoming, 500)
			for k := range incoming {
				i := start + k
				var o sdk.Order
				if fixtureErr = json.Unmarshal(data, &o); fixtureErr != nil {
					return
				}
				o.ChannelID = ""
				o.ExternalID, o.Number = fmt.Sprintf("shopify-%d", i), fmt.Sprintf("#%d", i)
				o.Customer.Email = fmt.Sprintf("c%d@example.com", i)
				o.ShippingAddress.Address1 = fmt.Sprintf("%d Main St", i)
				if i%4 != 0 {
					o.LineItems[0].Quantity = 2 // under the review limit: open
				}
				incoming[k] = orders.Incoming{Order: &o}
			}
			if _, fixtureErr = svc.Import(ctx, ch, incoming); fixtureErr != nil {
				return
			}
		}
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixtureDir
}

// BenchmarkBacktest replays the shipped policies with the review limit
// raised to 6 (a candidate that changes a quarter of the orders) on
// benchOrders stored orders, on the facts each was decided with, as
// `policy backtest --data` does: orders/s is the figure the issue's
// 2,000 orders/s is about. The store is bbolt, read in pages, decisions
// on every core.
func BenchmarkBacktest(b *testing.B) {
	ctx := context.Background()
	dir := fixture(b)
	db, err := bolt.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	candidateDir := b.TempDir()
	if err := os.CopyFS(candidateDir, os.DirFS(shippedPolicies)); err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(candidateDir, "data.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(candidateDir, "data.yaml"), []byte(strings.Replace(string(raw), "max_line_quantity: 4", "max_line_quantity: 6", 1)), 0o644)
	os.Remove(filepath.Join(candidateDir, "workflow", "review_test.rego"))
	os.Remove(filepath.Join(candidateDir, "workflow", "workflow_test.rego"))
	candidate, err := policy.LoadRevision(ctx, candidateDir)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	var res *backtest.Result
	for range b.N {
		if res, err = backtest.Run(ctx, db, nil, candidate, backtest.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*res.OrdersEvaluated)/time.Since(start).Seconds(), "orders/s")
	if res.OrdersEvaluated != benchOrders || res.OrdersChanged != benchOrders/4 {
		b.Fatalf("replayed %d orders of which %d changed, want %d of which %d", res.OrdersEvaluated, res.OrdersChanged, benchOrders, benchOrders/4)
	}
}
