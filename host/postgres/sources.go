package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// CreateSource implements host.CatalogStore.
func (d *DB) CreateSource(ctx context.Context, src *host.Source) error {
	data, err := jsonText(src)
	if err != nil {
		return err
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO sources (id, data) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO NOTHING`, src.ID, data)
	if err != nil {
		return fmt.Errorf("storing source %s: %w", src.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ECONFLICT, "source %s already exists", src.ID)
	}
	return nil
}

// UpdateSource implements host.CatalogStore.
func (d *DB) UpdateSource(ctx context.Context, id string, fn func(*host.Source) error) (*host.Source, error) {
	var out *host.Source
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		src, err := getJSON[host.Source](ctx, tx, fmt.Sprintf("source %s not found", id), `SELECT data FROM sources WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if err := fn(src); err != nil {
			return err
		}
		src.ID = id
		data, err := jsonText(src)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sources SET data = $2::jsonb WHERE id = $1`, id, data); err != nil {
			return err
		}
		out = src
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Source implements host.CatalogStore.
func (d *DB) Source(ctx context.Context, id string) (*host.Source, error) {
	return getJSON[host.Source](ctx, d.q, fmt.Sprintf("source %s not found", id), `SELECT data FROM sources WHERE id = $1`, id)
}

// Sources implements host.CatalogStore.
func (d *DB) Sources(ctx context.Context) ([]*host.Source, error) {
	return listJSON[host.Source](ctx, d.q, `SELECT data FROM sources ORDER BY id`)
}

// DeleteSource implements host.CatalogStore; its stock goes with it.
func (d *DB) DeleteSource(ctx context.Context, id string) error {
	return d.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockConfig); err != nil {
			return err
		}
		var group string
		err := tx.QueryRow(ctx, `SELECT group_id FROM routing_sources WHERE source_id = $1 ORDER BY group_id LIMIT 1`, id).Scan(&group)
		if err == nil {
			return host.Errorf(host.ECONFLICT, "source %s is in routing group %s; remove it from the group first", id, group)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return deleteRow(ctx, tx, fmt.Sprintf("source %s not found", id), `DELETE FROM sources WHERE id = $1`, id)
	})
}
