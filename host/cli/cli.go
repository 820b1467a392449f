// Package cli is the ordergate command line: `serve` runs the daemon, the
// other commands administer a data directory or a policy directory.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ordergate/ordergate/host/secrets"
)

// Version is set at build time.
var Version = "dev"

// Env is what a command runs with; tests pass their own.
type Env struct {
	// Stdin is read by commands that take a secret there (users create
	// without --password-file); nil reads nothing.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// Exit codes of Run besides 0: a command that failed, and a command line
// that is not one (an unknown command, flag or argument).
const (
	ExitFailure = 1
	ExitUsage   = 2
)

// Run runs the command in args (without the program name) and returns the
// process exit code. Every command and subcommand answers -h, --help and
// a first argument help with its usage on stdout (exit 0); a command line
// it does not take gets its usage on stderr (exit 2).
func Run(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	return exitCode(env, runCommand(ctx, env, args))
}

func runCommand(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return &usageError{err: errors.New("no command given"), usage: usage}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, env, rest)
	case "keys":
		return keysCommand(ctx, env, rest)
	case "policy":
		return policyCommand(ctx, env, rest)
	case "users":
		return usersCommand(ctx, env, rest)
	case "loadtest":
		return loadtest(ctx, env, rest)
	case "backup":
		return backupCommand(ctx, env, rest)
	case "restore":
		return restoreCommand(ctx, env, rest)
	case "migrate":
		return migrateCommand(ctx, env, rest)
	case "secret-key":
		return secretKey(env, rest)
	case "version", "--version", "-version":
		return version(env, rest)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && !isHelp(rest[0]) {
			// help COMMAND [SUBCOMMAND] is COMMAND [SUBCOMMAND] --help.
			return runCommand(ctx, env, append(append([]string{}, rest...), "--help"))
		}
		usage(env.Stdout)
		return errHelp
	}
	if strings.HasPrefix(cmd, "-") {
		return &usageError{err: fmt.Errorf("unknown flag %s (flags go after the command)", cmd), usage: usage}
	}
	return &usageError{err: fmt.Errorf("unknown command %q", cmd), usage: usage}
}

// exitCode reports err as Run returns it: the usage on stdout was the
// answer to a help request; a usage error goes to stderr with the usage.
func exitCode(env Env, err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(env.Stderr, "ordergate:", ue.err)
		fmt.Fprintln(env.Stderr)
		ue.usage(env.Stderr)
		return ExitUsage
	}
	fmt.Fprintln(env.Stderr, "ordergate:", err)
	return ExitFailure
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: ordergate <command> [flags]

commands:
  serve                      run the host (HTTP API, workflow, store)
  keys create --role R       create an API key (a stopped host's data directory, or --store DSN)
  users create --username U --role R
                             create a console user (list, delete, set-password too)
  policy test [dir]          run the Rego tests of a policy directory
  policy eval --order FILE   print the workflow decision for an order
  policy backtest --host URL --key K
                             replay candidate policies on stored orders (or --data DIR)
  policy stats --host URL --key K
                             print each output rule's hits on a running host
  loadtest --key K --channel C
                             post generated orders to a host; print throughput and latency
  backup --key K --out FILE  copy a running host's database to FILE (hot backup)
  restore --from FILE --data DIR
                             put a backup in place as a stopped host's database
  migrate --from DIR --to DSN
                             copy a stopped host's bbolt store into an empty PostgreSQL database
  secret-key                 print a new random key for --secret-key-file
  version                    print the version (also --version)
  help [command]             print this, or a command's usage

Run 'ordergate <command> -h' for a command's flags. Flags of serve can also
be set as ORDERGATE_<FLAG> environment variables (ORDERGATE_ADDR, ...).
`)
}

// errHelp is returned once a command has printed its usage on stdout
// because it was asked to: Run exits 0.
var errHelp = errors.New("help requested")

// usageError is a command line a command does not take: Run prints it
// and the command's usage on stderr and exits ExitUsage.
type usageError struct {
	err   error
	usage func(io.Writer)
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// flags is the flag set of one command, with the usage it prints.
type flags struct {
	*flag.FlagSet
	env      Env
	synopsis string // the command line after "ordergate "
	about    string // what the command does
	envVars  bool   // the flags can be set as ORDERGATE_ variables
}

// newFlags returns the flag set of a command; synopsis is its command
// line after "ordergate ", about what it does. The flag package prints
// nothing itself: parse does.
func newFlags(env Env, synopsis, about string) *flags {
	fs := flag.NewFlagSet("ordergate "+synopsis, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, env: env, synopsis: synopsis, about: about}
}

func (f *flags) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: ordergate %s\n\n%s\n", f.synopsis, f.about)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
	if f.envVars {
		fmt.Fprintln(w, "\nA flag not given takes the value of its environment variable, ORDERGATE_ and\nthe flag's name in capitals with - as _ (ORDERGATE_DATA for --data).")
	}
}

// parse parses args, which may hold up to maxArgs positional arguments
// after the flags. A help request (-h or --help among the flags, or help
// as the first argument) prints the usage on stdout and returns errHelp;
// an unknown flag, a bad flag value or an argument too many returns a
// usageError.
func (f *flags) parse(args []string, maxArgs int) error {
	if len(args) > 0 && isHelp(args[0]) {
		f.usage(f.env.Stdout)
		return errHelp
	}
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.usage(f.env.Stdout)
			return errHelp
		}
		return &usageError{err: err, usage: f.usage}
	}
	if f.NArg() > maxArgs {
		return &usageError{err: fmt.Errorf("unexpected argument %q", f.Arg(maxArgs)), usage: f.usage}
	}
	return nil
}

// parseWithEnv is parse, then fromEnv: flags not given take their
// ORDERGATE_ variables.
func (f *flags) parseWithEnv(args []string, maxArgs int) error {
	f.envVars = true
	if err := f.parse(args, maxArgs); err != nil {
		return err
	}
	return fromEnv(f.FlagSet, f.env)
}

// subcommand is one command of a command group such as keys or policy.
type subcommand struct {
	name, summary string
	run           func(context.Context, Env, []string) error
}

// runGroup runs the subcommand args[0] of group, or prints the group's
// usage: on stdout when asked for help, else with a usageError.
func runGroup(ctx context.Context, env Env, group, about string, subs []subcommand, args []string) error {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: ordergate %s <command> [flags]\n\n%s\n\ncommands:\n", group, about)
		for _, s := range subs {
			fmt.Fprintf(w, "  %-8s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun 'ordergate %s <command> -h' for a command's flags.\n", group)
	}
	if len(args) == 0 {
		return &usageError{err: fmt.Errorf("%s needs a command", group), usage: usage}
	}
	if isHelp(args[0]) {
		if len(args) > 1 && args[0] == "help" {
			return runGroup(ctx, env, group, about, subs, append(append([]string{}, args[1:]...), "--help"))
		}
		usage(env.Stdout)
		return errHelp
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, env, args[1:])
		}
	}
	return &usageError{err: fmt.Errorf("unknown %s command %q", group, args[0]), usage: usage}
}

func secretKey(env Env, args []string) error {
	fs := newFlags(env, "secret-key", "Prints a new random 32-byte key, base64-encoded, for serve's\n--secret-key-file (or ORDERGATE_SECRET_KEY).")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secrets.NewKey())
	return nil
}

func version(env Env, args []string) error {
	fs := newFlags(env, "version", "Prints the version of ordergate (also: ordergate --version).")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "ordergate", Version)
	return nil
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
