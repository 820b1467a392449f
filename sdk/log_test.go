package sdk

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestLogger: a connector logs through the logger its context carries,
// which may be the standard library's *slog.Logger (as hclog.Logger may,
// see sdk/plugin); a context without one logs nowhere.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	Logger(ctx).Debug("page sent", "orders", 2)
	Logger(ctx).Warn("file set aside", "file", "x.csv")
	if out := buf.String(); !strings.Contains(out, `level=DEBUG msg="page sent" orders=2`) || !strings.Contains(out, `level=WARN msg="file set aside" file=x.csv`) {
		t.Errorf("logged:\n%s", out)
	}
	Logger(context.Background()).Error("nowhere", "k", 1)
	Logger(WithLogger(context.Background(), nil)).Info("nowhere either")
}
