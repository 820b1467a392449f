package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// PutCatalogItems implements host.CatalogStore.
func (d *DB) PutCatalogItems(ctx context.Context, items []*host.CatalogItem) error {
	err := d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCatalog)
		for _, it := range items {
			if err := putJSON(b, it.SKU, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing catalog items: %w", err)
	}
	return nil
}

// CatalogItem implements host.CatalogStore.
func (d *DB) CatalogItem(_ context.Context, sku string) (it *host.CatalogItem, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		it, err = getJSON[host.CatalogItem](tx.Bucket(bucketCatalog), sku, fmt.Sprintf("catalog item %q not found", sku))
		return err
	})
	return it, err
}

// CatalogItems implements host.CatalogStore: SKUs in byte order after the
// cursor.
func (d *DB) CatalogItems(_ context.Context, after string, limit int) ([]*host.CatalogItem, string, error) {
	var out []*host.CatalogItem
	next := ""
	err := d.view(func(tx *bolt.Tx) error {
		return page(tx.Bucket(bucketCatalog), nil, after, limit, func(k, v []byte) error {
			it := new(host.CatalogItem)
			if err := json.Unmarshal(v, it); err != nil {
				return err
			}
			out = append(out, it)
			return nil
		}, &next)
	})
	return out, next, err
}

// DeleteCatalogItem implements host.CatalogStore.
func (d *DB) DeleteCatalogItem(ctx context.Context, sku string) error {
	return d.deleteJSON(ctx, bucketCatalog, sku, fmt.Sprintf("catalog item %q not found", sku))
}
