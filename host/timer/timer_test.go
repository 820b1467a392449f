package timer_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/timer"
	"github.com/ordergate/ordergate/sdk"
)

// failing is an Orders that records the orders it is asked to act on
// and fails.
type failing struct {
	mu    sync.Mutex
	asked []string
}

func (f *failing) LiftDueHolds(_ context.Context, id string) (*host.Record, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, id)
	return nil, false, errors.New("the store is down")
}

// TestRunDueClaims: a look acts on the orders due, earliest first, and
// one it could not act on is not asked again at the next look (it is
// claimed until the claim lapses).
func TestRunDueClaims(t *testing.T) {
	db := e2e.OpenStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	if _, err := db.EnsureChannel(ctx, &host.Channel{ID: "shop", Kind: host.ChannelB2C}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, due := range []time.Duration{3 * time.Minute, time.Minute, 2 * time.Hour} {
		until := t0.Add(due)
		r := &host.Record{Order: sdk.Order{ID: ulid.MustNew(ulid.Timestamp(t0.Add(time.Duration(i)*time.Second)), ulid.DefaultEntropy()).String(), ChannelID: "shop", ExternalID: string(rune('a' + i)),
			PlacedAt: t0, Currency: "USD", Status: sdk.StatusOnHold,
			Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r", Until: &until, Then: sdk.HoldThenRelease}}}}
		if _, err := db.CreateOrders(ctx, []host.NewOrder{{Record: r}}); err != nil {
			t.Fatal(err)
		}
		if due < time.Hour {
			want = append([]string{r.ID}, want...) // the one due first, first
		}
	}
	orders := &failing{}
	tm := timer.New(timer.Config{Store: db, Orders: orders, Now: func() time.Time { return t0.Add(10 * time.Minute) }})
	if n := tm.RunDue(ctx); n != 0 {
		t.Errorf("RunDue changed %d orders, all failed", n)
	}
	if !slices.Equal(orders.asked, want) {
		t.Errorf("asked %v, want %v (the two due, earliest first)", orders.asked, want)
	}
	tm.RunDue(ctx)
	if len(orders.asked) != 2 {
		t.Errorf("the next look asked again: %v", orders.asked)
	}
}
