package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
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
	sealed, err := d.box.SealedChannel(ch)
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
			return d.box.OpenFields(secrets.ChannelFields(stored))
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
			if err := d.box.OpenFields(secrets.ChannelFields(ch)); err != nil {
				return err
			}
			out = append(out, ch)
			return nil
		})
	})
	return out, err
}

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
	return ch, d.box.OpenFields(secrets.ChannelFields(ch))
}

// writeChannel seals a channel's secrets and stores it.
func (d *DB) writeChannel(tx *bolt.Tx, ch *host.Channel) error {
	sealed, err := d.box.SealedChannel(ch)
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
