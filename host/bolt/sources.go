package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

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
