package storecopy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/storecopy"
	"github.com/ordergate/ordergate/sdk"
)

// BenchmarkCopy copies a bbolt store of b.N three-line held orders into
// an empty PostgreSQL database and checks the copy, as `ordergate
// migrate` does: orders/s is what sizes the downtime of a move. Run with
//
//	go test -run '^$' -bench Copy -benchtime 100000x ./host/storecopy
func BenchmarkCopy(b *testing.B) {
	ctx := context.Background()
	src, err := bolt.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	data, err := os.ReadFile("../api/testdata/bench/order-3line.json")
	if err != nil {
		b.Fatal(err)
	}
	var tmpl sdk.Order
	if err := json.Unmarshal(data, &tmpl); err != nil {
		b.Fatal(err)
	}
	at := time.Now().UTC()
	for start := 0; start < b.N; start += 1000 {
		batch := make([]host.NewOrder, 0, 1000)
		for i := start; i < min(start+1000, b.N); i++ {
			o := tmpl
			o.ID, o.ChannelID, o.ExternalID, o.Number = ulid.Make().String(), "shopify", fmt.Sprintf("shopify-%d", i), fmt.Sprintf("#%d", i)
			o.Status, o.ImportedAt = sdk.StatusOnHold, &at
			o.Holds = []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "review", Message: "quantity over 4"}}
			o.Tags = []string{"Review Needed"}
			batch = append(batch, host.NewOrder{Record: &host.Record{Order: o}})
		}
		if _, err := src.CreateOrders(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	dst, err := postgres.Open(ctx, pgtest.Start(b).NewDatabase(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	b.ResetTimer()
	start := time.Now()
	report, err := storecopy.Copy(ctx, src, dst, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if report.Already {
		b.Fatal("the empty target was taken for a copy")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
}
