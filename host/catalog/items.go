package catalog

import (
	"context"

	"github.com/ordergate/ordergate/host"
)

// PutItems creates or replaces catalog items by SKU, all or none.
func (s *Service) PutItems(ctx context.Context, req *host.CatalogRequest) ([]*host.CatalogItem, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	items, bad := req.CatalogItems(s.now())
	if len(bad) > 0 {
		return nil, host.InvalidFields("the catalog items are not valid; nothing was stored", bad)
	}
	if err := s.store.PutCatalogItems(ctx, items); err != nil {
		return nil, err
	}
	return items, nil
}

// DeleteItem removes a catalog item.
func (s *Service) DeleteItem(ctx context.Context, sku string) error {
	if err := admin(ctx); err != nil {
		return err
	}
	return s.store.DeleteCatalogItem(ctx, sku)
}
