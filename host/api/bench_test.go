package api_test

// BenchmarkIntake measures order intake end to end over loopback HTTP: the
// real host (gin, auth, Rego decision, bbolt group commit with fsync)
// against a bare net/http server that only decodes and re-encodes the
// order. Run with
//
//	go test -run '^$' -bench Intake -benchmem ./host/api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/api"
	"github.com/ordergate/ordergate/host/cli"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/internal/workers"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/sdk"
)

// intakeEvalTimeout is the benchmark host's evaluation budget: the
// production default. The benchmarks fail if any order is held with
// policy_error, so a deadline that counts waiting for a CPU under load
// (rather than the rules' own running time) shows up here.
var intakeEvalTimeout = flag.Duration("intake-eval-timeout", policy.DefaultEvalTimeout, "evaluation budget of BenchmarkIntake's host")

// benchClients is how many clients post at once: a fixed pool of
// goroutines, not RunParallel (which would start GOMAXPROCS goroutines).
const benchClients = 64

// benchBatchSize is how many orders one batch request carries.
const benchBatchSize = 100

// benchMinBatches is the fewest batch requests one run of the batch
// benchmark sends, whatever b.N: two per client, so that 64 clients are
// busy at once. (At the default -benchtime b.N would be about 25 batches.)
const benchMinBatches = 2 * benchClients

// benchServer is the test host (real API, bbolt file with fsync, shipped
// policies, loopback HTTP) with the benchmark's evaluation budget and a
// b2c channel "shopify".
func benchServer(b *testing.B) (url, admin string, db host.Store) {
	b.Helper()
	h := newTestHostWith(b, shippedPolicies, *intakeEvalTimeout)
	if _, err := h.db.EnsureChannel(context.Background(), &host.Channel{ID: "shopify", Kind: "b2c"}); err != nil {
		b.Fatal(err)
	}
	return h.url, h.admin, h.db
}

// checkNoPolicyErrors fails if the workflow could not decide on any stored
// order (a runtime error, or the evaluation deadline under load): such an
// order is also on_hold, so the status alone would not show it.
func checkNoPolicyErrors(b *testing.B, db host.OrderStore, of int) {
	b.Helper()
	held, _, err := db.ListOrders(context.Background(), host.OrderFilter{HoldReason: sdk.HoldPolicyError, Limit: 500})
	if err != nil {
		b.Fatal(err)
	}
	if len(held) > 0 {
		more := ""
		if len(held) == 500 {
			more = " or more"
		}
		b.Fatalf("%d%s of %d orders held with policy_error (evaluation budget %s), e.g. %s: %s",
			len(held), more, of, *intakeEvalTimeout, held[0].ID, held[0].Holds[0].Message)
	}
}

// bareServer decodes the order into sdk.Order and answers 201 with it
// re-encoded: no auth, no validation, no decision, no storage.
func bareServer(b *testing.B) string {
	b.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/orders" {
			http.NotFound(w, r)
			return
		}
		var o sdk.Order
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(&o)
	}))
	b.Cleanup(ts.Close)
	return ts.URL
}

// benchClient reuses up to benchClients loopback connections.
func benchClient(b *testing.B) *http.Client {
	tr := &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// benchOrders returns n distinct realistic orders (three lines, one over
// the review limit, so the shipped policies hold them): the fixture
// testdata/bench/order-3line.json with a unique external id, number and
// shipping street, so that no two are look-alikes (duplicate protection).
func benchOrders(b *testing.B, n int) []sdk.Order {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bench", "order-3line.json"))
	if err != nil {
		b.Fatal(err)
	}
	var tmpl sdk.Order
	if err := json.Unmarshal(data, &tmpl); err != nil {
		b.Fatal(err)
	}
	out := make([]sdk.Order, n)
	for i := range out {
		o := tmpl
		o.ExternalID = fmt.Sprintf("shopify-%d", 5_000_000+i)
		o.Number = fmt.Sprintf("#%d", 10_000+i)
		o.ShippingAddress.Address1 = fmt.Sprintf("%d Main St", 1+i)
		out[i] = o
	}
	return out
}

func mustJSON(b *testing.B, v any) []byte {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// post sends body and returns the status and response body.
func post(c *http.Client, url, key string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

// runClients runs send(i) for i in [0, n) from benchClients goroutines,
// timing each call. The first error stops the benchmark.
func runClients(b *testing.B, n int, send func(i int) error) workers.Result {
	b.Helper()
	res := workers.Run(benchClients, n, send)
	if res.Err != nil {
		b.Fatal(res.Err)
	}
	return res
}

// report sets orders/s and the p50 and p99 request latency in ms.
func report(b *testing.B, orders int, res workers.Result) {
	b.ReportMetric(float64(orders)/res.Elapsed.Seconds(), "orders/s")
	b.ReportMetric(float64(res.Percentile(50))/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(res.Percentile(99))/float64(time.Millisecond), "p99-ms")
}

// BenchmarkIntake: 64 concurrent clients post distinct three-line orders
// (about 1.1 KB of JSON each) over loopback HTTP with an admin key. In
// every sub-benchmark an op is one order (ns/op, B/op and allocs/op are
// per order, client and server together, as they share the process);
// p50-ms and p99-ms are per HTTP request.
//
//   - ordergate: POST /api/v1/orders on the real host, one order per
//     request; every answer must be 201 with status on_hold and no
//     policy_error hold.
//   - ordergate-postgres: the same on a host whose store is PostgreSQL (a
//     throwaway cluster on this machine, fsync on), reporting besides the
//     cost per order: cpu-us/op, the CPU of this process (host and load
//     generator); db-cpu-us/op, the database server's; db-trips/op, the
//     store's round trips to it; wal-B/op, the write-ahead log written.
//   - ordergate-postgres-hosts-2, -3: the same spread over 2 or 3 hosts on
//     one database, in this process (on a 2-core machine more hosts share
//     the same cores: it measures the cost of coordination, not scaling).
//   - bare-net-http: the same requests to a bare net/http handler that
//     decodes into sdk.Order and answers 201 with it re-encoded.
//   - batch: POST /api/v1/orders:batch on the real host with 100 orders per
//     request; every order must be created and on_hold, none with a
//     policy_error hold. b.N orders are rounded up to whole batches and to
//     at least benchMinBatches batches (12,800 orders), so the metrics are
//     reported per order actually sent. batch-postgres: the same on
//     PostgreSQL, with the cost per order.
//
// The process runs with the garbage collector target `ordergate serve`
// sets (cli.DefaultGCPercent) unless GOGC is set; the load generator and
// the bare server share it, so the comparison stays side by side.
func BenchmarkIntake(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(cli.DefaultGCPercent))
	}
	pg := pgtest.Start(b)
	b.Run("ordergate", func(b *testing.B) {
		url, admin, db := benchServer(b)
		cpu := processCPU()
		benchSingle(b, []string{url}, admin, db)
		b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
	})
	b.Run("ordergate-postgres", func(b *testing.B) {
		urls, admin, dbs := benchPostgres(b, pg, 1)
		m := startCost(b, pg, dbs)
		benchSingle(b, urls, admin, dbs[0])
		m.report(b, b.N)
	})
	for _, n := range []int{2, 3} {
		b.Run(fmt.Sprintf("ordergate-postgres-hosts-%d", n), func(b *testing.B) {
			urls, admin, dbs := benchPostgres(b, pg, n)
			m := startCost(b, pg, dbs)
			benchSingle(b, urls, admin, dbs[0])
			m.report(b, b.N)
		})
	}

	b.Run("bare-net-http", func(b *testing.B) {
		url := bareServer(b)
		client := benchClient(b)
		ords := benchOrders(b, b.N)
		bodies := make([][]byte, b.N)
		for i := range ords {
			bodies[i] = mustJSON(b, &ords[i])
		}
		b.ReportAllocs()
		b.ResetTimer()
		res := runClients(b, b.N, func(i int) error {
			status, body, err := post(client, url+"/api/v1/orders", "bench-admin-key", bodies[i])
			if err != nil {
				return err
			}
			if status != http.StatusCreated {
				return fmt.Errorf("order %d: status %d, want 201: %s", i, status, body)
			}
			var got sdk.Order
			if err := json.Unmarshal(body, &got); err != nil {
				return fmt.Errorf("order %d: %v", i, err)
			}
			if got.ExternalID != ords[i].ExternalID {
				return fmt.Errorf("order %d: external_id %q, want %q", i, got.ExternalID, ords[i].ExternalID)
			}
			return nil
		})
		b.StopTimer()
		report(b, b.N, res)
	})

	b.Run("batch", func(b *testing.B) {
		url, admin, db := benchServer(b)
		benchBatch(b, []string{url}, admin, db, nil)
	})
	b.Run("batch-postgres", func(b *testing.B) {
		urls, admin, dbs := benchPostgres(b, pg, 1)
		m := startCost(b, pg, dbs)
		benchBatch(b, urls, admin, dbs[0], m)
	})
}

// benchPostgres starts n hosts on one new PostgreSQL database of pg, with
// a b2c channel "shopify", and returns their URLs, an admin key and the
// first host's store.
func benchPostgres(b *testing.B, pg *pgtest.Server, n int) ([]string, string, []*postgres.DB) {
	b.Helper()
	dsn := pg.NewDatabase(b)
	var urls []string
	var dbs []*postgres.DB
	admin := ""
	for i := range n {
		db, err := postgres.Open(context.Background(), dsn, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		h := newTestHostOn(b, db, nil, shippedPolicies, *intakeEvalTimeout)
		dbs = append(dbs, db)
		if i == 0 {
			admin = h.admin
			if _, err := db.EnsureChannel(context.Background(), &host.Channel{ID: "shopify", Kind: "b2c"}); err != nil {
				b.Fatal(err)
			}
		}
		urls = append(urls, h.url)
	}
	return urls, admin, dbs
}

// cost measures what orders cost beyond time: this process's CPU (the
// host and the load generator), the database server's CPU, the store's
// round trips and the WAL written.
type cost struct {
	pg         *pgtest.Server
	dbs        []*postgres.DB
	cpu, dbCPU time.Duration
	trips      int64
	wal        string
}

func startCost(b *testing.B, pg *pgtest.Server, dbs []*postgres.DB) *cost {
	b.Helper()
	wal, err := pg.WALPosition(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return &cost{pg: pg, dbs: dbs, cpu: processCPU(), dbCPU: pg.CPU(), trips: roundTrips(dbs), wal: wal}
}

func roundTrips(dbs []*postgres.DB) int64 {
	var n int64
	for _, db := range dbs {
		n += db.RoundTrips()
	}
	return n
}

func (c *cost) report(b *testing.B, orders int) {
	b.Helper()
	wal, err := c.pg.WALSince(context.Background(), c.wal)
	if err != nil {
		b.Fatal(err)
	}
	per := func(v float64) float64 { return v / float64(orders) }
	b.ReportMetric(per(float64((processCPU() - c.cpu).Microseconds())), "cpu-us/op")
	b.ReportMetric(per(float64((c.pg.CPU() - c.dbCPU).Microseconds())), "db-cpu-us/op")
	b.ReportMetric(per(float64(roundTrips(c.dbs)-c.trips)), "db-trips/op")
	b.ReportMetric(per(float64(wal)), "wal-B/op")
}

// processCPU is the user and system time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSingle posts b.N orders, one per request, spread over the hosts.
func benchSingle(b *testing.B, urls []string, admin string, db host.OrderStore) {
	client := benchClient(b)
	ords := benchOrders(b, b.N)
	bodies := make([][]byte, b.N)
	for i := range ords {
		bodies[i] = mustJSON(b, &ords[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	res := runClients(b, b.N, func(i int) error {
		status, body, err := post(client, urls[i%len(urls)]+"/api/v1/orders", admin, bodies[i])
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("order %d: status %d, want 201: %s", i, status, body)
		}
		var got sdk.Order
		if err := json.Unmarshal(body, &got); err != nil {
			return fmt.Errorf("order %d: %v", i, err)
		}
		if got.ExternalID != ords[i].ExternalID || got.Status != sdk.StatusOnHold || got.ID == "" {
			return fmt.Errorf("order %d: external_id %q status %q id %q, want %q on_hold with an id",
				i, got.ExternalID, got.Status, got.ID, ords[i].ExternalID)
		}
		if slices.ContainsFunc(got.Holds, func(h sdk.Hold) bool { return h.Reason == sdk.HoldPolicyError }) {
			return fmt.Errorf("order %d: the workflow could not decide: %+v", i, got.Holds)
		}
		return nil
	})
	b.StopTimer()
	report(b, b.N, res)
	checkNoPolicyErrors(b, db, b.N)
}

// benchBatch posts batches of benchBatchSize orders, spread over the
// hosts; m, when set, reports the cost per order.
func benchBatch(b *testing.B, urls []string, admin string, db host.OrderStore, m *cost) {
	client := benchClient(b)
	batches := max((b.N+benchBatchSize-1)/benchBatchSize, benchMinBatches)
	n := batches * benchBatchSize
	ords := benchOrders(b, n)
	bodies := make([][]byte, batches)
	for i := range bodies {
		bodies[i] = mustJSON(b, api.BatchRequest{Orders: ords[i*benchBatchSize : (i+1)*benchBatchSize]})
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	res := runClients(b, batches, func(i int) error {
		status, body, err := post(client, urls[i%len(urls)]+"/api/v1/orders:batch", admin, bodies[i])
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("batch %d: status %d, want 200: %s", i, status, body)
		}
		var got api.BatchResponse
		if err := json.Unmarshal(body, &got); err != nil {
			return fmt.Errorf("batch %d: %v", i, err)
		}
		if got.Created != benchBatchSize || len(got.Results) != benchBatchSize {
			return fmt.Errorf("batch %d: created %d of %d (existing %d, rejected %d)", i, got.Created, benchBatchSize, got.Existing, got.Rejected)
		}
		for j, r := range got.Results {
			want := ords[i*benchBatchSize+j].ExternalID
			if r.Outcome != "created" || r.Status != sdk.StatusOnHold || r.ExternalID != want {
				return fmt.Errorf("batch %d result %d: %+v, want %s created on_hold", i, j, r, want)
			}
		}
		return nil
	})
	b.StopTimer()
	runtime.ReadMemStats(&after)
	// Per order sent, not per b.N.
	b.ReportMetric(float64(res.Elapsed.Nanoseconds())/float64(n), "ns/op")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "B/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n), "allocs/op")
	report(b, n, res)
	if m != nil {
		m.report(b, n)
	}
	checkNoPolicyErrors(b, db, n)
}
