package backtest

import (
	"context"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
)

// Job states.
const (
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// Job is a backtest the API runs in the background: what
// GET /api/v1/workflow/backtests/{id} shows.
type Job struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Revision   string     `json:"revision"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Progress   Progress   `json:"progress"`
	Error      string     `json:"error,omitempty"`
	Result     *Result    `json:"result,omitempty"`
}

// Jobs keeps a host's backtest jobs in memory: at most MaxRunning at
// once, and the newest kept ones finished. A job is known to the host
// that runs it only.
type Jobs struct {
	base    context.Context
	keep    int
	running int
	observe func(status string, orders int)

	mu    sync.Mutex
	jobs  map[string]*Job
	order []string
}

// MaxRunning bounds the backtests a host runs at once: each keeps its
// cores busy.
const MaxRunning = 2

// NewJobs returns a job list whose runs end when base does, keeping the
// newest keep jobs.
func NewJobs(base context.Context, keep int) *Jobs {
	return &Jobs{base: base, keep: keep, jobs: map[string]*Job{}}
}

// Observe sets a function told of each finished run (the metrics).
func (j *Jobs) Observe(fn func(status string, orders int)) { j.observe = fn }

// Reservation is a job's place among the MaxRunning, taken before its
// candidate is compiled so that requests cannot compile without bound.
type Reservation struct {
	jobs *Jobs
	done bool
}

// Reserve takes a place for a job; EUNAVAILABLE when MaxRunning runs
// are under way or being prepared. Start or Release it.
func (j *Jobs) Reserve() (*Reservation, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.running >= MaxRunning {
		return nil, host.Errorf(host.EUNAVAILABLE, "%d backtests are running on this host; try again when one has finished", j.running)
	}
	j.running++
	return &Reservation{jobs: j}, nil
}

// Release gives the place back unused.
func (r *Reservation) Release() {
	if r.done {
		return
	}
	r.done = true
	r.jobs.mu.Lock()
	r.jobs.running--
	r.jobs.mu.Unlock()
}

// Start runs fn in the background as a new job in the place reserved
// and returns the job as it starts.
func (r *Reservation) Start(revision string, fn func(ctx context.Context, progress func(Progress)) (*Result, error)) Job {
	r.done = true
	j := r.jobs
	j.mu.Lock()
	defer j.mu.Unlock()
	job := &Job{ID: ulid.Make().String(), Status: JobRunning, Revision: revision, StartedAt: time.Now().UTC()}
	j.jobs[job.ID] = job
	j.order = append(j.order, job.ID)
	j.trim()
	go j.run(job, fn)
	return *job
}

func (j *Jobs) run(job *Job, fn func(ctx context.Context, progress func(Progress)) (*Result, error)) {
	res, err := fn(j.base, func(p Progress) {
		j.mu.Lock()
		job.Progress = p
		j.mu.Unlock()
	})
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now().UTC()
	job.FinishedAt = &now
	j.running--
	orders := 0
	if err != nil {
		job.Status, job.Error = JobFailed, err.Error()
	} else {
		job.Status, job.Result = JobSucceeded, res
		job.Progress.Evaluated = res.OrdersEvaluated
		orders = res.OrdersEvaluated
	}
	if j.observe != nil {
		j.observe(job.Status, orders)
	}
}

// trim forgets the oldest finished jobs beyond keep.
func (j *Jobs) trim() {
	for len(j.order) > j.keep {
		dropped := false
		for i, id := range j.order {
			if j.jobs[id].Status != JobRunning {
				delete(j.jobs, id)
				j.order = append(j.order[:i], j.order[i+1:]...)
				dropped = true
				break
			}
		}
		if !dropped {
			return
		}
	}
}

// Get returns a copy of the job with the id, or ENOTFOUND.
func (j *Jobs) Get(id string) (Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	if !ok {
		return Job{}, host.Errorf(host.ENOTFOUND, "no backtest %s on this host (jobs are kept in memory by the host that runs them)", id)
	}
	return *job, nil
}
