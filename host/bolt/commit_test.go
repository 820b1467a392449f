package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// commitCounter counts commits and the writes of each.
type commitCounter struct {
	mu     sync.Mutex
	groups []int
}

func (c *commitCounter) ObserveCommit(writes int, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups = append(c.groups, writes)
}

var testBucket = []byte("orders") // any bucket Open creates

func putKey(key string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error { return tx.Bucket(testBucket).Put([]byte(key), []byte("v")) }
}

// TestDomainErrorFailsOneWriteOfAGroup: three writes committed together,
// the middle one failing with a domain error: it fails alone, the others
// are committed in the same transaction, and nothing is tried again alone.
func TestDomainErrorFailsOneWriteOfAGroup(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	counter := &commitCounter{}
	d.ObserveCommits(counter)

	// Hold the committer in a first write while the group queues behind it.
	started, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- d.update(context.Background(), func(*bolt.Tx) error { close(started); <-release; return nil })
	}()
	<-started
	ctx := context.Background()
	var runs [3]atomic.Int32 // how often each write's function ran
	counted := func(i int, fn func(*bolt.Tx) error) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { runs[i].Add(1); return fn(tx) }
	}
	writes := []func(*bolt.Tx) error{
		counted(0, putKey("a")),
		counted(1, func(tx *bolt.Tx) error { return host.Errorf(host.ENOTFOUND, "channel x not found") }),
		counted(2, putKey("c")),
	}
	results := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Go(func() { results[i] = d.update(ctx, w) })
		// Queue them in order, one after the other.
		for len(d.writes) != i+1 {
			time.Sleep(time.Millisecond) // a goroutine's send: waited for, not a guess at time
		}
	}
	close(release)
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if results[0] != nil || results[2] != nil || host.ErrorCode(results[1]) != host.ENOTFOUND {
		t.Fatalf("results = %v", results)
	}
	d.view(func(tx *bolt.Tx) error {
		for _, k := range []string{"a", "c"} {
			if tx.Bucket(testBucket).Get([]byte(k)) == nil {
				t.Errorf("write %s was not committed", k)
			}
		}
		return nil
	})
	for i := range runs {
		if n := runs[i].Load(); n != 1 {
			t.Errorf("write %d ran %d times, want once: the group commits once, nothing is tried again alone", i, n)
		}
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	if fmt.Sprint(counter.groups) != "[1 3]" {
		t.Errorf("commits of %v writes, want [1 3]", counter.groups)
	}
}

// TestCloseWhileWriting closes the store while writers send: each write
// either commits (and is there after a reopen) or fails with the store's
// closing error; nothing panics or races (run with -race).
func TestCloseWhileWriting(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var committed sync.Map
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				err := d.update(context.Background(), putKey(key))
				if errors.Is(err, errStoreClosing) {
					return
				}
				if err != nil {
					t.Errorf("write %s: %v", key, err)
					return
				}
				committed.Store(key, true)
				n.Add(1)
			}
		})
	}
	for n.Load() < 200 {
		time.Sleep(time.Millisecond) // until writers have committed some
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	d, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.view(func(tx *bolt.Tx) error {
		committed.Range(func(k, _ any) bool {
			if tx.Bucket(testBucket).Get([]byte(k.(string))) == nil {
				t.Errorf("write %s was acknowledged but is not stored", k)
			}
			return true
		})
		return nil
	})
}

// TestCommitDelay: after a commit of commitSiblings writes or more, the
// committer waits (the commit delay) for more writes before the next
// commit, and they share it; after a smaller commit, or with no delay
// set, a write commits without waiting. The delay's timer is the test's.
func TestCommitDelay(t *testing.T) {
	// A wait the test does not expect shows on lingering (it never
	// blocks the committer), and fails the test where it waits.
	lingering := make(chan time.Duration, 1)
	fire := make(chan time.Time)
	d, err := open(t.TempDir(), nil, func(delay time.Duration) (<-chan time.Time, func() bool) {
		lingering <- delay
		return fire, func() bool { return true }
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetCommitDelay(time.Hour)
	counter := &commitCounter{}
	d.ObserveCommits(counter)
	ctx := context.Background()

	// write queues a write and returns once it is queued, with its outcome
	// to come.
	n := 0
	write := func() <-chan error {
		n++
		queued, done := make(chan struct{}), make(chan error, 1)
		key := fmt.Sprint("k", n)
		go func() { done <- d.updateQueued(ctx, putKey(key), func() { close(queued) }) }()
		<-queued
		return done
	}
	// alone commits one write and fails if the committer waits for more.
	alone := func(what string) {
		t.Helper()
		done := write()
		select {
		case delay := <-lingering:
			t.Fatalf("%s: the committer waited %s for more writes", what, delay)
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// several commits four writes together, queued behind a first one
	// that holds the committer.
	several := func() {
		t.Helper()
		started, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- d.update(ctx, func(*bolt.Tx) error { close(started); <-release; return nil })
		}()
		select {
		case <-started:
		case delay := <-lingering:
			t.Fatalf("the committer waited %s for more writes after a lone one", delay)
		}
		var outcomes []<-chan error
		for range commitSiblings {
			outcomes = append(outcomes, write())
		}
		close(release)
		for _, done := range append(outcomes, first) {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}

	alone("after no commit")
	several() // commits of 1, then 4
	// The commit after four waits, and the writes that come meanwhile
	// share it.
	waiting := write()
	select {
	case delay := <-lingering:
		if delay != time.Hour {
			t.Fatalf("waited %s, want the commit delay", delay)
		}
	case err := <-waiting:
		t.Fatalf("after a commit of four, a write committed without waiting (%v)", err)
	}
	more := []<-chan error{waiting, write(), write()}
	// Queued is not yet taken: the committer must have them before the
	// delay ends, or it may see both at once and choose either.
	for len(d.writes) != 0 {
		time.Sleep(time.Millisecond) // the committer's receive: waited for, not a guess at time
	}
	fire <- time.Now()
	for _, done := range more {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	alone("after a commit of three")
	several()
	d.SetCommitDelay(0)
	alone("with no commit delay")

	counter.mu.Lock()
	defer counter.mu.Unlock()
	if got, want := fmt.Sprint(counter.groups), fmt.Sprint([]int{1, 1, 4, 3, 1, 1, 4, 1}); got != want {
		t.Errorf("commits of %s writes, want %s", got, want)
	}
}
