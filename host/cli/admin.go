package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/keys"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

func keysCommand(ctx context.Context, env Env, args []string) error {
	return runGroup(ctx, env, "keys", "Administers the API keys of a stopped host's data directory; a running host\nmanages them over its API (/api/v1/keys).", []subcommand{
		{"create", "create an API key and print its secret once", keysCreate},
	}, args)
}

func keysCreate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys create --role admin|operator|reseller|metrics [--channel ID] [--name NAME] [--data DIR | --store DSN]",
		"Creates an API key and prints its secret, alone on the last line, once: in the\ndata directory of a stopped host, or in a PostgreSQL store (hosts may run).")
	role := fs.String("role", "", "admin, reseller (with --channel) or metrics (may only read /metrics)")
	channel := fs.String("channel", "", "the B2B channel a reseller key posts to (created if new)")
	name := fs.String("name", "", "a name to recognise the key by")
	data := fs.String("data", "./data", "data directory of a stopped host")
	store := fs.String("store", "", storeUsage)
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	db, err := openStore(ctx, *store, *data, nil)
	if err != nil {
		return err
	}
	defer db.close()
	// The command line works on a stopped host's data as the host itself.
	k, secret, err := keys.New(db.Store, func() time.Time { return time.Now().UTC() }).Create(host.WithActor(ctx, host.System), *role, *channel, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created %s key %s", k.Role, k.ID)
	if k.ChannelID != "" {
		fmt.Fprintf(env.Stdout, " for channel %s", k.ChannelID)
	}
	fmt.Fprintf(env.Stdout, "; the secret below is shown this once:\n%s\n", secret)
	return nil
}

func policyCommand(ctx context.Context, env Env, args []string) error {
	return runGroup(ctx, env, "policy", "Works with a policy directory (Rego and data files): tests and evaluates it\nwithout a host, backtests it on stored orders, and reads a host's rule\nstatistics.", []subcommand{
		{"test", "run the Rego tests of a policy directory", policyTest},
		{"eval", "print the workflow decision for an order", policyEval},
		{"backtest", "replay candidate policies on stored orders and print what would change", policyBacktest},
		{"stats", "print each output rule's hits on a running host", policyStats},
	}, args)
}

func policyTest(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "policy test [-v] [dir]", "Runs the Rego tests (the *_test.rego files) of a policy directory, ./policies\nby default, and prints the failures (every test with -v).")
	verbose := fs.Bool("v", false, "print every test, not only failures")
	if err := fs.parse(args, 1); err != nil {
		return err
	}
	dir := "./policies"
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	results, err := policy.RunTests(ctx, dir)
	if err != nil {
		return err
	}
	failed := 0
	for _, t := range results {
		if !t.Pass && !t.Skip {
			failed++
		}
		if *verbose || (!t.Pass && !t.Skip) {
			fmt.Fprintln(env.Stdout, t)
		}
	}
	fmt.Fprintln(env.Stdout, "--------------------------------------------------------------------------------")
	if failed > 0 {
		fmt.Fprintf(env.Stdout, "FAIL: %d/%d\n", failed, len(results))
		return fmt.Errorf("%d policy test(s) failed", failed)
	}
	fmt.Fprintf(env.Stdout, "PASS: %d/%d\n", len(results), len(results))
	return nil
}

func policyEval(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "policy eval --order FILE [flags]", "Prints, as JSON, the workflow decision the policies make for one canonical\norder (sdk.Order as JSON).")
	orderFile := fs.String("order", "", "JSON file with one canonical order")
	dir := fs.String("policies", "./policies", "policy directory")
	channel := fs.String("channel", "", "channel id for input.channel.id (default: the order's channel_id)")
	kind := fs.String("channel-kind", host.ChannelB2C, "channel kind for input.channel.kind: b2c or b2b")
	contextFile := fs.String("context", "", "JSON file with input.context (default: no catalog, routing or shipping data)")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	if *orderFile == "" {
		return fmt.Errorf("--order FILE is required")
	}
	data, err := os.ReadFile(*orderFile)
	if err != nil {
		return err
	}
	var o sdk.Order
	if err := json.Unmarshal(data, &o); err != nil {
		return fmt.Errorf("reading %s: %w", *orderFile, err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%s: %w", *orderFile, err)
	}
	rev, err := policy.LoadRevision(ctx, *dir)
	if err != nil {
		return err
	}
	in := &policy.Input{Order: &o, Channel: policy.ChannelInput{ID: *channel, Kind: *kind}, Now: time.Now().UTC()}
	if *contextFile != "" {
		data, err := os.ReadFile(*contextFile)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		in.Context = new(host.OrderContext)
		if err := dec.Decode(in.Context); err != nil {
			return fmt.Errorf("reading %s: %w", *contextFile, err)
		}
	}
	if in.Channel.ID == "" {
		in.Channel.ID = o.ChannelID
	}
	d, err := rev.Evaluate(ctx, in, policy.Limits{})
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, string(out))
	return nil
}
