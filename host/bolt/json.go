package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// getJSON decodes the value of key, with go-json as records are: the
// facts of every order decode the routing group and each of its sources.
func getJSON[T any](b *bolt.Bucket, key string, notFound string) (*T, error) {
	data := b.Get([]byte(key))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "%s", notFound)
	}
	v := new(T)
	if err := gojson.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", key, err)
	}
	return v, nil
}

// listJSON decodes every value of a bucket.
func listJSON[T any](b *bolt.Bucket) ([]*T, error) {
	var out []*T
	err := b.ForEach(func(_, v []byte) error {
		x := new(T)
		if err := gojson.Unmarshal(v, x); err != nil {
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
