package orders_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
)

// churning is a store whose orders change under every write: each
// UpdateOrder finds the order touched since it was read.
type churning struct{ orders.Store }

func (c churning) UpdateOrder(ctx context.Context, id string, fn func(*host.Record) error) (*host.Record, error) {
	return c.Store.UpdateOrder(ctx, id, func(r *host.Record) error {
		t := time.Now().Add(time.Hour)
		r.UpdatedAt = &t
		return fn(r)
	})
}

// TestReevaluateThatKeepsLosingIsAConflict: a re-evaluation whose order
// changes under every attempt gives up with a conflict (409, try again),
// not an internal error.
func TestReevaluateThatKeepsLosingIsAConflict(t *testing.T) {
	ctx := context.Background()
	db := e2e.OpenStore(t)
	engine := policy.NewEngine("../../policies", nil, time.Second)
	if _, err := engine.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	ch := &host.Channel{ID: "shop", Kind: host.ChannelB2C}
	if _, err := db.EnsureChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	o := referenceOrder(t)
	res, err := orders.NewService(db, engine, nil).Import(ctx, ch, []orders.Incoming{{Order: &o}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	_, err = orders.NewService(churning{db}, engine, nil).Reevaluate(host.WithActor(ctx, host.System), res[0].Record.ID)
	if host.ErrorCode(err) != host.ECONFLICT {
		t.Fatalf("Reevaluate of an order that changes under every attempt: %v, want a conflict", err)
	}
}
