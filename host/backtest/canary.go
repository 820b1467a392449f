package backtest

import (
	"context"

	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// DefaultCanaryOrders is how many recently decided orders a canary
// replays by default.
const DefaultCanaryOrders = 1000

// Canary is the engine's canary: it replays a candidate revision on the
// newest n orders, on the facts they were decided with, with decide
// (Engine.Replay).
func Canary(store Store, facts FactsFunc, n int, decide func(context.Context, *policy.Revision, *policy.Input) *sdk.Decision) policy.Canary {
	return func(ctx context.Context, candidate *policy.Revision) (*policy.CanaryReport, error) {
		res, err := Run(ctx, store, facts, candidate, Options{Orders: n, Decide: decide})
		if err != nil {
			return nil, err
		}
		report := &policy.CanaryReport{Orders: res.OrdersEvaluated, Changed: res.OrdersChanged, NewPolicyErrors: res.NewPolicyErrors, Diff: res}
		if e := res.FirstPolicyError; e != nil {
			report.FirstError = &policy.CanaryPolicyError{OrderID: e.OrderID, Number: e.Number, Error: e.Error}
		}
		return report, nil
	}
}
