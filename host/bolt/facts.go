package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// Facts implements host.CatalogStore. The group, sources and shipping
// mappings of the facts are shared with other calls (see decodedCache).
func (d *DB) Facts(_ context.Context, q host.FactsQuery) (*host.Facts, error) {
	f := &host.Facts{Catalog: map[string]*host.CatalogItem{}, Stock: map[string]map[string]int64{}, Sources: map[string]*host.Source{}}
	err := d.view(func(tx *bolt.Tx) error {
		var err error
		if f.Settings, err = settingsWith(tx, d.facts.settings.get); err != nil {
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
			if f.Group, err = d.facts.groups.get(tx.Bucket(bucketRoutingGroups), string(groupID), ""); err != nil {
				return fmt.Errorf("routing group %s: %w", groupID, err)
			}
			stock := tx.Bucket(bucketStock)
			for _, gs := range f.Group.Sources {
				if s, err := d.facts.sources.get(tx.Bucket(bucketSources), gs.SourceID, ""); err == nil {
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

		if m, err := d.facts.shipping.get(tx.Bucket(bucketShipping), q.ChannelID, ""); err == nil {
			f.Shipping = m
		}

		if q.CustomerEmail != "" {
			customerOrders(tx, q, f)
		}
		if dp := f.Settings.DuplicateProtection; q.Fingerprint != "" && dp.Enabled {
			return duplicates(tx, q, f, dp.WindowDuration())
		}
		return nil
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
// window, that the decision did not count; or one the decision counted
// (check.Seen) that is not stored. Its id may be above or below
// the order's: either way one of the two must be decided again, and the
// order being committed is the one that can be. Only look-alikes
// committed meanwhile are read.
func lookAlikeRaced(tx *bolt.Tx, check *host.LookAlikeCheck) bool {
	orders := tx.Bucket(bucketOrders)
	for _, id := range check.Seen {
		if orders.Get([]byte(id)) == nil {
			return true // counted as a look-alike, but it was not stored
		}
	}
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

// customerOrders counts the orders of q's customer email imported before
// q.Before (all when empty), up to MaxCustomerOrdersCounted: the index
// lists them in import order, so the count reads back from q.Before.
func customerOrders(tx *bolt.Tx, q host.FactsQuery, f *host.Facts) {
	prefix := indexPrefix(idxEmail, q.CustomerEmail)
	upper := q.Before
	if upper == "" {
		upper = "\xff"
	}
	c := tx.Bucket(bucketIndex).Cursor()
	for k, _ := lastBefore(c, append(slices.Clone(prefix), upper...)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		if f.CustomerOrders == host.MaxCustomerOrdersCounted {
			f.CustomerOrdersCapped = true
			return
		}
		f.CustomerOrders++
	}
}
