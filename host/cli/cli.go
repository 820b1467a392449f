// Package cli is the ordergate command line: `serve` runs the daemon, the
// other commands administer a data directory or a policy directory.
package cli

import (
	"context"
	"flag"
	"fmt"
	"github.com/ordergate/ordergate/host/secrets"
	"io"
	"os"
	"strings"
)

// Version is set at build time.
var Version = "dev"

// Env is what a command runs with; tests pass their own.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// Run runs the command in args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = serve(ctx, env, rest)
	case "keys":
		err = keysCommand(ctx, env, rest)
	case "policy":
		err = policyCommand(ctx, env, rest)
	case "loadtest":
		err = loadtest(ctx, env, rest)
	case "backup":
		err = backupCommand(ctx, env, rest)
	case "restore":
		err = restoreCommand(ctx, env, rest)
	case "secret-key":
		fmt.Fprintln(env.Stdout, secrets.NewKey())
	case "version":
		fmt.Fprintln(env.Stdout, "ordergate", Version)
	case "help", "-h", "--help":
		usage(env.Stdout)
	default:
		fmt.Fprintf(env.Stderr, "ordergate: unknown command %q\n", cmd)
		usage(env.Stderr)
		return 2
	}
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(env.Stderr, "ordergate:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: ordergate <command> [flags]

commands:
  serve                      run the host (HTTP API, workflow, store)
  keys create --role R       create an API key in a stopped host's data directory
  policy test [dir]          run the Rego tests of a policy directory
  policy eval --order FILE   print the workflow decision for an order
  loadtest --key K --channel C
                             post generated orders to a host; print throughput and latency
  backup --key K --out FILE  copy a running host's database to FILE (hot backup)
  restore --from FILE --data DIR
                             put a backup in place as a stopped host's database
  secret-key                 print a new random key for --secret-key-file
  version                    print the version

Run 'ordergate <command> -h' for a command's flags. Flags of serve can also
be set as ORDERGATE_<FLAG> environment variables (ORDERGATE_ADDR, ...).
`)
}

// flagSet returns a flag set whose defaults may come from ORDERGATE_*
// environment variables; call fromEnv after defining the flags.
func flagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// fromEnv sets each flag not given on the command line from its
// environment variable, ORDERGATE_ plus the upper-cased flag name. A flag
// set that way counts as given: fs.Visit lists it.
func fromEnv(fs *flag.FlagSet, env Env) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "ORDERGATE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env.Getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}
