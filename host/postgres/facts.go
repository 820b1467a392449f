package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ordergate/ordergate/host"
)

// factsQuery asks every question of Facts in one statement, so it reads
// one snapshot in one round trip: $1 the channel, $2 the SKUs, $3 the
// fingerprint (NULL: no look-alike search), $4 the id the look-alikes
// are imported before, $5 how many to read; $6 the customer email ("":
// none) whose earlier orders it counts, up to $7.
const factsQuery = `WITH grp AS (
		SELECT id, data FROM routing_groups
		WHERE id = coalesce((SELECT group_id FROM routing_channels WHERE channel_id = $1), (SELECT id FROM routing_groups WHERE is_default)))
	SELECT
		(SELECT data FROM settings WHERE id = 1),
		EXISTS (SELECT 1 FROM catalog_items),
		(SELECT json_agg(data) FROM catalog_items WHERE sku = ANY($2)),
		(SELECT data FROM grp),
		(SELECT json_agg(s.data) FROM routing_sources rs JOIN sources s ON s.id = rs.source_id WHERE rs.group_id = (SELECT id FROM grp)),
		(SELECT json_agg(json_build_array(st.sku, st.source_id, st.available)) FROM stock st
			JOIN routing_sources rs ON rs.source_id = st.source_id WHERE rs.group_id = (SELECT id FROM grp) AND st.sku = ANY($2)),
		(SELECT data FROM shipping_mappings WHERE channel_id = $1),
		(SELECT json_agg(json_build_array(id, status, channel_id, external_id, number, (extract(epoch FROM placed_at) * 1000000)::bigint) ORDER BY id DESC)
			FROM (SELECT id, status, channel_id, external_id, number, placed_at FROM orders
				WHERE fingerprint = $3 AND id < $4 ORDER BY id DESC LIMIT $5) la),
		(SELECT count(*) FROM (SELECT 1 FROM order_labels
			WHERE kind = 'e' AND value = $6 AND order_id < $4 ORDER BY order_id DESC LIMIT $7) co)`

// Facts implements host.CatalogStore.
func (d *DB) Facts(ctx context.Context, q host.FactsQuery) (*host.Facts, error) {
	f := &host.Facts{Catalog: map[string]*host.CatalogItem{}, Stock: map[string]map[string]int64{}, Sources: map[string]*host.Source{}}
	skus := q.SKUs
	if skus == nil {
		skus = []string{}
	}
	var fingerprint *string
	if q.Fingerprint != "" {
		fingerprint = &q.Fingerprint
	}
	before := q.Before
	if before == "" {
		before = "\x7f" // above every id
	}
	ctx, cancel := context.WithTimeout(ctx, factsTimeout)
	defer cancel()
	var settings, catalog, group, sources, stock, shipping, lookAlikes []byte
	var customerOrders int
	err := d.q.QueryRow(ctx, factsQuery, q.ChannelID, skus, fingerprint, before, host.MaxDuplicatesScanned+1, q.CustomerEmail, host.MaxCustomerOrdersCounted+1).
		Scan(&settings, &f.CatalogInUse, &catalog, &group, &sources, &stock, &shipping, &lookAlikes, &customerOrders)
	if err != nil {
		return nil, fmt.Errorf("reading the facts of an order: %w", err)
	}
	if err := decodeFacts(f, settings, catalog, group, sources, stock, shipping); err != nil {
		return nil, fmt.Errorf("reading the facts of an order: %w", err)
	}
	f.CustomerOrders = customerOrders
	if customerOrders > host.MaxCustomerOrdersCounted {
		f.CustomerOrders, f.CustomerOrdersCapped = host.MaxCustomerOrdersCounted, true
	}
	if dp := f.Settings.DuplicateProtection; q.Fingerprint != "" && dp.Enabled {
		var rows [][]json.RawMessage
		if lookAlikes != nil {
			if err := json.Unmarshal(lookAlikes, &rows); err != nil {
				return nil, fmt.Errorf("reading the look-alikes of an order: %w", err)
			}
		}
		candidates := make([]host.DuplicateCandidate, 0, len(rows))
		for _, r := range rows {
			var c host.DuplicateCandidate
			var micros int64
			if len(r) != 6 || json.Unmarshal(r[0], &c.ID) != nil || json.Unmarshal(r[1], &c.Status) != nil || json.Unmarshal(r[2], &c.ChannelID) != nil ||
				json.Unmarshal(r[3], &c.ExternalID) != nil || json.Unmarshal(r[4], &c.Number) != nil || json.Unmarshal(r[5], &micros) != nil {
				return nil, fmt.Errorf("reading the look-alikes of an order: %s", r)
			}
			c.PlacedAt = time.UnixMicro(micros).UTC()
			candidates = append(candidates, c)
		}
		duplicates(f, q, candidates, dp.WindowDuration())
	}
	return f, nil
}

// decodeFacts fills the facts from the JSON the query returned (NULL
// where there is nothing).
func decodeFacts(f *host.Facts, settings, catalog, group, sources, stock, shipping []byte) error {
	f.Settings = host.DefaultSettings()
	if settings != nil {
		if err := jsonUnmarshal(settings, &f.Settings); err != nil {
			return err
		}
	}
	if catalog != nil {
		var items []*host.CatalogItem
		if err := jsonUnmarshal(catalog, &items); err != nil {
			return err
		}
		for _, it := range items {
			f.Catalog[it.SKU] = it
		}
	}
	if group != nil {
		f.Group = new(host.RoutingGroup)
		if err := jsonUnmarshal(group, f.Group); err != nil {
			return err
		}
	}
	if sources != nil {
		var list []*host.Source
		if err := jsonUnmarshal(sources, &list); err != nil {
			return err
		}
		for _, s := range list {
			f.Sources[s.ID] = s
		}
	}
	if stock != nil {
		var rows [][3]json.RawMessage
		if err := jsonUnmarshal(stock, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			var sku, src string
			var n int64
			if json.Unmarshal(r[0], &sku) != nil || json.Unmarshal(r[1], &src) != nil || json.Unmarshal(r[2], &n) != nil {
				return fmt.Errorf("decoding a stock level: %s", r)
			}
			if f.Stock[sku] == nil {
				f.Stock[sku] = map[string]int64{}
			}
			f.Stock[sku][src] = n
		}
	}
	if shipping != nil {
		f.Shipping = new(host.ShippingMappings)
		if err := jsonUnmarshal(shipping, f.Shipping); err != nil {
			return err
		}
	}
	return nil
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
