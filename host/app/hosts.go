package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"time"

	"github.com/ordergate/ordergate/host"
)

// soloHost is the one host of a store that is its alone (bbolt): it
// imports every channel, with no lease.
type soloHost struct {
	self     host.Member
	revision func() string
	channels func(ctx context.Context) ([]string, error)
}

func newSoloHost(addr, version string, revision func() string, channels func(ctx context.Context) ([]string, error)) *soloHost {
	id := make([]byte, 6)
	rand.Read(id)
	return &soloHost{self: host.Member{ID: "host_" + hex.EncodeToString(id), PID: os.Getpid(), Addr: addr, Version: version, StartedAt: time.Now().UTC()},
		revision: revision, channels: channels}
}

func (h *soloHost) Self() host.Member {
	m := h.self
	m.Self, m.Revision, m.HeartbeatAt = true, h.revision(), time.Now().UTC()
	return m
}

func (h *soloHost) Members(ctx context.Context) ([]host.Member, error) {
	m := h.Self()
	leases, err := h.channels(ctx)
	if err != nil {
		return nil, err
	}
	m.Leases = leases
	if m.Leases == nil {
		m.Leases = []string{}
	}
	return []host.Member{m}, nil
}
