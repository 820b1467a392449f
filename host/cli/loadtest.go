package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/ordergate/ordergate/host/internal/workers"
)

// loadtest posts generated orders to a host for a while and reports the
// throughput and latency percentiles: capacity planning for operators.
func loadtest(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "loadtest --key KEY [--channel ID] [flags]", "Posts generated orders to a running host for --duration and prints the\nthroughput and latency percentiles.")
	url := fs.String("url", "http://127.0.0.1:8080", "the host's base URL")
	key := fs.String("key", "", "an API key (admin, or a reseller key of --channel); or ORDERGATE_KEY")
	channel := fs.String("channel", "", "the channel to post to (with an admin key)")
	concurrency := fs.Int("concurrency", 64, "clients posting at once")
	perSecond := fs.Float64("rate", 0, "orders per second to aim at (0: as fast as the clients go)")
	duration := fs.Duration("duration", 10*time.Second, "how long to post")
	batch := fs.Int("batch", 0, "post batches of this many orders to /api/v1/orders:batch (0: one order per request)")
	orderFile := fs.String("order", "", "a JSON order to post copies of (default: a 3-line order); external_id and the address are made unique")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	switch {
	case *key == "":
		return fmt.Errorf("--key (or ORDERGATE_KEY) is required")
	case *concurrency < 1 || *concurrency > 10000:
		return fmt.Errorf("--concurrency must be from 1 to 10000")
	case *batch < 0 || *batch > 1000:
		return fmt.Errorf("--batch must be from 0 to 1000")
	case *duration <= 0:
		return fmt.Errorf("--duration must be positive")
	}
	template := defaultLoadOrder()
	if *orderFile != "" {
		data, err := os.ReadFile(*orderFile)
		if err != nil {
			return err
		}
		template = map[string]any{}
		if err := json.Unmarshal(data, &template); err != nil {
			return fmt.Errorf("reading %s: %w", *orderFile, err)
		}
	}
	if *channel != "" {
		template["channel_id"] = *channel
	}

	var limiter *rate.Limiter
	if *perSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(*perSecond), max(1, *batch))
	}
	runID := time.Now().UTC().Format("20060102T150405")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}, Timeout: time.Minute}
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	var seq atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	statuses := map[int]int{}
	var ordersOK, batchRejected atomic.Int64
	var refusal firstRefusal
	var wg sync.WaitGroup
	start := time.Now()
	for range *concurrency {
		wg.Go(func() {
			var mine []time.Duration
			mineStatus := map[int]int{}
			defer func() {
				mu.Lock()
				latencies = append(latencies, mine...)
				for k, v := range mineStatus {
					statuses[k] += v
				}
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				n := max(1, *batch)
				if limiter != nil && limiter.WaitN(ctx, n) != nil {
					return
				}
				orders := make([]map[string]any, n)
				for i := range orders {
					orders[i] = loadOrder(template, runID, seq.Add(1))
				}
				path, body := "/api/v1/orders", any(orders[0])
				if *batch > 0 {
					path, body = "/api/v1/orders:batch", map[string]any{"orders": orders}
				}
				data, _ := json.Marshal(body)
				req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, *url+path, bytes.NewReader(data))
				if err != nil {
					return
				}
				req.Header.Set("Authorization", "Bearer "+*key)
				req.Header.Set("Content-Type", "application/json")
				t := time.Now()
				res, err := client.Do(req)
				if err != nil {
					mineStatus[0]++
					refusal.setError(err)
					continue
				}
				ok := res.StatusCode/100 == 2
				var answer []byte
				if !ok || *batch > 0 {
					// The answer of a batch says which orders were
					// taken; a refusal is kept if it is the first.
					answer, err = io.ReadAll(io.LimitReader(res.Body, maxAnswer))
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mine = append(mine, time.Since(t))
				mineStatus[res.StatusCode]++
				switch {
				case !ok:
					refusal.setAnswer(res.Status, answer)
				case *batch == 0:
					ordersOK.Add(1)
				default:
					taken, rejected, problem, err := batchOutcome(answer, err)
					ordersOK.Add(int64(taken))
					batchRejected.Add(int64(rejected))
					if err != nil {
						refusal.setAnswer(res.Status+", an answer loadtest cannot read ("+err.Error()+")", answer)
					} else if problem != nil {
						refusal.setAnswer(res.Status+", but the batch rejected an order", problem)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	result := workers.Result{Latencies: latencies}
	pct := func(p float64) time.Duration { return result.Percentile(p) }
	w := env.Stdout
	fmt.Fprintf(w, "target        %s%s, %d clients, %s", *url, map[bool]string{true: "/api/v1/orders:batch", false: "/api/v1/orders"}[*batch > 0], *concurrency, duration.String())
	if *perSecond > 0 {
		fmt.Fprintf(w, ", aiming at %.0f orders/s", *perSecond)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "requests      %d in %s\n", len(latencies), elapsed.Round(time.Millisecond))
	codes := make([]int, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	fmt.Fprint(w, "statuses     ")
	for _, c := range codes {
		label := fmt.Sprint(c)
		if c == 0 {
			label = "error"
		}
		fmt.Fprintf(w, " %s:%d", label, statuses[c])
	}
	fmt.Fprintln(w)
	if *batch > 0 {
		fmt.Fprintf(w, "orders        %d accepted, %d rejected in batches answered 200\n", ordersOK.Load(), batchRejected.Load())
	}
	fmt.Fprintf(w, "throughput    %.0f orders/s accepted\n", float64(ordersOK.Load())/elapsed.Seconds())
	fmt.Fprintf(w, "latency       p50 %s  p90 %s  p99 %s  max %s\n", pct(50).Round(10*time.Microsecond), pct(90).Round(10*time.Microsecond),
		pct(99).Round(10*time.Microsecond), pct(100).Round(10*time.Microsecond))
	if ordersOK.Load() == 0 {
		if first := refusal.String(); first != "" {
			return fmt.Errorf("no order was accepted; check --url, --key and --channel. The first refusal:\n%s", first)
		}
		return fmt.Errorf("no order was accepted; check --url, --key and --channel")
	}
	return nil
}

// maxAnswer is as much of an answer as loadtest reads to look at; a
// batch of 1,000 orders is answered in about 200 KB.
const maxAnswer = 4 << 20

// shownAnswer is as much of a refusal's body as loadtest prints.
const shownAnswer = 2000

// firstRefusal keeps the first answer that took no order, or when there
// is none the first request that got no answer, for loadtest to show when
// no order was accepted.
type firstRefusal struct {
	mu     sync.Mutex
	answer string // status and body
	err    error
}

func (f *firstRefusal) setAnswer(status string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.answer == "" {
		f.answer = status + "\n" + truncate(strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD")), shownAnswer)
	}
}

func (f *firstRefusal) setError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// String is the first refusal's status and body, else the first error,
// else "".
func (f *firstRefusal) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.answer != "":
		return f.answer
	case f.err != nil:
		return "no answer: " + f.err.Error()
	}
	return ""
}

// truncate cuts s to at most n bytes, at a rune boundary, saying how
// long s was.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:cut], len(s))
}

// batchOutcome reads the answer of POST /api/v1/orders:batch: how many
// orders it took (created, or existing already), how many it rejected, and
// the problem of the first rejected one. An answer it cannot read takes
// none.
func batchOutcome(answer []byte, readErr error) (taken, rejected int, problem []byte, err error) {
	var res struct {
		Created  int `json:"created"`
		Existing int `json:"existing"`
		Rejected int `json:"rejected"`
		Results  []struct {
			Outcome string          `json:"outcome"`
			Problem json.RawMessage `json:"problem"`
		} `json:"results"`
	}
	if readErr != nil {
		return 0, 0, nil, readErr
	}
	if err := json.Unmarshal(answer, &res); err != nil {
		return 0, 0, nil, err
	}
	for _, r := range res.Results {
		if r.Outcome == "rejected" && len(r.Problem) > 0 {
			problem = r.Problem
			break
		}
	}
	return res.Created + res.Existing, res.Rejected, problem, nil
}

// defaultLoadOrder is a realistic 3-line order, about 1 KB of JSON.
func defaultLoadOrder() map[string]any {
	line := func(sku, title, price string, qty int) map[string]any {
		return map[string]any{"sku": sku, "title": title, "quantity": qty, "unit_price": price}
	}
	return map[string]any{
		"currency":        "USD",
		"customer":        map[string]any{"name": "Load Test", "email": "load@example.com", "phone": "+1 512 555 0100"},
		"shipping_method": "Standard",
		"line_items":      []any{line("V789", "Valve V789", "19.99", 2), line("A100", "Adapter A100", "4.50", 1), line("H200", "Hose H200", "12.00", 3)},
		"totals":          map[string]any{"subtotal": "80.48", "shipping": "5.00", "tax": "6.64", "total": "92.12"},
		"note":            "Generated by ordergate loadtest",
		"tags":            []any{"loadtest"},
		"custom_fields":   map[string]any{"source": "loadtest"},
	}
}

// loadOrder is a copy of the template with a unique external id, number
// and street address (so duplicate protection does not hold every copy).
func loadOrder(template map[string]any, runID string, n int64) map[string]any {
	o := make(map[string]any, len(template)+4)
	for k, v := range template {
		o[k] = v
	}
	id := fmt.Sprintf("lt-%s-%d", runID, n)
	o["external_id"], o["number"] = id, id
	o["placed_at"] = time.Now().UTC().Format(time.RFC3339)
	o["shipping_address"] = map[string]any{"name": "Load Test", "address1": fmt.Sprintf("%d Load St", n), "city": "Austin",
		"region": "TX", "postal_code": "78701", "country": "US"}
	return o
}
