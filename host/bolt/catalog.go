package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

var (
	bucketCatalog         = []byte("catalog")           // sku -> item JSON
	bucketSources         = []byte("sources")           // id -> source JSON
	bucketStock           = []byte("stock")             // sku \x00 source -> available (8 bytes) + updated unix nanos (8 bytes)
	bucketStockBySource   = []byte("stock_by_source")   // source \x00 sku -> nil
	bucketRoutingGroups   = []byte("routing_groups")    // id -> group JSON
	bucketRoutingChannels = []byte("routing_channels")  // channel id -> group id
	bucketShipping        = []byte("shipping_mappings") // channel id -> mappings JSON
	bucketSettings        = []byte("settings")          // "settings" -> JSON; "default_group" -> group id
)

var (
	keySettings     = []byte("settings")
	keyDefaultGroup = []byte("default_group")
)

func getJSON[T any](b *bolt.Bucket, key string, notFound string) (*T, error) {
	data := b.Get([]byte(key))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "%s", notFound)
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", key, err)
	}
	return v, nil
}

// listJSON decodes every value of a bucket.
func listJSON[T any](b *bolt.Bucket) ([]*T, error) {
	var out []*T
	err := b.ForEach(func(_, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// deleteJSON deletes key from a bucket, or returns ENOTFOUND.
func (d *DB) deleteJSON(ctx context.Context, bucket []byte, key, notFound string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b.Get([]byte(key)) == nil {
			return host.Errorf(host.ENOTFOUND, "%s", notFound)
		}
		return b.Delete([]byte(key))
	})
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

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

// page calls fn for up to limit keys with prefix that sort after
// prefix+after, and sets next to the last key's suffix when more follow.
func page(b *bolt.Bucket, prefix []byte, after string, limit int, fn func(k, v []byte) error, next *string) error {
	if limit <= 0 {
		limit = 100
	}
	c := b.Cursor()
	start := append(slices.Clone(prefix), after...)
	k, v := c.Seek(start)
	if after != "" && k != nil && bytes.Equal(k, start) {
		k, v = c.Next()
	}
	n := 0
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if n == limit {
			*next = after
			return nil
		}
		if err := fn(k, v); err != nil {
			return err
		}
		after = string(k[len(prefix):])
		n++
	}
	return nil
}

// DeleteCatalogItem implements host.CatalogStore.
func (d *DB) DeleteCatalogItem(ctx context.Context, sku string) error {
	return d.deleteJSON(ctx, bucketCatalog, sku, fmt.Sprintf("catalog item %q not found", sku))
}

// CreateSource implements host.CatalogStore.
func (d *DB) CreateSource(ctx context.Context, src *host.Source) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSources)
		if b.Get([]byte(src.ID)) != nil {
			return host.Errorf(host.ECONFLICT, "source %s already exists", src.ID)
		}
		return putJSON(b, src.ID, src)
	})
}

// UpdateSource implements host.CatalogStore.
func (d *DB) UpdateSource(ctx context.Context, id string, fn func(*host.Source) error) (*host.Source, error) {
	var out *host.Source
	err := d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSources)
		src, err := getJSON[host.Source](b, id, fmt.Sprintf("source %s not found", id))
		if err != nil {
			return err
		}
		if err := fn(src); err != nil {
			return err
		}
		src.ID, out = id, src
		return putJSON(b, id, src)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Source implements host.CatalogStore.
func (d *DB) Source(_ context.Context, id string) (s *host.Source, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		s, err = getJSON[host.Source](tx.Bucket(bucketSources), id, fmt.Sprintf("source %s not found", id))
		return err
	})
	return s, err
}

// Sources implements host.CatalogStore.
func (d *DB) Sources(_ context.Context) (out []*host.Source, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		out, err = listJSON[host.Source](tx.Bucket(bucketSources))
		return err
	})
	return out, err
}

// DeleteSource implements host.CatalogStore.
func (d *DB) DeleteSource(ctx context.Context, id string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSources).Get([]byte(id)) == nil {
			return host.Errorf(host.ENOTFOUND, "source %s not found", id)
		}
		groups, err := routingGroups(tx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if slices.ContainsFunc(g.Sources, func(s host.GroupSource) bool { return s.SourceID == id }) {
				return host.Errorf(host.ECONFLICT, "source %s is in routing group %s; remove it from the group first", id, g.ID)
			}
		}
		bySource := tx.Bucket(bucketStockBySource)
		stock := tx.Bucket(bucketStock)
		prefix := append([]byte(id), 0)
		var keys [][]byte
		c := bySource.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, slices.Clone(k))
		}
		for _, k := range keys {
			sku := k[len(prefix):]
			if err := stock.Delete(stockKey(string(sku), id)); err != nil {
				return err
			}
			if err := bySource.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketSources).Delete([]byte(id))
	})
}

func stockKey(sku, source string) []byte {
	return append(append([]byte(sku), 0), source...)
}

func stockValue(available int64, at time.Time) []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(available))
	binary.BigEndian.PutUint64(v[8:], uint64(at.UnixNano()))
	return v
}

func decodeStock(v []byte) (int64, time.Time) {
	if len(v) < 16 {
		return 0, time.Time{}
	}
	return int64(binary.BigEndian.Uint64(v)), time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))).UTC()
}

// SetInventory implements host.CatalogStore. Every source named must exist;
// the upload is applied in one transaction.
func (d *DB) SetInventory(ctx context.Context, levels []host.StockLevel, mode host.InventoryMode, now time.Time) (host.InventoryResult, error) {
	var res host.InventoryResult
	err := d.update(ctx, func(tx *bolt.Tx) error {
		res = host.InventoryResult{Rows: len(levels)}
		changed := map[string]bool{}
		sources := tx.Bucket(bucketSources)
		stock := tx.Bucket(bucketStock)
		bySource := tx.Bucket(bucketStockBySource)
		named := map[string]bool{}
		listed := map[string]bool{}
		// Every source is checked before anything is written: a domain
		// error must leave the transaction untouched (see DB.update).
		for _, l := range levels {
			if !named[l.SourceID] {
				if sources.Get([]byte(l.SourceID)) == nil {
					return host.Errorf(host.EINVALID, "source %s does not exist; create it first", l.SourceID)
				}
				named[l.SourceID] = true
			}
		}
		for _, l := range levels {
			key := stockKey(l.SKU, l.SourceID)
			listed[string(key)] = true
			if old, _ := decodeStock(stock.Get(key)); old == l.Available && stock.Get(key) != nil {
				continue
			}
			if err := stock.Put(key, stockValue(l.Available, now)); err != nil {
				return err
			}
			if err := bySource.Put(append(append([]byte(l.SourceID), 0), l.SKU...), nil); err != nil {
				return err
			}
			changed[l.SKU] = true
			res.Changed++
		}
		if mode == host.InventoryReplace {
			for src := range named {
				prefix := append([]byte(src), 0)
				c := bySource.Cursor()
				for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
					sku := string(k[len(prefix):])
					key := stockKey(sku, src)
					if listed[string(key)] {
						continue
					}
					if old, _ := decodeStock(stock.Get(key)); old == 0 {
						continue
					}
					if err := stock.Put(key, stockValue(0, now)); err != nil {
						return err
					}
					changed[sku] = true
					res.Changed++
				}
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

// Inventory implements host.CatalogStore: the levels of one source (by
// SKU) or of one SKU (by source).
func (d *DB) Inventory(_ context.Context, sourceID, sku string, after string, limit int) ([]host.StockLevel, string, error) {
	var out []host.StockLevel
	next := ""
	err := d.view(func(tx *bolt.Tx) error {
		stock := tx.Bucket(bucketStock)
		if sku != "" {
			return page(stock, append([]byte(sku), 0), after, limit, func(k, v []byte) error {
				src := string(k[len(sku)+1:])
				if sourceID != "" && src != sourceID {
					return nil
				}
				n, at := decodeStock(v)
				out = append(out, host.StockLevel{SourceID: src, SKU: sku, Available: n, UpdatedAt: at})
				return nil
			}, &next)
		}
		return page(tx.Bucket(bucketStockBySource), append([]byte(sourceID), 0), after, limit, func(k, _ []byte) error {
			s := string(k[len(sourceID)+1:])
			n, at := decodeStock(stock.Get(stockKey(s, sourceID)))
			out = append(out, host.StockLevel{SourceID: sourceID, SKU: s, Available: n, UpdatedAt: at})
			return nil
		}, &next)
	})
	return out, next, err
}

func routingGroups(tx *bolt.Tx) ([]*host.RoutingGroup, error) {
	return listJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups))
}

// CreateRoutingGroup implements host.CatalogStore.
func (d *DB) CreateRoutingGroup(ctx context.Context, g *host.RoutingGroup) error {
	err := d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRoutingGroups).Get([]byte(g.ID)) != nil {
			return host.Errorf(host.ECONFLICT, "routing group %s already exists", g.ID)
		}
		return storeRoutingGroup(tx, g)
	})
	if err != nil {
		return fmt.Errorf("storing routing group %s: %w", g.ID, err)
	}
	return nil
}

// UpdateRoutingGroup implements host.CatalogStore.
func (d *DB) UpdateRoutingGroup(ctx context.Context, id string, fn func(*host.RoutingGroup) error) (*host.RoutingGroup, error) {
	var out *host.RoutingGroup
	err := d.update(ctx, func(tx *bolt.Tx) error {
		g, err := getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), id, fmt.Sprintf("routing group %s not found", id))
		if err != nil {
			return err
		}
		if err := fn(g); err != nil {
			return err
		}
		g.ID, out = id, g
		return storeRoutingGroup(tx, g)
	})
	if err != nil {
		return nil, fmt.Errorf("storing routing group %s: %w", id, err)
	}
	return out, nil
}

// storeRoutingGroup checks that a group's sources and channels fit and
// stores it, its channel links and its default mark. It checks all before
// it writes anything (see DB.update).
func storeRoutingGroup(tx *bolt.Tx, g *host.RoutingGroup) error {
	var bad []sdk.FieldError
	for i, s := range g.Sources {
		if tx.Bucket(bucketSources).Get([]byte(s.SourceID)) == nil {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("sources[%d].source_id", i), Detail: fmt.Sprintf("source %q does not exist", s.SourceID)})
		}
	}
	chans := tx.Bucket(bucketRoutingChannels)
	for i, c := range g.Channels {
		if tx.Bucket(bucketChannels).Get([]byte(c)) == nil {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q does not exist", c)})
		} else if other := chans.Get([]byte(c)); other != nil && string(other) != g.ID {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q is already in routing group %q", c, other)})
		}
	}
	if len(bad) > 0 {
		return host.InvalidFields("the routing group refers to what does not fit", bad)
	}
	meta := tx.Bucket(bucketSettings)
	if def := meta.Get(keyDefaultGroup); g.Default && def != nil && string(def) != g.ID {
		return host.InvalidFields("only one routing group can be the default",
			[]sdk.FieldError{{Field: "default", Detail: fmt.Sprintf("routing group %q is the default already", def)}})
	}
	if err := unlinkGroup(tx, g.ID); err != nil {
		return err
	}
	for _, c := range g.Channels {
		if err := chans.Put([]byte(c), []byte(g.ID)); err != nil {
			return err
		}
	}
	if g.Default {
		if err := meta.Put(keyDefaultGroup, []byte(g.ID)); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketRoutingGroups), g.ID, g)
}

// unlinkGroup removes the channel links and default mark of group id.
func unlinkGroup(tx *bolt.Tx, id string) error {
	old, err := getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), id, "")
	if err != nil {
		return nil // a new group
	}
	for _, c := range old.Channels {
		if err := tx.Bucket(bucketRoutingChannels).Delete([]byte(c)); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketSettings)
	if string(meta.Get(keyDefaultGroup)) == id {
		return meta.Delete(keyDefaultGroup)
	}
	return nil
}

// RoutingGroup implements host.CatalogStore.
func (d *DB) RoutingGroup(_ context.Context, id string) (g *host.RoutingGroup, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		g, err = getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), id, fmt.Sprintf("routing group %s not found", id))
		return err
	})
	return g, err
}

// RoutingGroups implements host.CatalogStore.
func (d *DB) RoutingGroups(_ context.Context) (gs []*host.RoutingGroup, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		gs, err = routingGroups(tx)
		return err
	})
	return gs, err
}

// DeleteRoutingGroup implements host.CatalogStore.
func (d *DB) DeleteRoutingGroup(ctx context.Context, id string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRoutingGroups).Get([]byte(id)) == nil {
			return host.Errorf(host.ENOTFOUND, "routing group %s not found", id)
		}
		if err := unlinkGroup(tx, id); err != nil {
			return err
		}
		return tx.Bucket(bucketRoutingGroups).Delete([]byte(id))
	})
}

// PutShippingMappings implements host.CatalogStore.
func (d *DB) PutShippingMappings(ctx context.Context, m *host.ShippingMappings) error {
	err := d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChannels).Get([]byte(m.ChannelID)) == nil {
			return host.Errorf(host.ENOTFOUND, "channel %s not found", m.ChannelID)
		}
		return putJSON(tx.Bucket(bucketShipping), m.ChannelID, m)
	})
	if err != nil {
		return fmt.Errorf("storing shipping mappings of %s: %w", m.ChannelID, err)
	}
	return nil
}

// ShippingMappings implements host.CatalogStore; a channel without
// mappings has an empty set.
func (d *DB) ShippingMappings(_ context.Context, channelID string) (*host.ShippingMappings, error) {
	m := &host.ShippingMappings{ChannelID: channelID, Methods: map[string]string{}}
	err := d.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChannels).Get([]byte(channelID)) == nil {
			return host.Errorf(host.ENOTFOUND, "channel %s not found", channelID)
		}
		if stored, err := getJSON[host.ShippingMappings](tx.Bucket(bucketShipping), channelID, ""); err == nil {
			m = stored
		}
		return nil
	})
	return m, err
}

func settings(tx *bolt.Tx) (host.Settings, error) {
	s, err := getJSON[host.Settings](tx.Bucket(bucketSettings), string(keySettings), "")
	if host.ErrorCode(err) == host.ENOTFOUND {
		return host.DefaultSettings(), nil
	}
	if err != nil {
		return host.Settings{}, err
	}
	return *s, nil
}

// Settings implements host.CatalogStore.
func (d *DB) Settings(_ context.Context) (s host.Settings, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		s, err = settings(tx)
		return err
	})
	return s, err
}

// UpdateSettings implements host.CatalogStore.
func (d *DB) UpdateSettings(ctx context.Context, fn func(*host.Settings) error) (host.Settings, error) {
	var out host.Settings
	err := d.update(ctx, func(tx *bolt.Tx) error {
		s, err := settings(tx)
		if err != nil {
			return err
		}
		if err := fn(&s); err != nil {
			return err
		}
		out = s
		return putJSON(tx.Bucket(bucketSettings), string(keySettings), s)
	})
	return out, err
}

// Facts implements host.CatalogStore.
func (d *DB) Facts(_ context.Context, q host.FactsQuery) (*host.Facts, error) {
	f := &host.Facts{Catalog: map[string]*host.CatalogItem{}, Stock: map[string]map[string]int64{}, Sources: map[string]*host.Source{}}
	err := d.view(func(tx *bolt.Tx) error {
		var err error
		if f.Settings, err = settings(tx); err != nil {
			return err
		}
		catalog := tx.Bucket(bucketCatalog)
		if k, _ := catalog.Cursor().First(); k != nil {
			f.CatalogInUse = true
			for _, sku := range q.SKUs {
				if it, err := getJSON[host.CatalogItem](catalog, sku, ""); err == nil {
					f.Catalog[sku] = it
				}
			}
		}

		groupID := tx.Bucket(bucketRoutingChannels).Get([]byte(q.ChannelID))
		if groupID == nil {
			groupID = tx.Bucket(bucketSettings).Get(keyDefaultGroup)
		}
		if groupID != nil {
			if f.Group, err = getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), string(groupID), ""); err != nil {
				return fmt.Errorf("routing group %s: %w", groupID, err)
			}
			stock := tx.Bucket(bucketStock)
			for _, gs := range f.Group.Sources {
				if s, err := getJSON[host.Source](tx.Bucket(bucketSources), gs.SourceID, ""); err == nil {
					f.Sources[s.ID] = s
				}
				for _, sku := range q.SKUs {
					if v := stock.Get(stockKey(sku, gs.SourceID)); v != nil {
						if f.Stock[sku] == nil {
							f.Stock[sku] = map[string]int64{}
						}
						f.Stock[sku][gs.SourceID], _ = decodeStock(v)
					}
				}
			}
		}

		if m, err := getJSON[host.ShippingMappings](tx.Bucket(bucketShipping), q.ChannelID, ""); err == nil {
			f.Shipping = m
		}

		if dp := f.Settings.DuplicateProtection; q.Fingerprint != "" && dp.Enabled {
			err = duplicates(tx, q, f, dp.WindowDuration())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the facts of an order: %w", err)
	}
	return f, nil
}

// duplicates reads the look-alikes of the order q describes: the orders
// with its fingerprint imported before it (q.Before; all when empty),
// newest first, placed within window of it. It lists the most recent
// MaxDuplicatesListed, counts up to MaxDuplicatesCounted, and stops at
// look-alikes imported PlacedAfterImportSlack before the window opens or
// after MaxDuplicatesScanned entries, so its cost does not grow with the
// look-alikes stored. It also returns the horizon: the newest entry before
// q.Before, whatever its placed time.
func duplicates(tx *bolt.Tx, q host.FactsQuery, f *host.Facts, window time.Duration) error {
	prefix := indexPrefix(idxLookAlike, q.Fingerprint)
	c := tx.Bucket(bucketIndex).Cursor()
	start := append(slices.Clone(prefix), "\xff"...)
	if q.Before != "" {
		start = append(slices.Clone(prefix), q.Before...)
	}
	k, v := lastBefore(c, start)
	lo, hi := q.PlacedAt.Add(-window), q.PlacedAt.Add(window)
	stop := timeBound(lo.Add(-host.PlacedAfterImportSlack))
	for scanned := 0; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		id := string(k[len(prefix):])
		if f.DuplicateHorizon == "" {
			f.DuplicateHorizon = id
		}
		if id < stop || scanned == host.MaxDuplicatesScanned {
			break
		}
		scanned++
		placed, ok := lookAlikePlaced(v)
		if !ok || placed.Before(lo) || placed.After(hi) {
			continue
		}
		if f.DuplicateCount == host.MaxDuplicatesCounted {
			f.DuplicateCountCapped = true
			break
		}
		f.DuplicateCount++
		if len(f.Duplicates) < host.MaxDuplicatesListed {
			d, err := decodeLookAlike(id, v)
			if err != nil {
				return err
			}
			f.Duplicates = append(f.Duplicates, d)
		}
	}
	slices.Reverse(f.Duplicates) // oldest first
	return nil
}

// lookAlikeRaced reports whether a look-alike of the new order was
// committed after the order's facts were read: an entry of its
// fingerprint newer than the horizon its facts saw, placed within the
// window, that the decision did not count. Its id may be above or below
// the order's: either way one of the two must be decided again, and the
// order being committed is the one that can be. Only look-alikes
// committed meanwhile are read.
func lookAlikeRaced(tx *bolt.Tx, check *host.LookAlikeCheck) bool {
	prefix := indexPrefix(idxLookAlike, check.Fingerprint)
	c := tx.Bucket(bucketIndex).Cursor()
	k, v := lastBefore(c, append(slices.Clone(prefix), 0xff))
	lo, hi := check.PlacedAt.Add(-check.Window), check.PlacedAt.Add(check.Window)
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		other := string(k[len(prefix):])
		if other <= check.Horizon {
			return false
		}
		if slices.Contains(check.Seen, other) {
			continue
		}
		if placed, ok := lookAlikePlaced(v); ok && !placed.Before(lo) && !placed.After(hi) {
			return true
		}
	}
	return false
}
