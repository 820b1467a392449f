package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// Facts implements host.CatalogStore: every question in one batch, in one
// snapshot.
func (d *DB) Facts(ctx context.Context, q host.FactsQuery) (*host.Facts, error) {
	f := &host.Facts{Catalog: map[string]*host.CatalogItem{}, Stock: map[string]map[string]int64{}, Sources: map[string]*host.Source{}}
	skus := q.SKUs
	if skus == nil {
		skus = []string{}
	}
	var lookAlikes []host.DuplicateCandidate
	var settings []byte
	ctx, cancel := context.WithTimeout(ctx, factsTimeout)
	defer cancel()
	err := d.view(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT data FROM settings WHERE id = 1`).Query(func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&settings}, func() error { return nil })
			return err
		})
		b.Queue(`SELECT EXISTS (SELECT 1 FROM catalog_items)`).QueryRow(func(row pgx.Row) error { return row.Scan(&f.CatalogInUse) })
		b.Queue(`SELECT data FROM catalog_items WHERE sku = ANY($1)`, skus).Query(func(rows pgx.Rows) error {
			var data []byte
			_, err := pgx.ForEachRow(rows, []any{&data}, func() error {
				it := new(host.CatalogItem)
				if err := json.Unmarshal(data, it); err != nil {
					return err
				}
				f.Catalog[it.SKU] = it
				return nil
			})
			return err
		})
		// The channel's routing group, or the default one.
		const group = `(SELECT coalesce((SELECT group_id FROM routing_channels WHERE channel_id = $1), (SELECT id FROM routing_groups WHERE is_default)))`
		b.Queue(`SELECT data FROM routing_groups WHERE id = `+group, q.ChannelID).Query(func(rows pgx.Rows) error {
			var data []byte
			_, err := pgx.ForEachRow(rows, []any{&data}, func() error {
				f.Group = new(host.RoutingGroup)
				return json.Unmarshal(data, f.Group)
			})
			return err
		})
		b.Queue(`SELECT s.data FROM routing_sources rs JOIN sources s ON s.id = rs.source_id WHERE rs.group_id = `+group, q.ChannelID).Query(func(rows pgx.Rows) error {
			var data []byte
			_, err := pgx.ForEachRow(rows, []any{&data}, func() error {
				s := new(host.Source)
				if err := json.Unmarshal(data, s); err != nil {
					return err
				}
				f.Sources[s.ID] = s
				return nil
			})
			return err
		})
		b.Queue(`SELECT st.sku, st.source_id, st.available FROM stock st JOIN routing_sources rs ON rs.source_id = st.source_id
			WHERE rs.group_id = `+group+` AND st.sku = ANY($2)`, q.ChannelID, skus).Query(func(rows pgx.Rows) error {
			var sku, src string
			var n int64
			_, err := pgx.ForEachRow(rows, []any{&sku, &src, &n}, func() error {
				if f.Stock[sku] == nil {
					f.Stock[sku] = map[string]int64{}
				}
				f.Stock[sku][src] = n
				return nil
			})
			return err
		})
		b.Queue(`SELECT data FROM shipping_mappings WHERE channel_id = $1`, q.ChannelID).Query(func(rows pgx.Rows) error {
			var data []byte
			_, err := pgx.ForEachRow(rows, []any{&data}, func() error {
				f.Shipping = new(host.ShippingMappings)
				return json.Unmarshal(data, f.Shipping)
			})
			return err
		})
		if q.Fingerprint != "" {
			// The newest look-alikes imported before the order, at most as
			// many as the search may scan; duplicates picks those placed in
			// the window (once the settings are read).
			before := q.Before
			if before == "" {
				before = "\x7f"
			}
			b.Queue(`SELECT id, status, channel_id, external_id, number, placed_at FROM orders WHERE fingerprint = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
				q.Fingerprint, before, host.MaxDuplicatesScanned+1).Query(func(rows pgx.Rows) error {
				var c host.DuplicateCandidate
				_, err := pgx.ForEachRow(rows, []any{&c.ID, &c.Status, &c.ChannelID, &c.ExternalID, &c.Number, &c.PlacedAt}, func() error {
					c.PlacedAt = c.PlacedAt.UTC()
					lookAlikes = append(lookAlikes, c)
					return nil
				})
				return err
			})
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the facts of an order: %w", err)
	}
	f.Settings = host.DefaultSettings()
	if settings != nil {
		if err := jsonUnmarshal(settings, &f.Settings); err != nil {
			return nil, err
		}
	}
	if dp := f.Settings.DuplicateProtection; q.Fingerprint != "" && dp.Enabled {
		duplicates(f, q, lookAlikes, dp.WindowDuration())
	}
	return f, nil
}

// duplicates picks the look-alikes of the order q describes from those
// read (newest first, imported before it), as bolt's search does: the
// orders placed within window of it; it lists the most recent
// MaxDuplicatesListed, counts up to MaxDuplicatesCounted, and stops at
// look-alikes imported PlacedAfterImportSlack before the window opens or
// after MaxDuplicatesScanned. The horizon is the newest one read, whatever
// its placed time.
func duplicates(f *host.Facts, q host.FactsQuery, lookAlikes []host.DuplicateCandidate, window time.Duration) {
	// Stored times have microseconds: so does the window's opening.
	lo, hi := q.PlacedAt.Add(-window).Truncate(time.Microsecond), q.PlacedAt.Add(window)
	stop := timeBound(lo.Add(-host.PlacedAfterImportSlack))
	for scanned, c := range lookAlikes {
		if f.DuplicateHorizon == "" {
			f.DuplicateHorizon = c.ID
		}
		if c.ID < stop || scanned == host.MaxDuplicatesScanned {
			break
		}
		if c.PlacedAt.Before(lo) || c.PlacedAt.After(hi) {
			continue
		}
		if f.DuplicateCount == host.MaxDuplicatesCounted {
			f.DuplicateCountCapped = true
			break
		}
		f.DuplicateCount++
		if len(f.Duplicates) < host.MaxDuplicatesListed {
			f.Duplicates = append(f.Duplicates, c)
		}
	}
	slices.Reverse(f.Duplicates) // oldest first
}
