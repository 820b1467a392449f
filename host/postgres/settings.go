package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

func readSettings(ctx context.Context, q querier, forUpdate bool) (host.Settings, error) {
	sql := `SELECT data FROM settings WHERE id = 1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	var data []byte
	err := q.QueryRow(ctx, sql).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return host.DefaultSettings(), nil
	}
	if err != nil {
		return host.Settings{}, err
	}
	var s host.Settings
	return s, jsonUnmarshal(data, &s)
}

// Settings implements host.CatalogStore.
func (d *DB) Settings(ctx context.Context) (host.Settings, error) {
	return readSettings(ctx, d.q, false)
}

// UpdateSettings implements host.CatalogStore.
func (d *DB) UpdateSettings(ctx context.Context, fn func(*host.Settings) error) (host.Settings, error) {
	var out host.Settings
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		// The row exists before it is locked, so two first updates take
		// turns too.
		def, err := jsonText(host.DefaultSettings())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO settings (id, data) VALUES (1, $1::jsonb) ON CONFLICT (id) DO NOTHING`, def); err != nil {
			return err
		}
		s, err := readSettings(ctx, tx, true)
		if err != nil {
			return err
		}
		if err := fn(&s); err != nil {
			return err
		}
		data, err := jsonText(s)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE settings SET data = $1::jsonb WHERE id = 1`, data); err != nil {
			return err
		}
		out = s
		return nil
	})
	return out, err
}
