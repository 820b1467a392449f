package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordergate/ordergate/host"
)

// PutCatalogItems implements host.CatalogStore: all or none.
func (d *DB) PutCatalogItems(ctx context.Context, items []*host.CatalogItem) error {
	skus, datas := make([]string, len(items)), make([]string, len(items))
	for i, it := range items {
		data, err := jsonText(it)
		if err != nil {
			return err
		}
		skus[i], datas[i] = it.SKU, data
	}
	// An upload naming a SKU twice keeps its last item, as bolt does.
	_, err := d.q.Exec(ctx, `INSERT INTO catalog_items (sku, data)
		SELECT DISTINCT ON (sku) sku, data::jsonb FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(sku, data, i) ORDER BY sku, i DESC
		ON CONFLICT (sku) DO UPDATE SET data = EXCLUDED.data`, skus, datas)
	if err != nil {
		return fmt.Errorf("storing catalog items: %w", err)
	}
	return nil
}

// CatalogItem implements host.CatalogStore.
func (d *DB) CatalogItem(ctx context.Context, sku string) (*host.CatalogItem, error) {
	return getJSON[host.CatalogItem](ctx, d.q, fmt.Sprintf("catalog item %q not found", sku), `SELECT data FROM catalog_items WHERE sku = $1`, sku)
}

// CatalogItems implements host.CatalogStore, by SKU.
func (d *DB) CatalogItems(ctx context.Context, after string, limit int) ([]*host.CatalogItem, string, error) {
	if limit <= 0 {
		limit = 100
	}
	items, err := listJSON[host.CatalogItem](ctx, d.q, `SELECT data FROM catalog_items WHERE sku > $1 ORDER BY sku LIMIT $2`, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].SKU
	}
	return items, next, nil
}

// DeleteCatalogItem implements host.CatalogStore.
func (d *DB) DeleteCatalogItem(ctx context.Context, sku string) error {
	return deleteRow(ctx, d.q, fmt.Sprintf("catalog item %q not found", sku), `DELETE FROM catalog_items WHERE sku = $1`, sku)
}

// deleteRow runs a DELETE of one row: ENOTFOUND when there was none.
func deleteRow(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, notFoundMsg, sql string, args ...any) error {
	tag, err := q.Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ENOTFOUND, "%s", notFoundMsg)
	}
	return nil
}
