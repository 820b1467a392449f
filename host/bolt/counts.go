package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// bucketCounts keeps counts the store updates as orders and deliveries
// change, so reading them costs nothing per stored order:
//
//	'o' index key prefix (kind \x00 value)        -> int64, orders by status and by hold reason
//	'd' destination \x00 state                    -> int64, outbox deliveries by state
var bucketCounts = []byte("counts")

// countedKinds are the order index kinds whose entries are counted.
var countedKinds = []byte{idxStatus, idxHold}

// orderCountKey is the count an order index entry adds to, or nil: the
// entry's kind and value.
func orderCountKey(entry []byte) []byte {
	if len(entry) < 2 || bytes.IndexByte(countedKinds, entry[0]) < 0 {
		return nil
	}
	i := bytes.LastIndexByte(entry, 0)
	return append([]byte{'o'}, entry[:i]...)
}

// addCount adds n to a count.
func addCount(tx *bolt.Tx, key []byte, n int64) error {
	if key == nil || n == 0 {
		return nil
	}
	b := tx.Bucket(bucketCounts)
	var v int64
	if old := b.Get(key); len(old) == 8 {
		v = int64(binary.BigEndian.Uint64(old))
	}
	return b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(v+n)))
}

func outboxCountKey(d *host.Delivery) []byte {
	state := d.OutboxState()
	if state == "" {
		return nil
	}
	return []byte("d" + d.Alert.To + "\x00" + state)
}

// countDeliveryChange moves a delivery's count from its old state (nil:
// new) to its new one.
func countDeliveryChange(tx *bolt.Tx, old, d *host.Delivery) error {
	if old != nil {
		if err := addCount(tx, outboxCountKey(old), -1); err != nil {
			return err
		}
	}
	return addCount(tx, outboxCountKey(d), 1)
}

// Counts implements host.CountStore.
func (d *DB) Counts(_ context.Context) (host.Counts, error) {
	out := host.Counts{Orders: map[sdk.Status]int64{}, Held: map[string]int64{}, Outbox: map[string]map[string]int64{}}
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return nil
			}
			n := int64(binary.BigEndian.Uint64(v))
			switch {
			case len(k) > 3 && k[0] == 'o' && k[1] == idxStatus:
				out.Orders[sdk.Status(k[3:])] = n
			case len(k) > 3 && k[0] == 'o' && k[1] == idxHold:
				out.Held[string(k[3:])] = n
			case len(k) > 1 && k[0] == 'd':
				dest, state, ok := bytes.Cut(k[1:], []byte{0})
				if !ok {
					return nil
				}
				if out.Outbox[string(dest)] == nil {
					out.Outbox[string(dest)] = map[string]int64{}
				}
				out.Outbox[string(dest)][string(state)] = n
			}
			return nil
		})
	})
	if err != nil {
		return host.Counts{}, fmt.Errorf("reading the store's counts: %w", err)
	}
	return out, nil
}

// migrateCounts computes the counts of a database written before they
// were kept (schema 3 and before): once, from the index and the outbox.
func migrateCounts(tx *bolt.Tx) error {
	// Start from nothing: an older migration in the same transaction may
	// have counted the entries it wrote.
	if err := tx.DeleteBucket(bucketCounts); err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bucketCounts); err != nil {
		return err
	}
	c := tx.Bucket(bucketIndex).Cursor()
	for _, kind := range countedKinds {
		prefix := []byte{kind, 0}
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := addCount(tx, orderCountKey(k), 1); err != nil {
				return err
			}
		}
	}
	return tx.Bucket(bucketDeliveries).ForEach(func(_, v []byte) error {
		dl, err := decodeDelivery(v)
		if err != nil {
			return err
		}
		return countDeliveryChange(tx, nil, dl)
	})
}
