package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/policy"
)

// slowRule takes far longer than any test waits.
const slowRule = "package ordergate.workflow.x\ntags contains \"slow\" if {\n\tsome i in numbers.range(1, 100000)\n\tsome j in numbers.range(1, 100000)\n\ti * j < 0\n}\n"

// TestEvaluationEndsWithItsContext: an evaluation whose caller gives up
// ends with the caller's error, long before its deadline; one that runs
// past its deadline ends with the deadline's.
func TestEvaluationEndsWithItsContext(t *testing.T) {
	rev, err := policy.LoadRevision(context.Background(), writePolicies(t, map[string]string{"x.rego": slowRule}))
	if err != nil {
		t.Fatal(err)
	}
	in := input(loadOrder(t, "order-1203.json"), "b2c")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := rev.Evaluate(ctx, in, policy.Limits{Timeout: time.Hour})
		done <- err
	}()
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("a cancelled evaluation: %v, want the context's error", err)
	}
	_, err = rev.Evaluate(context.Background(), in, policy.Limits{Timeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "exceeded its 50ms deadline") {
		t.Errorf("a slow evaluation: %v, want its deadline's error", err)
	}
}
