package bolt

import (
	"bytes"
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// What `ordergate migrate` reads beyond the store contract: what the
// contract never hands out (key hashes, idempotency records).

// KeysWithHashes lists the API keys with their hashes, for copying them
// to another store.
func (d *DB) KeysWithHashes(_ context.Context) ([]*host.APIKey, error) {
	var out []*host.APIKey
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			var sk storedKey
			if err := json.Unmarshal(v, &sk); err != nil {
				return err
			}
			k := sk.APIKey
			k.Hash = sk.Hash
			out = append(out, &k)
			return nil
		})
	})
	return out, err
}

// IdempotencyRecord is a client's Idempotency-Key and the hash of the
// request it came with, kept with the order it created.
type IdempotencyRecord struct {
	Key, RequestHash string
}

// IdempotencyRecords returns the idempotency records by order id.
func (d *DB) IdempotencyRecords(_ context.Context) (map[string]IdempotencyRecord, error) {
	out := map[string]IdempotencyRecord{}
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdem).ForEach(func(k, v []byte) error {
			_, key, _ := bytes.Cut(k, []byte{0})
			id, hash, _ := bytes.Cut(v, []byte{0})
			out[string(id)] = IdempotencyRecord{Key: string(key), RequestHash: string(hash)}
			return nil
		})
	})
	return out, err
}
