package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/app"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/users"
	"github.com/ordergate/ordergate/sdk"
)

// cleanups are run by TestMain once every test and benchmark is done:
// the benchmark's stores outlive the calls of one benchmark.
var cleanups []func()

// untilExit is a testing.TB whose cleanups wait for TestMain.
type untilExit struct{ testing.TB }

func (untilExit) Cleanup(f func()) { cleanups = append(cleanups, f) }

// QueueBenchOrders is how many held orders the queue benchmark's store
// holds.
const QueueBenchOrders = 100_000

// queueFixtures are the benchmark's stores, filled once per run of the
// test binary (go test calls a benchmark several times).
var queueFixtures struct {
	sync.Mutex
	by map[string]*queueFixture
}

type queueFixture struct {
	handler http.Handler
	cookie  *http.Cookie
}

// fillHeld stores n held orders, a tenth held for insufficient quantity,
// the rest for a custom rule, with holds placed over the last 30 days.
func fillHeld(b *testing.B, s host.Store, n int) {
	ctx := context.Background()
	now := time.Now().UTC()
	for start := 0; start < n; start += 1000 {
		batch := make([]host.NewOrder, 0, 1000)
		for i := start; i < min(start+1000, n); i++ {
			at := now.Add(-time.Duration(n-i) * 30 * 24 * time.Hour / time.Duration(n))
			reason := sdk.HoldCustomRule
			if i%10 == 0 {
				reason = sdk.HoldInsufficientQuantity
			}
			o := sdk.Order{ID: ulid.Make().String(), ChannelID: "shopify", ExternalID: fmt.Sprint("ext-", i), Number: fmt.Sprint("#", 10000+i),
				PlacedAt: at, Currency: "USD", Customer: sdk.Customer{Name: fmt.Sprint("Customer ", i), Email: fmt.Sprintf("c%d@example.com", i)},
				ShippingAddress: sdk.Address{Name: "C", Address1: fmt.Sprint(i, " Main St"), City: "Austin", Country: "US"},
				LineItems:       []sdk.LineItem{{SKU: "V789", Title: "Valve", Quantity: 5, UnitPrice: "19.99"}}, Totals: sdk.Totals{Total: "99.95"},
				Status: sdk.StatusOnHold, ImportedAt: &at, Tags: []string{"Review Needed"},
				Holds: []sdk.Hold{{Reason: reason, Rule: "review", Package: "review", Message: "quantity over 4", HeldAt: &at}}}
			batch = append(batch, host.NewOrder{Record: &host.Record{Order: o}})
		}
		if _, err := s.CreateOrders(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

func queueFixtureOf(b *testing.B, backend string) *queueFixture {
	queueFixtures.Lock()
	defer queueFixtures.Unlock()
	if f := queueFixtures.by[backend]; f != nil {
		return f
	}
	ctx := context.Background()
	var store host.Store
	switch backend {
	case "bolt":
		dir, err := os.MkdirTemp("", "ordergate-queue-bench-")
		if err != nil {
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		db, err := bolt.Open(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() { db.Close() })
		store = db
	case "postgres":
		pg.once.Do(func() { pg.srv, pg.err = pgtest.New() })
		if pg.err != nil {
			b.Fatal(pg.err)
		}
		db, err := postgres.Open(ctx, pg.srv.NewDatabase(untilExit{b}), nil)
		if err != nil {
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() { db.Close() })
		store = db
	}
	plugins, err := os.MkdirTemp("", "ordergate-queue-bench-plugins-")
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(plugins) })
	a, err := app.New(ctx, app.Config{Store: store, Policies: "../../policies", Plugins: plugins,
		UserOptions: []users.Option{users.WithParams(users.Params{Time: 1, Memory: 64, Threads: 1})}})
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, a.Close)
	sys := host.WithActor(ctx, host.System)
	if _, err := a.Channels.Create(sys, &host.ChannelRequest{ID: "shopify", Name: "Shopify", Kind: host.ChannelB2C}); err != nil {
		b.Fatal(err)
	}
	if _, err := a.Users.Create(sys, "ada", host.RoleOperator, password); err != nil {
		b.Fatal(err)
	}
	fillHeld(b, store, QueueBenchOrders)
	_, token, err := a.Users.SignIn(ctx, "ada", password)
	if err != nil {
		b.Fatal(err)
	}
	f := &queueFixture{handler: a.Handler(), cookie: &http.Cookie{Name: "ordergate_session", Value: token}}
	if queueFixtures.by == nil {
		queueFixtures.by = map[string]*queueFixture{}
	}
	queueFixtures.by[backend] = f
	return f
}

// BenchmarkQueuePage renders the hold queue's first page (50 orders,
// oldest hold first, with the counts per reason) from a store of
// QueueBenchOrders held orders: the whole server time of the request,
// session check included. The target is 200 ms. Run with
//
//	go test -run '^$' -bench QueuePage ./host/console
func BenchmarkQueuePage(b *testing.B) {
	for _, backend := range []string{"bolt", "postgres"} {
		for _, page := range []struct{ name, path string }{
			{"first_page", "/"},
			{"reason", "/?reason=insufficient_quantity"},
			{"search_number", "/?q=%2310500"},
			{"older_than_7d", "/?age=168h"},
			{"reason_none_held", "/?reason=duplicate_order"},
			{"tag_none_held", "/?tag=Gift"},
		} {
			b.Run(backend+"/"+page.name, func(b *testing.B) {
				f := queueFixtureOf(b, backend)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					req := httptest.NewRequest("GET", page.path, nil)
					req.AddCookie(f.cookie)
					rec := httptest.NewRecorder()
					f.handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", page.path, rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}
