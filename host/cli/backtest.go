package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/api"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/rulestats"
)

func policyBacktest(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "policy backtest [--policies DIR] (--host URL --key K | --data DIR | --store DSN) [flags]",
		"Replays a candidate policy directory on stored orders, each on the facts it was\n"+
			"decided with, and prints what would change against the decisions on record:\n"+
			"per kind of change, per rule, and the orders that changed most. Nothing is\n"+
			"stored and nothing is sent. With --host it runs on a running host (an admin\n"+
			"key); with --data or --store on a stopped host's store. It exits 0 whether\n"+
			"or not orders change; progress goes to stderr.")
	dir := fs.String("policies", "./policies", "the candidate policy directory")
	hostURL := fs.String("host", "", "a running host's base URL, e.g. http://127.0.0.1:8080")
	key := fs.String("key", "", "an admin API key of --host; or ORDERGATE_KEY")
	data := fs.String("data", "", "data directory of a stopped host")
	store := fs.String("store", "", storeUsage)
	since := fs.String("since", "", "only orders imported within this duration, e.g. 720h or 30d")
	channel := fs.String("channel", "", "only orders of this channel")
	status := fs.String("status", "", "only orders of this status: open, on_hold or canceled")
	limit := fs.Int("limit", backtest.DefaultTop, "how many changed orders to list")
	factsNow := fs.Bool("facts-now", false, "replay on today's facts instead of those each order was decided with")
	format := fs.String("format", "table", "table or json")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--format must be table or json, not %q", *format)
	}
	req := api.BacktestRequest{Since: *since, ChannelID: *channel, Status: *status, Limit: *limit}
	if *factsNow {
		req.Baseline = backtest.FactsNow
	}
	var res *backtest.Result
	var err error
	switch {
	case *hostURL != "" && (*data != "" || *store != ""):
		return fmt.Errorf("give --host, or --data/--store, not both")
	case *hostURL != "":
		if *key == "" {
			return fmt.Errorf("--key (or ORDERGATE_KEY) is required with --host")
		}
		if req.Files, err = policy.ReadBundle(*dir); err != nil {
			return err
		}
		res, err = remoteBacktest(ctx, env, strings.TrimRight(*hostURL, "/"), *key, req)
	default:
		if *data == "" && *store == "" {
			return fmt.Errorf("give --host URL --key K (a running host) or --data DIR / --store DSN (a stopped host's store)")
		}
		res, err = localBacktest(ctx, env, *dir, *data, *store, req)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(env.Stdout)
}

// progress shows a run's progress on stderr: on a terminal one line
// rewritten as the run goes, elsewhere (a log, a pipe) the last figure
// once the run ends. end prints the end of the line.
type progress struct {
	env  Env
	tty  bool
	last backtest.Progress
	seen bool
}

func newProgress(env Env) *progress {
	p := &progress{env: env}
	if f, ok := env.Stderr.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) show(pr backtest.Progress) {
	p.last, p.seen = pr, true
	if p.tty {
		fmt.Fprintf(p.env.Stderr, "\rbacktest: %d of %d orders replayed", pr.Evaluated, pr.Total)
	}
}

func (p *progress) end() {
	switch {
	case p.tty && p.seen:
		fmt.Fprintln(p.env.Stderr)
	case p.seen:
		fmt.Fprintf(p.env.Stderr, "backtest: %d of %d orders replayed\n", p.last.Evaluated, p.last.Total)
	}
}

func localBacktest(ctx context.Context, env Env, dir, data, store string, req api.BacktestRequest) (*backtest.Result, error) {
	candidate, err := policy.LoadRevision(ctx, dir)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, store, data, nil)
	if err != nil {
		return nil, err
	}
	defer db.close()
	// The filters are checked as the API checks them.
	f := backtest.Filters{Since: req.Since, ChannelID: req.ChannelID, Status: req.Status, Limit: req.Limit, Baseline: req.Baseline}
	opt, err := f.Options(ctx, db.Store)
	if err != nil {
		return nil, err
	}
	bar := newProgress(env)
	opt.Progress = bar.show
	svc := orders.NewService(db.Store, nil, nil)
	// The command line reads a stopped host's store as the host itself.
	facts := func(ctx context.Context, r *host.Record) (*host.OrderContext, error) {
		return svc.FactsNow(host.WithActor(ctx, host.System), r)
	}
	res, err := backtest.Run(ctx, db.Store, facts, candidate, opt)
	bar.end()
	return res, err
}

func remoteBacktest(ctx context.Context, env Env, base, key string, req api.BacktestRequest) (*backtest.Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var started api.BacktestStarted
	if err := callAPI(ctx, http.MethodPost, base+"/api/v1/workflow/backtest", key, body, http.StatusAccepted, &started); err != nil {
		return nil, err
	}
	bar := newProgress(env)
	defer bar.end()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		var job backtest.Job
		if err := callAPI(ctx, http.MethodGet, base+"/api/v1/workflow/backtests/"+started.ID, key, nil, http.StatusOK, &job); err != nil {
			return nil, err
		}
		bar.show(job.Progress)
		switch job.Status {
		case backtest.JobSucceeded:
			return job.Result, nil
		case backtest.JobFailed:
			return nil, fmt.Errorf("backtest %s failed: %s", job.ID, job.Error)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-poll.C:
		}
	}
}

// callAPI sends one request to a host and decodes the answer into out;
// any other status than want is an error with the problem's detail.
func callAPI(ctx context.Context, method, url, key string, body []byte, want int, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", method, url, err)
	}
	if res.StatusCode != want {
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
			Errors []struct {
				Field  string `json:"field"`
				Detail string `json:"detail"`
			} `json:"errors"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &p) == nil && (p.Detail != "" || p.Title != "") {
			msg = strings.TrimSpace(p.Title + ": " + p.Detail)
			for _, f := range p.Errors {
				msg += fmt.Sprintf("\n  %s %s", f.Field, f.Detail)
			}
		}
		return fmt.Errorf("%s %s: %s: %s", method, url, res.Status, msg)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", method, url, err)
	}
	return nil
}

func policyStats(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "policy stats --host URL --key K [--format table|json]",
		"Prints every output rule of the revision a running host serves with its hits\nover the last hour, day and 30 days, its last hit and whether it is idle.")
	hostURL := fs.String("host", "http://127.0.0.1:8080", "the host's base URL")
	key := fs.String("key", "", "an operator or admin API key; or ORDERGATE_KEY")
	format := fs.String("format", "table", "table or json")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	if *key == "" {
		return fmt.Errorf("--key (or ORDERGATE_KEY) is required")
	}
	var t rulestats.Table
	if err := callAPI(ctx, http.MethodGet, strings.TrimRight(*hostURL, "/")+"/api/v1/workflow/rules", *key, nil, http.StatusOK, &t); err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	return t.WriteText(env.Stdout)
}
