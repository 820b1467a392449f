// Package cluster runs a host's part in a group of hosts sharing one
// store (PostgreSQL): its heartbeat, the leases of the channels it
// imports, and the check that the hosts serve the same policy revision.
//
// Every third of the lease TTL a node renews its leases and heartbeat
// with the database's clock, and takes free leases up to its fair share
// (the channels over the live hosts, rounded up). A lease the node could
// not renew for two thirds of the TTL is dropped locally, and its import
// canceled, before the database lets another host take it; a page that
// still reaches the database is refused there by the lease's epoch.
// Learned from River's leader election and Vault's PostgreSQL HA lock.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
)

// DefaultTTL is the default lease TTL (serve --lease-ttl).
const DefaultTTL = 15 * time.Second

// DefaultRevisionGrace is how long hosts may serve different policy
// revisions (a deploy reaching them one by one) before an ops alert is
// raised.
const DefaultRevisionGrace = time.Minute

// Config is what a node needs.
type Config struct {
	Store host.ClusterStore
	// TTL is the lease TTL (DefaultTTL when 0).
	TTL time.Duration
	// Addr, Version and Revision describe the host to the others.
	Addr     string
	Version  string
	Revision func() string
	// Channels lists the channels to lease: those the importer imports.
	Channels func(ctx context.Context) ([]string, error)
	// Raise raises an ops alert (the revisions differ) once they have
	// differed for RevisionGrace (DefaultRevisionGrace when 0).
	Raise         func(ctx context.Context, a host.OpsAlert)
	RevisionGrace time.Duration
	// Now is the clock the grace is measured with (time.Now when nil).
	Now func() time.Time
	Log hclog.Logger
}

// Node is one host's membership.
type Node struct {
	cfg     Config
	self    host.Member
	log     hclog.Logger
	mu      sync.Mutex
	held    map[string]*held
	differs time.Time // since when the revisions differ (zero: they agree)
	raised  string    // the key of the last RevisionsDiffer raised

	takenOver, importRequested func(ctx context.Context, channelID string)
}

// OnTakeOver sets what the node calls when it takes a channel's lease
// (before Run).
func (n *Node) OnTakeOver(fn func(ctx context.Context, channelID string)) { n.takenOver = fn }

// OnImportRequested sets what the node calls when another host asked for
// an import of a channel it holds (before Run).
func (n *Node) OnImportRequested(fn func(ctx context.Context, channelID string)) {
	n.importRequested = fn
}

type held struct {
	lease host.Lease
	lost  chan struct{}
	// deadline drops the lease two thirds of the TTL after the last
	// renewal that kept it was sent, whatever the rounds are doing (a
	// renewal may hang on a database that does not answer); validUntil is
	// that moment, which Lease checks too, as a timer fires late after
	// the process was paused.
	deadline   *time.Timer
	validUntil time.Time
}

// hold records a lease taken at sent.
func (n *Node) hold(l host.Lease, sent time.Time) {
	h := &held{lease: l, lost: make(chan struct{})}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.held[l.ChannelID] = h
	h.validUntil = sent.Add(2 * n.cfg.TTL / 3)
	h.deadline = time.AfterFunc(n.keepFor(sent), func() { n.drop(h, "its lease was not renewed in time") })
}

// keepFor is how long from now a lease confirmed by a renewal sent at
// sent is kept.
func (n *Node) keepFor(sent time.Time) time.Duration {
	return 2*n.cfg.TTL/3 - time.Since(sent)
}

// drop gives a lease up locally: its import is canceled.
func (n *Node) drop(h *held, why string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.held[h.lease.ChannelID] != h {
		return
	}
	delete(n.held, h.lease.ChannelID)
	h.deadline.Stop()
	close(h.lost)
	n.log.Warn("stopped importing a channel", "channel", h.lease.ChannelID, "epoch", h.lease.Epoch, "why", why)
}

// New returns a node with a new host id.
func New(cfg Config) *Node {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.RevisionGrace <= 0 {
		cfg.RevisionGrace = DefaultRevisionGrace
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	id := make([]byte, 6)
	rand.Read(id)
	return &Node{cfg: cfg, log: cfg.Log.Named("cluster"), held: map[string]*held{},
		self: host.Member{ID: "host_" + hex.EncodeToString(id), PID: os.Getpid(), Addr: cfg.Addr, Version: cfg.Version, StartedAt: time.Now().UTC()}}
}

// ID is the host's id among the hosts.
func (n *Node) ID() string { return n.self.ID }

// TTL is the lease TTL.
func (n *Node) TTL() time.Duration { return n.cfg.TTL }

// Run keeps the node's heartbeat and leases until ctx ends, then gives
// its leases up and leaves.
func (n *Node) Run(ctx context.Context) error {
	tick := time.NewTicker(n.cfg.TTL / 3)
	defer tick.Stop()
	for {
		n.round(ctx)
		select {
		case <-ctx.Done():
			n.dropAll("the host is stopping")
			leave, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := n.cfg.Store.Leave(leave, n.self.ID); err != nil {
				n.log.Warn("leaving the hosts", "error", err)
			}
			return nil
		case <-tick.C:
		}
	}
}

// round is one beat: drop leases not confirmed in time, renew, heartbeat,
// take free leases, and compare the revisions.
func (n *Node) round(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.TTL/3)
	defer cancel()
	sent := time.Now()

	renewed, err := n.cfg.Store.RenewLeases(ctx, n.self.ID, n.cfg.TTL)
	if err != nil {
		n.log.Warn("renewing leases", "error", err)
	} else {
		n.renewed(ctx, sent, renewed)
	}

	m := n.self
	if n.cfg.Revision != nil {
		m.Revision = n.cfg.Revision()
	}
	if err := n.cfg.Store.Heartbeat(ctx, m); err != nil {
		n.log.Warn("recording the heartbeat", "error", err)
		return
	}
	members, err := n.cfg.Store.Members(ctx, n.cfg.TTL)
	if err != nil {
		n.log.Warn("listing hosts", "error", err)
		return
	}
	n.acquire(ctx, sent, len(members))
	n.compareRevisions(ctx, members)
}

// renewed records a renewal: leases it kept are confirmed, those it did
// not return were taken over.
func (n *Node) renewed(ctx context.Context, sent time.Time, leases []host.HeldLease) {
	var requested []string
	var gone []*held
	n.mu.Lock()
	kept := map[string]bool{}
	for _, l := range leases {
		h := n.held[l.ChannelID]
		if h == nil || h.lease.Epoch != l.Epoch {
			continue // a lease this node dropped already; it expires
		}
		kept[l.ChannelID] = true
		h.deadline.Reset(n.keepFor(sent))
		h.validUntil = sent.Add(2 * n.cfg.TTL / 3)
		if l.ImportRequested {
			requested = append(requested, l.ChannelID)
		}
	}
	for id, h := range n.held {
		if !kept[id] {
			gone = append(gone, h)
		}
	}
	n.mu.Unlock()
	for _, h := range gone {
		n.drop(h, "another host holds its lease now")
	}
	for _, id := range requested {
		if n.importRequested != nil {
			n.importRequested(ctx, id)
		}
	}
}

// acquire takes free leases up to the node's fair share.
func (n *Node) acquire(ctx context.Context, sent time.Time, hosts int) {
	channels, err := n.cfg.Channels(ctx)
	if err != nil {
		n.log.Warn("listing channels to lease", "error", err)
		return
	}
	n.mu.Lock()
	var free []string
	for _, c := range channels {
		if n.held[c] == nil {
			free = append(free, c)
		}
	}
	share := (len(channels) + max(hosts, 1) - 1) / max(hosts, 1)
	room := share - len(n.held)
	n.mu.Unlock()
	if room <= 0 || len(free) == 0 {
		return
	}
	taken, err := n.cfg.Store.AcquireLeases(ctx, n.self.ID, free, room, n.cfg.TTL)
	if err != nil {
		n.log.Warn("acquiring leases", "error", err)
		return
	}
	for _, l := range taken {
		n.hold(l, sent)
		n.log.Info("took a channel's lease", "channel", l.ChannelID, "epoch", l.Epoch)
		if n.takenOver != nil {
			n.takenOver(ctx, l.ChannelID)
		}
	}
}

// compareRevisions raises an ops alert once the live hosts have served
// different policy revisions for longer than RevisionGrace.
func (n *Node) compareRevisions(ctx context.Context, members []host.Member) {
	revs := map[string]string{}
	var distinct []string
	for _, m := range members {
		revs[m.ID] = m.Revision
		if !slices.Contains(distinct, m.Revision) {
			distinct = append(distinct, m.Revision)
		}
	}
	a := host.RevisionsDiffer{Hosts: revs, Since: n.cfg.RevisionGrace}
	n.mu.Lock()
	raise := false
	switch {
	case len(distinct) <= 1:
		n.differs = time.Time{}
	case n.differs.IsZero():
		n.differs = n.cfg.Now()
	case n.cfg.Now().Sub(n.differs) > n.cfg.RevisionGrace && n.raised != a.Key():
		n.raised, raise = a.Key(), true
	}
	n.mu.Unlock()
	if raise && n.cfg.Raise != nil {
		n.cfg.Raise(ctx, a)
	}
}

// dropAll gives every lease up locally.
func (n *Node) dropAll(why string) {
	n.mu.Lock()
	all := make([]*held, 0, len(n.held))
	for _, h := range n.held {
		all = append(all, h)
	}
	n.mu.Unlock()
	for _, h := range all {
		n.drop(h, why)
	}
}

// Lease implements importer.Leases. A lease past its local deadline is
// not held, even before its timer has dropped it.
func (n *Node) Lease(channelID string) (host.Lease, <-chan struct{}, bool) {
	n.mu.Lock()
	h := n.held[channelID]
	n.mu.Unlock()
	if h == nil {
		return host.Lease{}, nil, false
	}
	if time.Now().After(h.validUntil) {
		n.drop(h, "its lease was not renewed in time")
		return host.Lease{}, nil, false
	}
	return h.lease, h.lost, true
}

// RequestImport implements importer.Leases.
func (n *Node) RequestImport(ctx context.Context, channelID string) (string, error) {
	holder, err := n.cfg.Store.RequestImport(ctx, channelID)
	if err != nil {
		return "", fmt.Errorf("asking the host holding channel %s's lease for an import: %w", channelID, err)
	}
	return holder, nil
}

// Members lists the live hosts, this one marked Self.
func (n *Node) Members(ctx context.Context) ([]host.Member, error) {
	members, err := n.cfg.Store.Members(ctx, n.cfg.TTL)
	if err != nil {
		return nil, err
	}
	for i := range members {
		members[i].Self = members[i].ID == n.self.ID
		if members[i].Leases == nil {
			members[i].Leases = []string{}
		}
	}
	return members, nil
}

// Self describes this host.
func (n *Node) Self() host.Member {
	m := n.self
	m.Self = true
	if n.cfg.Revision != nil {
		m.Revision = n.cfg.Revision()
	}
	return m
}
