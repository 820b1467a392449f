package backtest

import (
	"context"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// MaxTop bounds the changed orders a result lists.
const MaxTop = 1000

// Filters are a backtest's selection as a request or a command line
// gives it.
type Filters struct {
	// Since is a duration such as "720h" or "30d" ("" for all orders).
	Since     string
	ChannelID string
	Status    string
	// Limit is how many changed orders the result lists (0: DefaultTop).
	Limit int
	// Baseline is FactsAtDecision ("" too) or FactsNow.
	Baseline string
}

// Options checks the filters against store and returns the options they
// select; every bad one is an EINVALID field error named as the API's
// request names it (since, channel_id, status, limit, baseline).
func (f Filters) Options(ctx context.Context, store Store) (Options, error) {
	opt := Options{ChannelID: f.ChannelID, Status: f.Status, Top: f.Limit}
	var bad []sdk.FieldError
	if f.Since != "" {
		d, err := host.ParseDays(f.Since)
		if err != nil || d <= 0 {
			bad = append(bad, sdk.FieldError{Field: "since", Detail: "must be a positive duration such as \"720h\" or \"30d\""})
		}
		opt.Since = d
	}
	if f.Status != "" && !sdk.Status(f.Status).Valid() {
		bad = append(bad, sdk.FieldError{Field: "status", Detail: "must be open, on_hold or canceled"})
	}
	if f.ChannelID != "" {
		if _, err := store.Channel(ctx, f.ChannelID); err != nil {
			bad = append(bad, sdk.FieldError{Field: "channel_id", Detail: "is not a channel of this host"})
		}
	}
	if f.Limit < 0 || f.Limit > MaxTop {
		bad = append(bad, sdk.FieldError{Field: "limit", Detail: "must be between 1 and 1000"})
	}
	switch f.Baseline {
	case "", FactsAtDecision:
	case FactsNow:
		opt.FactsNow = true
	default:
		bad = append(bad, sdk.FieldError{Field: "baseline", Detail: "must be facts_at_decision or facts_now"})
	}
	if len(bad) > 0 {
		return opt, host.InvalidFields("the backtest request is not valid", bad)
	}
	return opt, nil
}
