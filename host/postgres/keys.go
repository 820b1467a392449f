package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// CreateKey implements host.KeyStore. A key bound to a channel is
// stored only while the channel exists.
func (d *DB) CreateKey(ctx context.Context, k *host.APIKey) error {
	data, err := jsonText(k)
	if err != nil {
		return err
	}
	var channel *string
	if k.ChannelID != "" {
		channel = &k.ChannelID
	}
	return d.inTx(ctx, func(tx pgx.Tx) error {
		if channel != nil {
			if err := lock(ctx, tx, lockConfig); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, hash, channel_id, created_at, data) VALUES ($1, $2, $3, $4, $5::jsonb)`,
			k.ID, k.Hash, channel, k.CreatedAt, data)
		if err != nil {
			return fmt.Errorf("storing API key %s: %w", k.ID, err)
		}
		return nil
	})
}

func decodeKey(data []byte, hash string) (*host.APIKey, error) {
	k := new(host.APIKey)
	if err := json.Unmarshal(data, k); err != nil {
		return nil, fmt.Errorf("decoding an API key: %w", err)
	}
	k.Hash = hash
	return k, nil
}

// KeyByHash implements host.KeyStore.
func (d *DB) KeyByHash(ctx context.Context, hash string) (*host.APIKey, error) {
	var data []byte
	var stored string
	err := d.q.QueryRow(ctx, `SELECT data, hash FROM api_keys WHERE hash = $1`, hash).Scan(&data, &stored)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, host.Errorf(host.EUNAUTHORIZED, "unknown or revoked API key")
		}
		return nil, err
	}
	if !host.SameHash(stored, hash) {
		return nil, host.Errorf(host.EUNAUTHORIZED, "unknown or revoked API key")
	}
	return decodeKey(data, stored)
}

// Keys implements host.KeyStore.
func (d *DB) Keys(ctx context.Context) ([]*host.APIKey, error) {
	rows, err := d.q.Query(ctx, `SELECT data FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	var out []*host.APIKey
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		k, err := decodeKey(data, "")
		out = append(out, k)
		return err
	})
	return out, err
}

// DeleteKey implements host.KeyStore.
func (d *DB) DeleteKey(ctx context.Context, id string) error {
	tag, err := d.q.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("deleting API key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ENOTFOUND, "API key %s not found", id)
	}
	return nil
}
