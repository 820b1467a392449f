package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
)

func (d *DB) decodeChannel(data []byte) (*host.Channel, error) {
	ch := new(host.Channel)
	if err := json.Unmarshal(data, ch); err != nil {
		return nil, fmt.Errorf("decoding a channel: %w", err)
	}
	return ch, d.box.OpenFields(secrets.ChannelFields(ch))
}

func (d *DB) readChannel(ctx context.Context, q querier, id string, forUpdate bool) (*host.Channel, error) {
	sql := `SELECT data FROM channels WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	var data []byte
	if err := q.QueryRow(ctx, sql, id).Scan(&data); err != nil {
		return nil, notFound(err, "channel %s not found", id)
	}
	return d.decodeChannel(data)
}

// sealedChannelText is a channel as stored: its secrets sealed, as JSON.
func (d *DB) sealedChannelText(ch *host.Channel) (string, error) {
	sealed, err := d.box.SealedChannel(ch)
	if err != nil {
		return "", err
	}
	return jsonText(sealed)
}

// Channel implements host.ChannelStore.
func (d *DB) Channel(ctx context.Context, id string) (*host.Channel, error) {
	return d.readChannel(ctx, d.q, id, false)
}

// Channels implements host.ChannelStore.
func (d *DB) Channels(ctx context.Context) ([]*host.Channel, error) {
	rows, err := d.q.Query(ctx, `SELECT data FROM channels ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []*host.Channel
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		ch, err := d.decodeChannel(data)
		out = append(out, ch)
		return err
	})
	return out, err
}

// CreateChannel implements host.ChannelStore.
func (d *DB) CreateChannel(ctx context.Context, ch *host.Channel) error {
	data, err := d.sealedChannelText(ch)
	if err != nil {
		return err
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO channels (id, data) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO NOTHING`, ch.ID, data)
	if err != nil {
		return fmt.Errorf("storing channel %s: %w", ch.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ECONFLICT, "channel %s already exists", ch.ID)
	}
	return nil
}

// EnsureChannel implements host.ChannelStore.
func (d *DB) EnsureChannel(ctx context.Context, ch *host.Channel) (*host.Channel, error) {
	data, err := d.sealedChannelText(ch)
	if err != nil {
		return nil, err
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO channels (id, data) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO NOTHING`, ch.ID, data)
	if err != nil {
		return nil, fmt.Errorf("storing channel %s: %w", ch.ID, err)
	}
	if tag.RowsAffected() == 1 {
		return ch, nil
	}
	return d.Channel(ctx, ch.ID)
}

// UpdateChannel implements host.ChannelStore.
func (d *DB) UpdateChannel(ctx context.Context, id string, fn func(*host.Channel) error) (*host.Channel, error) {
	var out *host.Channel
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		ch, err := d.readChannel(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := fn(ch); err != nil {
			return err
		}
		ch.ID = id
		data, err := d.sealedChannelText(ch)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE channels SET data = $2::jsonb WHERE id = $1`, id, data); err != nil {
			return err
		}
		out = ch
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteChannel implements host.ChannelStore.
func (d *DB) DeleteChannel(ctx context.Context, id string) error {
	return d.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockConfig); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM channels WHERE id = $1`, id); err != nil {
			return err
		} else if !ok {
			return host.Errorf(host.ENOTFOUND, "channel %s not found", id)
		}
		var keyID string
		err := tx.QueryRow(ctx, `SELECT id FROM api_keys WHERE channel_id = $1 ORDER BY id LIMIT 1`, id).Scan(&keyID)
		if err == nil {
			return host.Errorf(host.ECONFLICT, "API key %s is bound to channel %s; revoke it first", keyID, id)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// The group's record lists its channels: drop this one from it.
		var groupID string
		err = tx.QueryRow(ctx, `SELECT group_id FROM routing_channels WHERE channel_id = $1`, id).Scan(&groupID)
		if err == nil {
			g, err := getJSON[host.RoutingGroup](ctx, tx, "", `SELECT data FROM routing_groups WHERE id = $1 FOR UPDATE`, groupID)
			if err != nil {
				return err
			}
			g.Channels = without(g.Channels, id)
			data, err := jsonText(g)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE routing_groups SET data = $2::jsonb WHERE id = $1`, groupID, data); err != nil {
				return err
			}
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// Its routing membership and shipping mappings go by cascade.
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM channel_cursors WHERE channel_id = $1`, id)
		b.Queue(`DELETE FROM import_runs WHERE channel_id = $1`, id)
		b.Queue(`DELETE FROM channels WHERE id = $1`, id)
		return tx.SendBatch(ctx, b).Close()
	})
}

func without(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
