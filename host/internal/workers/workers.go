// Package workers runs a fixed pool of goroutines over numbered jobs and
// times each job: the shape of a load test or a concurrent benchmark.
package workers

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of a Run.
type Result struct {
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
	// Latencies has each job's duration, by job number; jobs not run
	// (after an error) are 0.
	Latencies []time.Duration
	// Err is the first error a job returned; it stopped the run.
	Err error
}

// Run calls job(i) for every i in [0, n) from `pool` goroutines, each
// taking the next number when it is free, until all are done or one
// fails.
func Run(pool, n int, job func(i int) error) Result {
	res := Result{Latencies: make([]time.Duration, n)}
	var next atomic.Int64
	var failed atomic.Bool
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range pool {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				err := job(i)
				res.Latencies[i] = time.Since(t)
				if err != nil {
					once.Do(func() { res.Err = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// Rate is jobs per second over the run.
func (r Result) Rate() float64 { return float64(len(r.Latencies)) / r.Elapsed.Seconds() }

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// the latencies.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	sorted := slices.Clone(r.Latencies)
	slices.Sort(sorted)
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
