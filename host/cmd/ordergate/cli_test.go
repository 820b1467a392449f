package main_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/bolt"
)

// runCLI runs the binary with args in dir, without the ORDERGATE_
// variables of the test's environment, and returns its exit code, stdout
// and stderr. It is killed after a minute: a command that should answer at
// once but serves instead fails the test rather than hang it.
func runCLI(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORDERGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatalf("ordergate %v: %v", args, err)
	}
	return 0, stdout.String(), stderr.String()
}

// commands is every command and subcommand of ordergate; nil is
// ordergate itself. TestHelp checks it against the commands the usage
// lists.
var commands = [][]string{
	nil,
	{"serve"},
	{"keys"},
	{"keys", "create"},
	{"policy"},
	{"policy", "test"},
	{"policy", "eval"}, {"policy", "backtest"}, {"policy", "stats"},
	{"loadtest"},
	{"users"},
	{"users", "create"},
	{"users", "list"},
	{"users", "delete"},
	{"users", "set-password"},
	{"backup"},
	{"restore"},
	{"migrate"},
	{"secret-key"},
	{"version"},
	{"help"},
}

// TestHelp asks every command and subcommand for help in each way (-h,
// --help and help after it, and help before it): each prints its own
// usage on stdout, nothing on stderr, exits 0 and leaves the directory it
// runs in untouched (serve -h does not serve, secret-key -h prints no
// key, keys create -h creates no data directory).
func TestHelp(t *testing.T) {
	type call struct {
		name string
		args []string
		want string // the start of stdout
	}
	var calls []call
	for _, path := range commands {
		want := "usage: ordergate " + strings.Join(path, " ")
		if len(path) == 0 || slices.Equal(path, []string{"help"}) {
			want = "usage: ordergate <command>"
		}
		for _, form := range []string{"-h", "--help", "help"} {
			args := append(slices.Clone(path), form)
			calls = append(calls, call{strings.Join(args, " "), args, want})
		}
		if len(path) > 0 && path[0] != "help" {
			args := append([]string{"help"}, path...)
			calls = append(calls, call{strings.Join(args, " "), args, want})
		}
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code, stdout, stderr := runCLI(t, dir, c.args...)
			if code != 0 || !strings.HasPrefix(stdout, c.want) || stderr != "" {
				t.Fatalf("ordergate %s: exit %d, want 0 with %q... on stdout and nothing on stderr\nstdout:\n%s\nstderr:\n%s",
					c.name, code, c.want, stdout, stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("ordergate %s left %v in its directory", c.name, entries)
			}
		})
	}

	// The table holds every command the usages list.
	listed := [][]string{nil}
	_, top, _ := runCLI(t, t.TempDir(), "help")
	for _, name := range usageCommands(t, top) {
		listed = append(listed, []string{name})
		if name == "keys" || name == "policy" || name == "users" {
			_, group, _ := runCLI(t, t.TempDir(), name, "help")
			for _, sub := range usageCommands(t, group) {
				listed = append(listed, []string{name, sub})
			}
		}
	}
	for _, path := range listed {
		if !slices.ContainsFunc(commands, func(c []string) bool { return slices.Equal(c, path) }) {
			t.Errorf("the usage lists %q, which the commands table of this test lacks", strings.Join(path, " "))
		}
	}
	if len(listed) != len(commands) {
		t.Errorf("the usages list %d commands, the table has %d: %q", len(listed), len(commands), listed)
	}
}

// usageCommands returns the distinct command names under "commands:" in a
// usage.
func usageCommands(t *testing.T, usage string) []string {
	t.Helper()
	_, list, ok := strings.Cut(usage, "\ncommands:\n")
	if !ok {
		t.Fatalf("no commands: section in\n%s", usage)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z-]*)`).FindAllStringSubmatch(list, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// TestVersion checks that --version and version print the same version
// line.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, stdout, stderr := runCLI(t, t.TempDir(), args...)
		if code != 0 || stdout != "ordergate dev\n" || stderr != "" {
			t.Errorf("ordergate %s: exit %d, stdout %q, stderr %q; want 0 and \"ordergate dev\\n\" (the tests' build sets no version)",
				args[0], code, stdout, stderr)
		}
	}
}

// TestUsageErrors runs command lines ordergate does not take: each exits
// 2 with the error and the usage of the command in question on stderr, and
// prints nothing on stdout.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		error string
		usage string
	}{
		{nil, "no command given", "usage: ordergate <command>"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "usage: ordergate <command>"},
		{[]string{"--frobnicate"}, "unknown flag --frobnicate", "usage: ordergate <command>"},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`, "usage: ordergate <command>"},
		{[]string{"serve", "--frobnicate"}, "flag provided but not defined: -frobnicate", "usage: ordergate serve"},
		{[]string{"serve", "--addr"}, "flag needs an argument: -addr", "usage: ordergate serve"},
		{[]string{"serve", "--key-burst", "many"}, `invalid value "many" for flag -key-burst`, "usage: ordergate serve"},
		{[]string{"serve", "now"}, `unexpected argument "now"`, "usage: ordergate serve"},
		{[]string{"keys"}, "keys needs a command", "usage: ordergate keys <command>"},
		{[]string{"keys", "list"}, `unknown keys command "list"`, "usage: ordergate keys <command>"},
		{[]string{"keys", "create", "--owner", "x"}, "flag provided but not defined: -owner", "usage: ordergate keys create"},
		{[]string{"policy"}, "policy needs a command", "usage: ordergate policy <command>"},
		{[]string{"policy", "check"}, `unknown policy command "check"`, "usage: ordergate policy <command>"},
		{[]string{"policy", "test", "a", "b"}, `unexpected argument "b"`, "usage: ordergate policy test"},
		{[]string{"policy", "eval", "--frobnicate"}, "flag provided but not defined: -frobnicate", "usage: ordergate policy eval"},
		{[]string{"loadtest", "--frobnicate"}, "flag provided but not defined: -frobnicate", "usage: ordergate loadtest"},
		{[]string{"backup", "--frobnicate"}, "flag provided but not defined: -frobnicate", "usage: ordergate backup"},
		{[]string{"restore", "--frobnicate"}, "flag provided but not defined: -frobnicate", "usage: ordergate restore"},
		{[]string{"migrate", "--to", "postgres://db/og"}, "--from is required", "usage: ordergate migrate"},
		{[]string{"migrate", "--from", "data", "--to", "mysql://db"}, "--to must be a postgres:// DSN", "usage: ordergate migrate"},
		{[]string{"secret-key", "--frobnicate"}, "flag provided but not defined: -frobnicate", "usage: ordergate secret-key"},
		{[]string{"secret-key", "now"}, `unexpected argument "now"`, "usage: ordergate secret-key"},
		{[]string{"version", "--short"}, "flag provided but not defined: -short", "usage: ordergate version"},
	} {
		name := strings.Join(tc.args, " ")
		if name == "" {
			name = "no arguments"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code, stdout, stderr := runCLI(t, dir, tc.args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "ordergate: "+tc.error) || !strings.Contains(stderr, "\n"+tc.usage) {
				t.Errorf("ordergate %s: exit %d, want 2 with %q and %q... on stderr and nothing on stdout\nstdout:\n%s\nstderr:\n%s",
					name, code, tc.error, tc.usage, stdout, stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("ordergate %s left %v in its directory", name, entries)
			}
		})
	}
}

// TestServeBusyPort starts serve on a new data directory at an address
// another process listens on: it fails without having created an admin
// key, in the data directory or on stdout.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	dir, err := filepath.Abs(policies)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, t.TempDir(), "serve", "--addr", ln.Addr().String(), "--data", data, "--policies", dir)
	if code != 1 || !strings.Contains(stderr, "listening on "+ln.Addr().String()) {
		t.Errorf("serve on a busy port: exit %d, want 1 with the listening error\nstderr:\n%s", code, stderr)
	}
	if strings.Contains(stdout, "ogk_") || strings.Contains(stdout, "admin key") {
		t.Errorf("serve on a busy port printed a key:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(data, bolt.FileName)); errors.Is(err, os.ErrNotExist) {
		return // no database, so no key
	}
	db, err := bolt.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := db.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("serve on a busy port created %d key(s) in the data directory", len(keys))
	}
}
