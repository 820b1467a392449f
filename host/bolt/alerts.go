package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/sdk"
)

var (
	bucketDestinations = []byte("alert_destinations") // name -> destination JSON
	bucketDeliveries   = []byte("alert_deliveries")   // id -> delivery JSON
	// bucketDeliveryIdx: 'd' time id (pending, by next attempt);
	// 's' status \x00 time id (by status, by creation); 'c' time id (all,
	// by creation) and 't' destination \x00 time id (by destination, by
	// creation), both since schema 4.
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

func createdKey(d *host.Delivery) []byte {
	return append(append([]byte{'c'}, timeKey(d.CreatedAt)...), d.ID...)
}

func destinationKey(d *host.Delivery) []byte {
	k := append([]byte{'t'}, d.Alert.To...)
	k = append(k, 0)
	return append(append(k, timeKey(d.CreatedAt)...), d.ID...)
}

// putDelivery stores a delivery and moves its index entries.
func putDelivery(tx *bolt.Tx, d *host.Delivery) error {
	b, idx := tx.Bucket(bucketDeliveries), tx.Bucket(bucketDeliveryIdx)
	var old *host.Delivery
	if data := b.Get([]byte(d.ID)); data != nil {
		var err error
		if old, err = decodeDelivery(data); err != nil {
			return err
		}
		if err := idx.Delete(statusKey(old)); err != nil {
			return err
		}
		if err := idx.Delete(dueKey(old)); err != nil {
			return err
		}
	}
	if err := countDeliveryChange(tx, old, d); err != nil {
		return err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(d.ID), data); err != nil {
		return err
	}
	// The creation and destination entries never change.
	for _, k := range [][]byte{statusKey(d), createdKey(d), destinationKey(d)} {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	if d.Status == host.DeliveryPending {
		return idx.Put(dueKey(d), nil)
	}
	return nil
}

func decodeDelivery(data []byte) (*host.Delivery, error) {
	d := new(host.Delivery)
	if err := json.Unmarshal(data, d); err != nil {
		return nil, fmt.Errorf("decoding an alert delivery: %w", err)
	}
	return d, nil
}

// migrateDeliveryIndex adds the schema 4 entries (by creation, by
// destination) of every stored delivery.
func migrateDeliveryIndex(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketDeliveryIdx)
	return tx.Bucket(bucketDeliveries).ForEach(func(_, v []byte) error {
		var d host.Delivery
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		if err := idx.Put(createdKey(&d), nil); err != nil {
			return err
		}
		return idx.Put(destinationKey(&d), nil)
	})
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

func (d *DB) writeDestination(tx *bolt.Tx, dest *host.Destination) error {
	sealed, err := d.box.SealedDestination(dest)
	if err != nil {
		return err
	}
	return putJSON(tx.Bucket(bucketDestinations), dest.Name, sealed)
}

func (d *DB) readDestination(tx *bolt.Tx, name string) (*host.Destination, error) {
	dest, err := getJSON[host.Destination](tx.Bucket(bucketDestinations), name, fmt.Sprintf("alert destination %s not found", name))
	if err != nil {
		return nil, err
	}
	return dest, d.box.OpenFields(secrets.DestinationFields(dest))
}

// CreateDestination implements host.AlertStore.
func (d *DB) CreateDestination(ctx context.Context, dest *host.Destination) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDestinations).Get([]byte(dest.Name)) != nil {
			return host.Errorf(host.ECONFLICT, "alert destination %s already exists", dest.Name)
		}
		return d.writeDestination(tx, dest)
	})
}

// UpdateDestination implements host.AlertStore.
func (d *DB) UpdateDestination(ctx context.Context, name string, fn func(*host.Destination) error) (*host.Destination, error) {
	var out *host.Destination
	err := d.update(ctx, func(tx *bolt.Tx) error {
		dest, err := d.readDestination(tx, name)
		if err != nil {
			return err
		}
		if err := fn(dest); err != nil {
			return err
		}
		dest.Name = name
		out = dest
		return d.writeDestination(tx, dest)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Destination implements host.AlertStore.
func (d *DB) Destination(_ context.Context, name string) (dest *host.Destination, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		dest, err = d.readDestination(tx, name)
		return err
	})
	return dest, err
}

// Destinations implements host.AlertStore.
func (d *DB) Destinations(_ context.Context) (out []*host.Destination, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		out, err = listJSON[host.Destination](tx.Bucket(bucketDestinations))
		for _, dest := range out {
			if err == nil {
				err = d.box.OpenFields(secrets.DestinationFields(dest))
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

// DueDeliveries implements host.AlertStore. One host uses a bbolt file,
// so its claims are kept in memory.
func (d *DB) DueDeliveries(_ context.Context, now time.Time, limit int) ([]*host.Delivery, error) {
	var out []*host.Delivery
	d.claimsMu.Lock()
	defer d.claimsMu.Unlock()
	wall := time.Now()
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeliveryIdx).Cursor()
		end := append([]byte{'d'}, timeKey(now)...)
		for k, _ := c.Seek([]byte{'d'}); k != nil && k[0] == 'd' && len(out) < limit; k, _ = c.Next() {
			if bytes.Compare(k[:9], end) > 0 {
				break
			}
			id := string(k[9:])
			if until, ok := d.claims[id]; ok && wall.Before(until) {
				continue
			}
			dl, err := getJSON[host.Delivery](tx.Bucket(bucketDeliveries), id, "")
			if err != nil {
				return err
			}
			out = append(out, dl)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, dl := range out {
		d.claims[dl.ID] = wall.Add(host.ClaimTimeout)
	}
	return out, nil
}

// unclaim ends the claims of deliveries whose new state is stored.
func (d *DB) unclaim(ds []*host.Delivery) {
	d.claimsMu.Lock()
	defer d.claimsMu.Unlock()
	for _, dl := range ds {
		delete(d.claims, dl.ID)
	}
}

// PutDelivery implements host.AlertStore.
func (d *DB) PutDelivery(ctx context.Context, dl *host.Delivery) error {
	return d.PutDeliveries(ctx, []*host.Delivery{dl})
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
func (d *DB) Deliveries(ctx context.Context, status string, limit int) ([]*host.Delivery, error) {
	out, _, err := d.ListDeliveries(ctx, host.DeliveryFilter{Status: status, Limit: limit})
	return out, err
}

// ListDeliveries implements host.AlertStore. It walks the index of the
// destination, else of the status, else of all deliveries, newest first,
// and stops at the first delivery created before f.Since.
func (d *DB) ListDeliveries(_ context.Context, f host.DeliveryFilter) ([]*host.Delivery, string, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var prefix []byte
	switch {
	case f.Destination != "":
		prefix = append(append([]byte{'t'}, f.Destination...), 0)
	case f.Status != "":
		prefix = append(append([]byte{'s'}, f.Status...), 0)
	default:
		prefix = []byte{'c'}
	}
	start := append(slices.Clone(prefix), 0xff)
	if f.After != "" {
		after, err := hex.DecodeString(f.After)
		if err != nil || len(after) < 8 {
			return nil, "", host.InvalidFields("the cursor is not valid", []sdk.FieldError{{Field: "cursor", Detail: "is not a next_cursor this API returned"}})
		}
		start = append(slices.Clone(prefix), after...)
	}
	var out []*host.Delivery
	next := ""
	err := d.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeliveries)
		c := tx.Bucket(bucketDeliveryIdx).Cursor()
		k, _ := lastBefore(c, start)
		since := timeKey(f.Since)
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) >= len(prefix)+8; k, _ = c.Prev() {
			suffix := k[len(prefix):]
			if !f.Since.IsZero() && bytes.Compare(suffix[:8], since) < 0 {
				break
			}
			if len(out) == f.Limit {
				next = hex.EncodeToString(append(timeKey(out[len(out)-1].CreatedAt), out[len(out)-1].ID...))
				break
			}
			dl, err := getJSON[host.Delivery](b, string(suffix[8:]), "")
			if err != nil {
				return err
			}
			if (f.Status != "" && dl.Status != f.Status) || (f.Destination != "" && dl.Alert.To != f.Destination) {
				continue
			}
			out = append(out, dl)
		}
		return nil
	})
	return out, next, err
}

// PutDeliveries implements host.AlertStore.
func (d *DB) PutDeliveries(ctx context.Context, ds []*host.Delivery) error {
	err := d.update(ctx, func(tx *bolt.Tx) error {
		for _, dl := range ds {
			if err := putDelivery(tx, dl); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		d.unclaim(ds)
	}
	return err
}

// Enqueue implements host.AlertStore.
func (d *DB) Enqueue(ctx context.Context, ds ...*host.Delivery) error {
	return d.update(ctx, func(tx *bolt.Tx) error { return enqueueDeliveries(tx, ds) })
}
