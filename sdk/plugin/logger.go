package plugin

import (
	"strconv"

	"github.com/hashicorp/go-hclog"
)

// maxExactFloat is the largest integer a float64 holds exactly (2^53).
const maxExactFloat = 1 << 53

// preciseLogger is a connector's logger: go-plugin decodes the connector's
// JSON log lines into float64s on the host's side, so an integer too large
// for a float64 (a shop's order id, say) would reach the host's log
// rounded. It logs such integers as their decimal strings instead.
type preciseLogger struct{ hclog.Logger }

func precise(l hclog.Logger) hclog.Logger { return preciseLogger{l} }

// exactArgs returns args with every integer value a float64 cannot hold
// exactly replaced by its decimal string (keys are left alone).
func exactArgs(args []any) []any {
	var out []any
	for i := 1; i < len(args); i += 2 {
		var s string
		switch v := args[i].(type) {
		case int64:
			if v > maxExactFloat || v < -maxExactFloat {
				s = strconv.FormatInt(v, 10)
			}
		case int:
			if v > maxExactFloat || v < -maxExactFloat {
				s = strconv.Itoa(v)
			}
		case uint64:
			if v > maxExactFloat {
				s = strconv.FormatUint(v, 10)
			}
		case uint:
			if v > maxExactFloat {
				s = strconv.FormatUint(uint64(v), 10)
			}
		}
		if s == "" {
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = s
	}
	if out == nil {
		return args
	}
	return out
}

func (l preciseLogger) Log(level hclog.Level, msg string, args ...any) {
	l.Logger.Log(level, msg, exactArgs(args)...)
}
func (l preciseLogger) Trace(msg string, args ...any) { l.Logger.Trace(msg, exactArgs(args)...) }
func (l preciseLogger) Debug(msg string, args ...any) { l.Logger.Debug(msg, exactArgs(args)...) }
func (l preciseLogger) Info(msg string, args ...any)  { l.Logger.Info(msg, exactArgs(args)...) }
func (l preciseLogger) Warn(msg string, args ...any)  { l.Logger.Warn(msg, exactArgs(args)...) }
func (l preciseLogger) Error(msg string, args ...any) { l.Logger.Error(msg, exactArgs(args)...) }
func (l preciseLogger) With(args ...any) hclog.Logger {
	return preciseLogger{l.Logger.With(exactArgs(args)...)}
}
func (l preciseLogger) Named(name string) hclog.Logger {
	return preciseLogger{l.Logger.Named(name)}
}
func (l preciseLogger) ResetNamed(name string) hclog.Logger {
	return preciseLogger{l.Logger.ResetNamed(name)}
}
