package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/sdk"
)

// TestLeasesFenceImports: a lease is held by one host at a time; once it
// expires another host takes it with a new epoch, and a page committed
// under the old epoch is refused whole: no order, no cursor, no run.
func TestLeasesFenceImports(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, pgtest.Start(t))
	const ttl = 300 * time.Millisecond

	a, err := db.AcquireLeases(ctx, "host_a", []string{"shop", "other"}, 1, ttl)
	if err != nil || len(a) != 1 || a[0].ChannelID != "other" || a[0].Epoch != 1 {
		t.Fatalf("host_a acquired %+v, %v; want other at epoch 1 (at most one, by channel id)", a, err)
	}
	if b, _ := db.AcquireLeases(ctx, "host_b", []string{"other"}, 5, ttl); len(b) != 0 {
		t.Fatalf("host_b took a lease host_a holds: %+v", b)
	}
	if holder, err := db.RequestImport(ctx, "other"); err != nil || holder != "host_a" {
		t.Errorf("RequestImport = %q, %v; want host_a", holder, err)
	}
	renewed, err := db.RenewLeases(ctx, "host_a", ttl)
	if err != nil || len(renewed) != 1 || !renewed[0].ImportRequested || renewed[0].Epoch != 1 {
		t.Errorf("renewal = %+v, %v; want other, epoch 1, with the import requested", renewed, err)
	}
	if renewed, _ := db.RenewLeases(ctx, "host_a", ttl); len(renewed) != 1 || renewed[0].ImportRequested {
		t.Errorf("a second renewal = %+v; the request is cleared", renewed)
	}

	stale := a[0]
	deadline := time.Now().Add(10 * time.Second)
	var b []host.Lease
	for len(b) == 0 && time.Now().Before(deadline) {
		// Waiting for the database's clock to pass the lease's expiry.
		if b, err = db.AcquireLeases(ctx, "host_b", []string{"other"}, 5, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if len(b) != 1 || b[0].Epoch != 2 || b[0].Holder != "host_b" {
		t.Fatalf("after expiry host_b acquired %+v; want other at epoch 2", b)
	}
	if renewed, _ := db.RenewLeases(ctx, "host_a", ttl); len(renewed) != 0 {
		t.Errorf("host_a renewed a lease it lost: %+v", renewed)
	}

	at := time.Now().UTC()
	r := &host.Record{Order: sdk.Order{ID: ulid.Make().String(), ChannelID: "other", ExternalID: "1", Number: "#1", PlacedAt: at, ImportedAt: &at, Status: sdk.StatusOpen}}
	run := &host.Run{ID: ulid.Make().String(), ChannelID: "other", Status: host.RunRunning, StartedAt: at}
	page := host.PageCommit{ChannelID: "other", Cursor: "c1", Lease: &stale, Run: func([]host.CreateResult) *host.Run { return run }}
	if _, err := db.CommitPage(ctx, []host.NewOrder{{Record: r}}, page); !errors.Is(err, host.ErrLeaseLost) {
		t.Fatalf("a page under the lost lease: %v, want ErrLeaseLost", err)
	}
	if _, err := db.Order(ctx, r.ID); host.ErrorCode(err) != host.ENOTFOUND {
		t.Errorf("the fenced page stored its order: %v", err)
	}
	if cur, _ := db.Cursor(ctx, "other"); cur != "" {
		t.Errorf("the fenced page stored its cursor %q", cur)
	}
	if runs, _ := db.Runs(ctx, "other", 10); len(runs) != 0 {
		t.Errorf("the fenced page stored its run: %+v", runs)
	}
	page.Lease = &b[0]
	if res, err := db.CommitPage(ctx, []host.NewOrder{{Record: r}}, page); err != nil || !res[0].Created {
		t.Fatalf("a page under the current lease: %+v, %v", res, err)
	}
	if cur, _ := db.Cursor(ctx, "other"); cur != "c1" {
		t.Errorf("cursor = %q, want c1", cur)
	}
}

// TestMembers lists live hosts with their leases; a host that left is
// gone with its leases.
func TestMembers(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, pgtest.Start(t))
	start := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{"host_a", "host_b"} {
		if err := db.Heartbeat(ctx, host.Member{ID: id, PID: 1, Addr: "127.0.0.1:1", Version: "v", Revision: "r-" + id, StartedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AcquireLeases(ctx, "host_b", []string{"shop"}, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	ms, err := db.Members(ctx, time.Minute)
	if err != nil || len(ms) != 2 {
		t.Fatalf("members = %+v, %v", ms, err)
	}
	for _, m := range ms {
		want := []string{}
		if m.ID == "host_b" {
			want = []string{"shop"}
		}
		if !slices.Equal(m.Leases, want) || m.Revision != "r-"+m.ID || !m.StartedAt.Equal(start) || m.HeartbeatAt.IsZero() {
			t.Errorf("member %+v", m)
		}
	}
	if err := db.Leave(ctx, "host_b"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := db.Members(ctx, time.Minute); len(ms) != 1 || ms[0].ID != "host_a" {
		t.Errorf("after host_b left: %+v", ms)
	}
	if got, _ := db.AcquireLeases(ctx, "host_a", []string{"shop"}, 1, time.Minute); len(got) != 1 {
		t.Errorf("the lease of a host that left is not free: %+v", got)
	}
}
