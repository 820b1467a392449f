// Package catalog is the service of what the built-in hold reasons
// decide on: the catalog, sources and their stock, routing groups,
// channels' shipping mappings and the host's settings. It checks the
// caller's rights and the input, sets times from the host's clock, and
// makes every change one atomic update of the store.
package catalog

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/orders"
)

// Store is what the service reads and writes.
type Store interface {
	host.CatalogStore
}

// Reevaluator re-evaluates the held orders an inventory change touched;
// *orders.Service is the real one.
type Reevaluator interface {
	InventoryChanged(ctx context.Context, skus []string) (orders.Summary, error)
}

// Service is the catalog service.
type Service struct {
	store  Store
	orders Reevaluator
	now    func() time.Time
	log    hclog.Logger
}

// New returns the service; orders (may be nil) re-evaluates held orders
// after inventory changes; now is the host's clock.
func New(store Store, orders Reevaluator, now func() time.Time, log hclog.Logger) *Service {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Service{store: store, orders: orders, now: now, log: log.Named("catalog")}
}

// admin checks that the caller may change the catalog's data.
func admin(ctx context.Context) error {
	_, err := host.Authorize(ctx, host.RoleAdmin)
	return err
}
