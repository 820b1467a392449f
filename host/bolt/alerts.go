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
)

var (
	bucketDestinations = []byte("alert_destinations") // name -> destination JSON
	bucketDeliveries   = []byte("alert_deliveries")   // id -> delivery JSON
	// bucketDeliveryIdx: 'd' time id (pending, by next attempt) and
	// 's' status \x00 time id (by status, by creation).
	bucketDeliveryIdx = []byte("alert_delivery_index")
)

func timeKey(t time.Time) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano())^(1<<63))
	return b
}

func dueKey(d *host.Delivery) []byte {
	return append(append([]byte{'d'}, timeKey(d.NextAttemptAt)...), d.ID...)
}

func statusKey(d *host.Delivery) []byte {
	k := append([]byte{'s'}, d.Status...)
	k = append(k, 0)
	return append(append(k, timeKey(d.CreatedAt)...), d.ID...)
}

// putDelivery stores a delivery and moves its index entries.
func putDelivery(tx *bolt.Tx, d *host.Delivery) error {
	b, idx := tx.Bucket(bucketDeliveries), tx.Bucket(bucketDeliveryIdx)
	if data := b.Get([]byte(d.ID)); data != nil {
		var old host.Delivery
		if err := json.Unmarshal(data, &old); err != nil {
			return err
		}
		if err := idx.Delete(statusKey(&old)); err != nil {
			return err
		}
		if err := idx.Delete(dueKey(&old)); err != nil {
			return err
		}
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(d.ID), data); err != nil {
		return err
	}
	if err := idx.Put(statusKey(d), nil); err != nil {
		return err
	}
	if d.Status == host.DeliveryPending {
		return idx.Put(dueKey(d), nil)
	}
	return nil
}

// enqueueDeliveries writes the deliveries an order's decision calls for,
// unless they exist: an alert a rule raised for an order is delivered
// once, however often the order is re-evaluated.
func enqueueDeliveries(tx *bolt.Tx, ds []*host.Delivery) error {
	b := tx.Bucket(bucketDeliveries)
	for _, d := range ds {
		if b.Get([]byte(d.ID)) != nil {
			continue
		}
		if err := putDelivery(tx, d); err != nil {
			return fmt.Errorf("queueing %s: %w", d, err)
		}
	}
	return nil
}

// PutDestination implements host.AlertStore.
func (d *DB) PutDestination(ctx context.Context, dest *host.Destination) error {
	sealed, err := sealedDestination(d, dest)
	if err != nil {
		return err
	}
	return d.update(ctx, func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketDestinations), dest.Name, sealed) })
}

// Destination implements host.AlertStore.
func (d *DB) Destination(_ context.Context, name string) (dest *host.Destination, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		dest, err = getJSON[host.Destination](tx.Bucket(bucketDestinations), name, fmt.Sprintf("alert destination %s not found", name))
		if err != nil {
			return err
		}
		return d.open(destinationSecrets(dest))
	})
	return dest, err
}

// Destinations implements host.AlertStore.
func (d *DB) Destinations(_ context.Context) (out []*host.Destination, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		out, err = listJSON[host.Destination](tx.Bucket(bucketDestinations))
		for _, dest := range out {
			if err == nil {
				err = d.open(destinationSecrets(dest))
			}
		}
		return err
	})
	return out, err
}

// DeleteDestination implements host.AlertStore.
func (d *DB) DeleteDestination(ctx context.Context, name string) error {
	return d.deleteJSON(ctx, bucketDestinations, name, fmt.Sprintf("alert destination %s not found", name))
}

// DueDeliveries implements host.AlertStore.
func (d *DB) DueDeliveries(_ context.Context, now time.Time, limit int) ([]*host.Delivery, error) {
	var out []*host.Delivery
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeliveryIdx).Cursor()
		end := append([]byte{'d'}, timeKey(now)...)
		for k, _ := c.Seek([]byte{'d'}); k != nil && k[0] == 'd' && len(out) < limit; k, _ = c.Next() {
			if bytes.Compare(k[:9], end) > 0 {
				break
			}
			dl, err := getJSON[host.Delivery](tx.Bucket(bucketDeliveries), string(k[9:]), "")
			if err != nil {
				return err
			}
			out = append(out, dl)
		}
		return nil
	})
	return out, err
}

// PutDelivery implements host.AlertStore.
func (d *DB) PutDelivery(ctx context.Context, dl *host.Delivery) error {
	return d.update(ctx, func(tx *bolt.Tx) error { return putDelivery(tx, dl) })
}

// Delivery implements host.AlertStore.
func (d *DB) Delivery(_ context.Context, id string) (dl *host.Delivery, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		dl, err = getJSON[host.Delivery](tx.Bucket(bucketDeliveries), id, fmt.Sprintf("alert %s not found", id))
		return err
	})
	return dl, err
}

// Deliveries implements host.AlertStore.
func (d *DB) Deliveries(_ context.Context, status string, limit int) ([]*host.Delivery, error) {
	var out []*host.Delivery
	err := d.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeliveries)
		if status == "" {
			var err error
			out, err = listJSON[host.Delivery](b)
			return err
		}
		prefix := append(append([]byte{'s'}, status...), 0)
		c := tx.Bucket(bucketDeliveryIdx).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			dl, err := getJSON[host.Delivery](b, string(k[len(prefix)+8:]), "")
			if err != nil {
				return err
			}
			out = append(out, dl)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return slices.Clip(out), err
}

// Enqueue implements host.AlertStore.
func (d *DB) Enqueue(ctx context.Context, ds ...*host.Delivery) error {
	return d.update(ctx, func(tx *bolt.Tx) error { return enqueueDeliveries(tx, ds) })
}
