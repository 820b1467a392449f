package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
)

// fakeStore is an in-memory host.ClusterStore: other hosts are rows the
// test writes, and its failures are switched on by the test.
type fakeStore struct {
	mu       sync.Mutex
	members  map[string]host.Member
	leases   map[string]host.Lease // by channel
	failing  error                 // every call fails with it when set
	requests map[string]bool
}

func newFakeStore() *fakeStore {
	return &fakeStore{members: map[string]host.Member{}, leases: map[string]host.Lease{}, requests: map[string]bool{}}
}

func (s *fakeStore) Heartbeat(_ context.Context, m host.Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing != nil {
		return s.failing
	}
	s.members[m.ID] = m
	return nil
}

func (s *fakeStore) Leave(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.members, id)
	return nil
}

func (s *fakeStore) Members(context.Context, time.Duration) ([]host.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing != nil {
		return nil, s.failing
	}
	var out []host.Member
	for _, m := range s.members {
		out = append(out, m)
	}
	return out, nil
}

func (s *fakeStore) RenewLeases(_ context.Context, id string, _ time.Duration) ([]host.HeldLease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing != nil {
		return nil, s.failing
	}
	var out []host.HeldLease
	for c, l := range s.leases {
		if l.Holder == id {
			out = append(out, host.HeldLease{Lease: l, ImportRequested: s.requests[c]})
			delete(s.requests, c)
		}
	}
	return out, nil
}

func (s *fakeStore) AcquireLeases(_ context.Context, id string, channels []string, max int, _ time.Duration) ([]host.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing != nil {
		return nil, s.failing
	}
	var out []host.Lease
	for _, c := range channels {
		if len(out) == max {
			break
		}
		if _, held := s.leases[c]; !held {
			l := host.Lease{ChannelID: c, Holder: id, Epoch: 1}
			s.leases[c] = l
			out = append(out, l)
		}
	}
	return out, nil
}

func (s *fakeStore) ReleaseLease(_ context.Context, l host.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.leases, l.ChannelID)
	return nil
}

func (s *fakeStore) RequestImport(_ context.Context, c string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[c] = true
	return s.leases[c].Holder, nil
}

func (s *fakeStore) set(f func(s *fakeStore)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func channels(ids ...string) func(context.Context) ([]string, error) {
	return func(context.Context) ([]string, error) { return ids, nil }
}

// TestFairShare: with two live hosts and three channels a node takes two
// leases; the channel it does not hold is not imported here.
func TestFairShare(t *testing.T) {
	st := newFakeStore()
	st.members["host_other"] = host.Member{ID: "host_other"}
	n := New(Config{Store: st, TTL: time.Minute, Channels: channels("a", "b", "c")})
	taken := 0
	n.OnTakeOver(func(context.Context, string) { taken++ })
	n.round(context.Background())
	held := 0
	for _, c := range []string{"a", "b", "c"} {
		if _, _, ok := n.Lease(c); ok {
			held++
		}
	}
	if held != 2 || taken != 2 {
		t.Errorf("holds %d leases (%d taken over) of 3 channels with 2 hosts, want 2", held, taken)
	}
}

// TestLostLeases: a lease another host took is dropped at the next
// renewal, and one the node cannot renew is dropped two thirds of the TTL
// after its last renewal, whatever the rounds do; each time the lease's
// lost channel closes, which ends its import.
func TestLostLeases(t *testing.T) {
	st := newFakeStore()
	const ttl = 300 * time.Millisecond
	n := New(Config{Store: st, TTL: ttl, Channels: channels("a", "b")})
	n.round(context.Background())
	_, lostA, okA := n.Lease("a")
	_, lostB, okB := n.Lease("b")
	if !okA || !okB {
		t.Fatal("the node took no lease")
	}
	st.set(func(s *fakeStore) { s.leases["a"] = host.Lease{ChannelID: "a", Holder: "host_other", Epoch: 2} })
	n.round(context.Background())
	select {
	case <-lostA:
	default:
		t.Error("a lease another host took over is still held")
	}
	if _, _, ok := n.Lease("b"); !ok {
		t.Fatal("the renewed lease was dropped")
	}
	renewed := time.Now()
	st.set(func(s *fakeStore) { s.failing = errors.New("the database does not answer") })
	select {
	case <-lostB:
		if d := time.Since(renewed); d > ttl {
			t.Errorf("a lease not renewed was dropped after %s, past its %s TTL", d, ttl)
		}
	case <-time.After(5 * ttl):
		t.Fatal("a lease not renewed is still held")
	}
}

// TestImportRequested: another host's request for an import of a channel
// this node holds reaches it at the next renewal.
func TestImportRequested(t *testing.T) {
	st := newFakeStore()
	n := New(Config{Store: st, TTL: time.Minute, Channels: channels("a")})
	var requested []string
	n.OnImportRequested(func(_ context.Context, c string) { requested = append(requested, c) })
	n.round(context.Background())
	if holder, _ := n.RequestImport(context.Background(), "a"); holder != n.ID() {
		t.Fatalf("the request went to %q, want this node %s", holder, n.ID())
	}
	n.round(context.Background())
	if len(requested) != 1 || requested[0] != "a" {
		t.Errorf("imports requested: %v, want [a]", requested)
	}
}

// TestRevisionsDiffer: hosts serving different revisions for longer than
// the grace raise one alert per split; when they agree again, a new
// split is raised again.
func TestRevisionsDiffer(t *testing.T) {
	st := newFakeStore()
	st.members["host_other"] = host.Member{ID: "host_other", Revision: "r2"}
	rev := "r1"
	var raised []host.OpsAlert
	clock := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	n := New(Config{Store: st, TTL: time.Minute, Channels: channels(), Revision: func() string { return rev },
		Now: func() time.Time { return clock }, Raise: func(_ context.Context, a host.OpsAlert) { raised = append(raised, a) }})
	for range 3 {
		n.round(context.Background())
		clock = clock.Add(DefaultRevisionGrace)
	}
	if len(raised) != 1 {
		t.Fatalf("raised %d alerts for one split, want 1", len(raised))
	}
	if a := raised[0].(host.RevisionsDiffer); a.Hosts[n.ID()] != "r1" || a.Hosts["host_other"] != "r2" {
		t.Errorf("alert = %+v", a)
	}
	rev = "r2"
	n.round(context.Background())
	st.set(func(s *fakeStore) { s.members["host_other"] = host.Member{ID: "host_other", Revision: "r3"} })
	for range 3 {
		n.round(context.Background())
		clock = clock.Add(DefaultRevisionGrace)
	}
	if len(raised) != 2 {
		t.Errorf("raised %d alerts for two splits, want 2", len(raised))
	}
}
