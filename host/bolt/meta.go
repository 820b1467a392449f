package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// Channel implements host.ChannelStore.
func (d *DB) Channel(_ context.Context, id string) (ch *host.Channel, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		ch, err = d.readChannel(tx, id)
		return err
	})
	return ch, err
}

// EnsureChannel implements host.ChannelStore.
func (d *DB) EnsureChannel(ctx context.Context, ch *host.Channel) (*host.Channel, error) {
	stored := ch
	sealed, err := sealedChannel(d, ch)
	if err != nil {
		return nil, err
	}
	err = d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChannels)
		if data := b.Get([]byte(ch.ID)); data != nil {
			stored = new(host.Channel)
			if err := json.Unmarshal(data, stored); err != nil {
				return err
			}
			return d.open(channelSecrets(stored))
		}
		data, err := json.Marshal(sealed)
		if err != nil {
			return err
		}
		return b.Put([]byte(ch.ID), data)
	})
	if err != nil {
		return nil, fmt.Errorf("storing channel %s: %w", ch.ID, err)
	}
	return stored, nil
}

// Channels implements host.ChannelStore.
func (d *DB) Channels(_ context.Context) ([]*host.Channel, error) {
	var out []*host.Channel
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChannels).ForEach(func(_, v []byte) error {
			ch := new(host.Channel)
			if err := json.Unmarshal(v, ch); err != nil {
				return err
			}
			if err := d.open(channelSecrets(ch)); err != nil {
				return err
			}
			out = append(out, ch)
			return nil
		})
	})
	return out, err
}

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

var (
	bucketCursors = []byte("channel_cursors") // channel id -> cursor
	bucketRuns    = []byte("import_runs")     // channel id \x00 run id -> run JSON
)

// readChannel decodes a stored channel and opens its secrets.
func (d *DB) readChannel(tx *bolt.Tx, id string) (*host.Channel, error) {
	data := tx.Bucket(bucketChannels).Get([]byte(id))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "channel %s not found", id)
	}
	ch := new(host.Channel)
	if err := json.Unmarshal(data, ch); err != nil {
		return nil, err
	}
	return ch, d.open(channelSecrets(ch))
}

// writeChannel seals a channel's secrets and stores it.
func (d *DB) writeChannel(tx *bolt.Tx, ch *host.Channel) error {
	sealed, err := sealedChannel(d, ch)
	if err != nil {
		return err
	}
	data, err := json.Marshal(sealed)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketChannels).Put([]byte(ch.ID), data)
}

// CreateChannel implements host.ChannelStore.
func (d *DB) CreateChannel(ctx context.Context, ch *host.Channel) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChannels).Get([]byte(ch.ID)) != nil {
			return host.Errorf(host.ECONFLICT, "channel %s already exists", ch.ID)
		}
		return d.writeChannel(tx, ch)
	})
}

// UpdateChannel implements host.ChannelStore.
func (d *DB) UpdateChannel(ctx context.Context, id string, fn func(*host.Channel) error) (*host.Channel, error) {
	var out *host.Channel
	err := d.update(ctx, func(tx *bolt.Tx) error {
		ch, err := d.readChannel(tx, id)
		if err != nil {
			return err
		}
		if err := fn(ch); err != nil {
			return err
		}
		ch.ID = id
		out = ch
		return d.writeChannel(tx, ch)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteChannel implements host.ChannelStore.
func (d *DB) DeleteChannel(ctx context.Context, id string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChannels).Get([]byte(id)) == nil {
			return host.Errorf(host.ENOTFOUND, "channel %s not found", id)
		}
		err := tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			var k host.APIKey
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			if k.ChannelID == id {
				return host.Errorf(host.ECONFLICT, "API key %s is bound to channel %s; revoke it first", k.ID, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := unlinkChannelFromGroups(tx, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketShipping).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCursors).Delete([]byte(id)); err != nil {
			return err
		}
		runs := tx.Bucket(bucketRuns)
		prefix := append([]byte(id), 0)
		c := runs.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := runs.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketChannels).Delete([]byte(id))
	})
}

// unlinkChannelFromGroups removes a channel from the routing group that
// lists it.
func unlinkChannelFromGroups(tx *bolt.Tx, id string) error {
	groupID := tx.Bucket(bucketRoutingChannels).Get([]byte(id))
	if groupID == nil {
		return nil
	}
	g, err := getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), string(groupID), "")
	if err != nil {
		return err
	}
	g.Channels = slices.DeleteFunc(g.Channels, func(c string) bool { return c == id })
	if err := putJSON(tx.Bucket(bucketRoutingGroups), g.ID, g); err != nil {
		return err
	}
	return tx.Bucket(bucketRoutingChannels).Delete([]byte(id))
}

// Cursor implements host.RunStore.
func (d *DB) Cursor(_ context.Context, channelID string) (string, error) {
	var cur string
	err := d.view(func(tx *bolt.Tx) error {
		cur = string(tx.Bucket(bucketCursors).Get([]byte(channelID)))
		return nil
	})
	return cur, err
}

// SaveCursor implements host.RunStore.
func (d *DB) SaveCursor(ctx context.Context, channelID, cursor string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursors).Put([]byte(channelID), []byte(cursor))
	})
}

// PutRun implements host.RunStore.
func (d *DB) PutRun(ctx context.Context, r *host.Run) error {
	return d.update(ctx, func(tx *bolt.Tx) error { return putRun(tx, r) })
}

// putRun stores a run and drops the channel's oldest runs beyond
// host.MaxRunsKept.
func putRun(tx *bolt.Tx, r *host.Run) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	runs := tx.Bucket(bucketRuns)
	prefix := append([]byte(r.ChannelID), 0)
	key := append(slices.Clone(prefix), r.ID...)
	existed := runs.Get(key) != nil
	if err := runs.Put(key, data); err != nil {
		return err
	}
	if existed { // an update of a run: nothing to drop
		return nil
	}
	n := 0
	c := runs.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	for ; n > host.MaxRunsKept; n-- {
		k, _ := c.Seek(prefix)
		if err := runs.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Runs implements host.RunStore.
func (d *DB) Runs(_ context.Context, channelID string, limit int) ([]*host.Run, error) {
	var out []*host.Run
	err := d.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(channelID), 0)
		c := tx.Bucket(bucketRuns).Cursor()
		k, v := lastBefore(c, append(slices.Clone(prefix), 0xff))
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Prev() {
			r := new(host.Run)
			if err := json.Unmarshal(v, r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
