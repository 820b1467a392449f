package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/ordergate/ordergate/sdk"
)

// DebugEnv set to a true value (1, true) starts a connector run by hand in
// debug mode, as the -debug flag does.
const DebugEnv = "ORDERGATE_CONNECTOR_DEBUG"

// DebugFlag is the command-line flag that starts a connector run by hand
// in debug mode (--debug works too).
const DebugFlag = "-debug"

// Serve runs the connector as a plugin of the host. It is the whole of a
// connector's main:
//
//	func main() { plugin.Serve(myconnector.New()) }
//
// Logs written through sdk.Logger(ctx) reach the host's log under the
// connector's name. The connector exits when its host is gone.
//
// Run by hand with -debug (or with ORDERGATE_CONNECTOR_DEBUG=1), Serve
// serves in debug mode instead (see ServeDebug): the connector runs
// standalone, under a debugger if you like, prints the
// ORDERGATE_REATTACH_CONNECTORS line that attaches a host to it, and runs
// until it is interrupted (Ctrl-C, SIGTERM). Run by hand otherwise, it
// says how to run it and exits 1. A connector the host starts is never in
// debug mode, whatever its environment.
func Serve(c sdk.Connector) {
	desc := c.Describe()
	if err := desc.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "connector description is not valid: %v\n", err)
		os.Exit(1)
	}
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		os.Exit(serveByHand(c, os.Args, os.Getenv(DebugEnv), os.Stdout, os.Stderr))
	}
	go exitWithParent(os.Getppid(), time.Second)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(c),
		GRPCServer:       newGRPCServer,
		Logger:           newPluginLogger("connector."+desc.Name, os.Stderr),
	})
}

// serveByHand runs a connector started without the host's handshake:
// debug mode when asked for, else a word on how to run it. It returns the
// exit code.
func serveByHand(c sdk.Connector, args []string, debugEnv string, stdout, stderr io.Writer) int {
	command := "ordergate-connector-" + c.Describe().Name
	if len(args) > 0 {
		command = filepath.Base(args[0])
	}
	debug, err := debugMode(args[1:], debugEnv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nusage: %s [%s]\n", command, err, command, DebugFlag)
		return 2
	}
	if !debug {
		fmt.Fprintf(stderr, "%s is an ordergate connector, which the ordergate host starts\n"+
			"from its plugins directory. To run it on its own (under a debugger, say),\n"+
			"start it with %s or %s=1, then start the host with the\n"+
			"%s line it prints.\n",
			command, DebugFlag, DebugEnv, ReattachEnv)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = ServeDebug(ctx, c, func(rc ReattachConfig) {
		printReattach(stdout, c.Describe().Name, rc)
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", command, err)
		return 1
	}
	return 0
}

// debugMode says whether a connector run by hand with args (after the
// program's name) and DebugEnv's value debugEnv serves in debug mode.
func debugMode(args []string, debugEnv string) (bool, error) {
	switch {
	case len(args) == 1 && (args[0] == DebugFlag || args[0] == "-"+DebugFlag):
		return true, nil
	case len(args) > 0:
		return false, fmt.Errorf("unknown arguments %q", args)
	case debugEnv == "":
		return false, nil
	}
	on, err := strconv.ParseBool(debugEnv)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not a boolean (1 or 0)", DebugEnv, debugEnv)
	}
	return on, nil
}

// printReattach tells the person who started the connector in debug mode
// how to attach a host to it.
func printReattach(w io.Writer, name string, rc ReattachConfig) {
	fmt.Fprintf(w, "Connector %s is serving in debug mode (pid %d). Start the host with:\n\n\t%s\n\n"+
		"The host attaches to this process instead of starting its binary and never stops it;\n"+
		"its logs stay on this terminal. Stop it with Ctrl-C (or kill -TERM %d).\n",
		name, rc.Pid, rc.EnvLine(name), rc.Pid)
}

// ServeDebug serves c standalone, in go-plugin's test mode, until ctx is
// done: no host started the process and none stops it, so it can run
// under a debugger. Once it listens it calls ready with the configuration
// that attaches a host to it; a host started with that configuration under
// the connector's name in ORDERGATE_REATTACH_CONNECTORS (serve's
// --reattach-connectors) calls this process instead of starting the
// connector's binary, and leaves it running when the host restarts the
// connector or stops. The connection is on a local socket without TLS:
// debug mode is for development. The connector's logs go to stderr as
// text. ServeDebug returns when serving has stopped.
//
// Serve calls it for a connector started with -debug; a test can call it
// to serve a connector in-process to a host it starts (see
// host/connectors' tests).
//
// To debug a connector with Delve, start it in debug mode under dlv,
// either in one go:
//
//	dlv debug ./cmd/ordergate-connector-acme -- -debug
//
// or from a binary built with optimizations off:
//
//	go build -gcflags=all='-N -l' -o ordergate-connector-acme ./cmd/ordergate-connector-acme
//	dlv exec ./ordergate-connector-acme -- -debug
//
// then set breakpoints (break main.(*Acme).GetOrders) and continue: the
// connector prints ORDERGATE_REATTACH_CONNECTORS='{"acme":{...}}'. Start
// the host in another terminal with that variable set (ordergate serve
// and make run honour it), then test or import a channel of the
// connector: the call stops at the breakpoints. Under dlv, Ctrl-C halts
// the program in the debugger rather than ending it; quit dlv to end it.
//
// For an editor's debugger, launch the program with the argument -debug
// (the line is printed on its stdout, the debug console), or run dlv
// headless and attach the editor to it:
//
//	dlv debug --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient --continue ./cmd/ordergate-connector-acme -- -debug
//
// The host's timeouts still run while the connector is stopped at a
// breakpoint: a GetOrders stream that sends nothing for two minutes is
// canceled (the connector is left running), a connection test ends after
// 30 seconds, and the host gives up attaching when Describe takes longer
// than 30 seconds.
func ServeDebug(ctx context.Context, c sdk.Connector, ready func(ReattachConfig)) error {
	desc := c.Describe()
	if err := desc.Validate(); err != nil {
		return fmt.Errorf("connector description is not valid: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := precise(hclog.New(&hclog.LoggerOptions{Name: "connector." + desc.Name, Output: os.Stderr, Level: hclog.Debug}))
	reattach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(c, log),
		GRPCServer:       newGRPCServer,
		Logger:           stopLogger{Logger: log, ctx: ctx},
		Test:             &goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed},
	})
	select {
	case rc := <-reattach:
		if ready != nil {
			ready(reattachConfigOf(rc))
		}
	case <-closed:
		return errors.New("the connector stopped before it listened (see its log above)")
	}
	<-closed
	return nil
}

// stopLogger is go-plugin's logger in debug mode: once ctx is done,
// go-plugin stops by closing the listener under its gRPC server, whose
// "use of closed network connection" is no error to show.
type stopLogger struct {
	hclog.Logger
	ctx context.Context
}

func (l stopLogger) Error(msg string, args ...any) {
	if l.ctx.Err() != nil && msg == "grpc server" {
		return
	}
	l.Logger.Error(msg, args...)
}

// exitWithParent ends the process when its parent (the host) is gone,
// even if the host was killed and could not stop it.
func exitWithParent(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

// newPluginLogger logs JSON to stderr, which go-plugin reads and writes to
// the host's log under the connector's name; integers too large for a
// float64 are logged as strings (see preciseLogger).
func newPluginLogger(name string, w io.Writer) hclog.Logger {
	return precise(hclog.New(&hclog.LoggerOptions{Name: name, Output: w, JSONFormat: true, Level: hclog.Trace}))
}
