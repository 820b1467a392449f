package sdk

import "context"

// Log is what a connector logs through; Logger(ctx) returns the call's.
// Each method takes a message and alternating keys and values:
//
//	sdk.Logger(ctx).Info("page sent", "orders", len(orders), "cursor", cursor)
//
// It is the common part of the standard library's *slog.Logger and of
// hclog.Logger, so either can be given to WithLogger (a test that checks
// what a connector logs, say) and the sdk package needs neither. Under
// the host, the logger of a call (see the sdk/plugin package) writes to
// the host's log under the connector's name; never log secrets.
type Log interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

type loggerKey struct{}

// Logger returns the logger of a connector call: what it logs reaches the
// host's log. A context without one (WithLogger) logs nowhere. Never log
// secrets.
func Logger(ctx context.Context) Log {
	if l, ok := ctx.Value(loggerKey{}).(Log); ok {
		return l
	}
	return discard{}
}

// WithLogger returns ctx carrying l for Logger.
func WithLogger(ctx context.Context, l Log) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// discard is the logger of a context without one.
type discard struct{}

func (discard) Debug(string, ...any) {}
func (discard) Info(string, ...any)  {}
func (discard) Warn(string, ...any)  {}
func (discard) Error(string, ...any) {}
