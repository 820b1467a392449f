package orders

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestDecidersFirstErrorCancelsTheRest: run returns the first task's
// error, and the other tasks see their context canceled.
func TestDecidersFirstErrorCancelsTheRest(t *testing.T) {
	d := newDeciders()
	boom := errors.New("boom")
	var canceled atomic.Int32
	err := d.run(context.Background(), 4, func(ctx context.Context, i int) error {
		if i == 0 {
			return boom
		}
		<-ctx.Done()
		canceled.Add(1)
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Errorf("run = %v, want the first error", err)
	}
	if canceled.Load() != 3 {
		t.Errorf("%d tasks saw the cancel, want 3", canceled.Load())
	}
}

// TestDecidersNeverQueue: with the only worker busy waiting for another
// call's task, that call's tasks run on its own goroutine, so neither
// waits for the other forever.
func TestDecidersNeverQueue(t *testing.T) {
	d := newDeciders()
	d.max = 1
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound on failure only
	defer cancel()
	other := make(chan struct{})
	a := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		a <- d.run(ctx, 2, func(ctx context.Context, i int) error {
			if i == 0 { // on the worker: waits for the other call
				close(started)
				select {
				case <-other:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}()
	<-started
	err := d.run(ctx, 2, func(ctx context.Context, i int) error {
		if i == 1 {
			close(other)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the other call: %v", err)
	}
	if err := <-a; err != nil {
		t.Fatalf("the waiting call: %v", err)
	}
}
