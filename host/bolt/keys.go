package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// storedKey is the stored form of an API key: the hash is kept, the secret never.
type storedKey struct {
	host.APIKey
	Hash string `json:"hash"`
}

// CreateKey implements host.KeyStore.
func (d *DB) CreateKey(ctx context.Context, k *host.APIKey) error {
	data, err := json.Marshal(storedKey{APIKey: *k, Hash: k.Hash})
	if err != nil {
		return err
	}
	return d.update(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketKeys).Put([]byte(k.Hash), data); err != nil {
			return err
		}
		return tx.Bucket(bucketKeyIDs).Put([]byte(k.ID), []byte(k.Hash))
	})
}

// KeyByHash implements host.KeyStore.
func (d *DB) KeyByHash(_ context.Context, hash string) (*host.APIKey, error) {
	var k *host.APIKey
	err := d.view(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketKeys).Get([]byte(hash))
		if data == nil {
			return host.Errorf(host.EUNAUTHORIZED, "unknown or revoked API key")
		}
		var sk storedKey
		if err := json.Unmarshal(data, &sk); err != nil {
			return err
		}
		if !host.SameHash(sk.Hash, hash) {
			return host.Errorf(host.EUNAUTHORIZED, "unknown or revoked API key")
		}
		sk.APIKey.Hash = sk.Hash
		k = &sk.APIKey
		return nil
	})
	return k, err
}

// Keys implements host.KeyStore.
func (d *DB) Keys(_ context.Context) ([]*host.APIKey, error) {
	var out []*host.APIKey
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			var sk storedKey
			if err := json.Unmarshal(v, &sk); err != nil {
				return err
			}
			out = append(out, &sk.APIKey)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

// DeleteKey implements host.KeyStore. The key stops working at once.
func (d *DB) DeleteKey(ctx context.Context, id string) error {
	var notFound error
	err := d.update(ctx, func(tx *bolt.Tx) error {
		ids := tx.Bucket(bucketKeyIDs)
		hash := ids.Get([]byte(id))
		if hash == nil {
			notFound = host.Errorf(host.ENOTFOUND, "API key %s not found", id)
			return nil
		}
		if err := tx.Bucket(bucketKeys).Delete(hash); err != nil {
			return err
		}
		return ids.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("deleting API key %s: %w", id, err)
	}
	return notFound
}
