package bolt

import (
	"bytes"
	"fmt"
	"sync"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// maxDecoded bounds the entries of one decodedCache: past it the cache
// starts again empty. The cached buckets hold configuration (settings,
// routing groups, sources, shipping mappings), which is small.
const maxDecoded = 1024

// decodedCache keeps the decoded value of each key of a bucket whose
// values seldom change, with the bytes it was decoded from. The facts of
// every order read the settings, the routing group and each of its
// sources, and the channel's shipping mappings; a read that finds in its
// own snapshot the bytes a value was decoded from takes that value
// instead of decoding it again. The bytes decide, not a version a writer
// must remember to bump, so no write path can leave a stale value behind.
//
// The values are shared by every reader: they must not be modified. The
// zero value is ready to use.
type decodedCache[T any] struct {
	mu      sync.RWMutex
	entries map[string]decodedValue[T]
}

type decodedValue[T any] struct {
	raw []byte
	v   *T
}

// get returns the value of key in b, decoded or from the cache, or
// ENOTFOUND with the message notFound.
func (c *decodedCache[T]) get(b *bolt.Bucket, key string, notFound string) (*T, error) {
	data := b.Get([]byte(key))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "%s", notFound)
	}
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if ok && bytes.Equal(e.raw, data) {
		return e.v, nil
	}
	v := new(T)
	if err := gojson.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", key, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxDecoded {
		c.entries = map[string]decodedValue[T]{}
	}
	// data lives in the mapped file only as long as the transaction.
	c.entries[key] = decodedValue[T]{raw: bytes.Clone(data), v: v}
	return v, nil
}

// factsCache is what Facts decodes once per version of each value.
type factsCache struct {
	settings decodedCache[host.Settings]
	groups   decodedCache[host.RoutingGroup]
	sources  decodedCache[host.Source]
	shipping decodedCache[host.ShippingMappings]
}
