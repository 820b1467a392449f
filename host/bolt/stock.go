package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

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
