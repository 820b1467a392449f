package workers_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/workers"
)

func TestRunDoesEveryJobOnce(t *testing.T) {
	seen := make([]atomic.Int32, 1000)
	res := workers.Run(8, len(seen), func(i int) error { seen[i].Add(1); return nil })
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("job %d ran %d times", i, n)
		}
	}
}

func TestRunStopsAtTheFirstError(t *testing.T) {
	var ran atomic.Int32
	boom := errors.New("boom")
	res := workers.Run(1, 100, func(i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(res.Err, boom) || ran.Load() != 4 {
		t.Errorf("err %v after %d jobs, want boom after 4", res.Err, ran.Load())
	}
}

func TestPercentile(t *testing.T) {
	r := workers.Result{Latencies: make([]time.Duration, 100)}
	for i := range r.Latencies {
		r.Latencies[i] = time.Duration(100-i) * time.Millisecond
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := r.Percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
}
