package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// SetInventory implements host.CatalogStore: all or nothing. A level
// that does not change keeps its updated_at.
func (d *DB) SetInventory(ctx context.Context, levels []host.StockLevel, mode host.InventoryMode, now time.Time) (host.InventoryResult, error) {
	var res host.InventoryResult
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		res = host.InventoryResult{Rows: len(levels)}
		var named []string
		seen := map[string]bool{}
		for _, l := range levels {
			if !seen[l.SourceID] {
				seen[l.SourceID] = true
				named = append(named, l.SourceID)
			}
		}
		// Sources named must exist; the rows' foreign key keeps a source
		// deleted meanwhile from getting stock.
		var missing []string
		rows, err := tx.Query(ctx, `SELECT s FROM unnest($1::text[]) AS u(s) WHERE NOT EXISTS (SELECT 1 FROM sources WHERE id = u.s) ORDER BY s`, named)
		if err != nil {
			return err
		}
		var s string
		if _, err := pgx.ForEachRow(rows, []any{&s}, func() error { missing = append(missing, s); return nil }); err != nil {
			return err
		}
		if len(missing) > 0 {
			return host.Errorf(host.EINVALID, "source %s does not exist; create it first", missing[0])
		}
		skus, sources, avail := make([]string, 0, len(levels)), make([]string, 0, len(levels)), make([]int64, 0, len(levels))
		for _, l := range levels {
			skus, sources, avail = append(skus, l.SKU), append(sources, l.SourceID), append(avail, l.Available)
		}
		changed := map[string]bool{}
		// The last level of a SKU and source in the upload wins.
		rows, err = tx.Query(ctx, `INSERT INTO stock (sku, source_id, available, updated_at)
			SELECT DISTINCT ON (sku, src) sku, src, n, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(sku, src, n, i) ORDER BY sku, src, i DESC
			ON CONFLICT (sku, source_id) DO UPDATE SET available = EXCLUDED.available, updated_at = EXCLUDED.updated_at
			WHERE stock.available <> EXCLUDED.available
			RETURNING sku`, skus, sources, avail, now)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&s}, func() error { changed[s] = true; res.Changed++; return nil }); err != nil {
			return err
		}
		if mode == host.InventoryReplace {
			rows, err = tx.Query(ctx, `UPDATE stock SET available = 0, updated_at = $4 WHERE source_id = ANY($1) AND available <> 0
				AND (sku, source_id) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))
				RETURNING sku`, named, skus, sources, now)
			if err != nil {
				return err
			}
			if _, err := pgx.ForEachRow(rows, []any{&s}, func() error { changed[s] = true; res.Changed++; return nil }); err != nil {
				return err
			}
		}
		for sku := range changed {
			res.SKUs = append(res.SKUs, sku)
		}
		sort.Strings(res.SKUs)
		return nil
	})
	if err != nil {
		return host.InventoryResult{}, fmt.Errorf("applying inventory: %w", err)
	}
	return res, nil
}

// Inventory implements host.CatalogStore: the levels of one SKU (by
// source) or of one source (by SKU).
func (d *DB) Inventory(ctx context.Context, sourceID, sku string, after string, limit int) ([]host.StockLevel, string, error) {
	if limit <= 0 {
		limit = 100
	}
	var q string
	var args []any
	if sku != "" {
		q = `SELECT source_id, sku, available, updated_at FROM stock WHERE sku = $1 AND ($2 = '' OR source_id = $2) AND source_id > $3 ORDER BY source_id LIMIT $4`
		args = []any{sku, sourceID, after, limit + 1}
	} else {
		q = `SELECT source_id, sku, available, updated_at FROM stock WHERE source_id = $1 AND sku > $2 ORDER BY sku LIMIT $3`
		args = []any{sourceID, after, limit + 1}
	}
	rows, err := d.q.Query(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	var out []host.StockLevel
	var l host.StockLevel
	_, err = pgx.ForEachRow(rows, []any{&l.SourceID, &l.SKU, &l.Available, &l.UpdatedAt}, func() error {
		l.UpdatedAt = l.UpdatedAt.UTC()
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		if sku != "" {
			next = out[limit-1].SourceID
		} else {
			next = out[limit-1].SKU
		}
	}
	return out, next, nil
}
