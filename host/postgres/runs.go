package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// Cursor implements host.RunStore.
func (d *DB) Cursor(ctx context.Context, channelID string) (string, error) {
	var cur string
	err := d.q.QueryRow(ctx, `SELECT cursor FROM channel_cursors WHERE channel_id = $1`, channelID).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return cur, err
}

func queueCursor(b *pgx.Batch, channelID, cursor string) {
	b.Queue(`INSERT INTO channel_cursors (channel_id, cursor) VALUES ($1, $2) ON CONFLICT (channel_id) DO UPDATE SET cursor = EXCLUDED.cursor`, channelID, cursor)
}

// SaveCursor implements host.RunStore.
func (d *DB) SaveCursor(ctx context.Context, channelID, cursor string) error {
	b := &pgx.Batch{}
	queueCursor(b, channelID, cursor)
	return d.q.SendBatch(ctx, b).Close()
}

// queueRun adds the write of a run to a batch, and the removal of the
// channel's runs beyond the newest MaxRunsKept. A page's run (page) is
// not written over a run that has ended (host.RunStore.EndRun).
func queueRun(b *pgx.Batch, r *host.Run, page bool) error {
	data, err := jsonText(r)
	if err != nil {
		return err
	}
	upsert := `INSERT INTO import_runs (channel_id, id, data) VALUES ($1, $2, $3::jsonb)
		ON CONFLICT (channel_id, id) DO UPDATE SET data = EXCLUDED.data`
	if page {
		upsert += ` WHERE import_runs.data->>'status' = 'running'`
	}
	b.Queue(upsert, r.ChannelID, r.ID, data)
	b.Queue(`DELETE FROM import_runs WHERE channel_id = $1 AND id < (
		SELECT id FROM import_runs WHERE channel_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`, r.ChannelID, host.MaxRunsKept-1)
	return nil
}

// PutRun implements host.RunStore.
func (d *DB) PutRun(ctx context.Context, r *host.Run) error {
	b := &pgx.Batch{}
	if err := queueRun(b, r, false); err != nil {
		return err
	}
	return d.q.SendBatch(ctx, b).Close()
}

// EndRun implements host.RunStore.
func (d *DB) EndRun(ctx context.Context, channelID, runID string, end func(stored *host.Run) *host.Run) (*host.Run, error) {
	var out *host.Run
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		var data []byte
		err := tx.QueryRow(ctx, `SELECT data FROM import_runs WHERE channel_id = $1 AND id = $2 FOR UPDATE`, channelID, runID).Scan(&data)
		if err != nil {
			return notFound(err, "run %s of channel %s not found", runID, channelID)
		}
		stored := new(host.Run)
		if err := jsonUnmarshal(data, stored); err != nil {
			return err
		}
		out = stored
		if stored.Status != host.RunRunning {
			return nil
		}
		out = end(stored)
		text, err := jsonText(out)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE import_runs SET data = $3::jsonb WHERE channel_id = $1 AND id = $2`, channelID, runID, text)
		return err
	})
	return out, err
}

// Runs implements host.RunStore.
func (d *DB) Runs(ctx context.Context, channelID string, limit int) ([]*host.Run, error) {
	return listJSON[host.Run](ctx, d.q, `SELECT data FROM import_runs WHERE channel_id = $1 ORDER BY id DESC LIMIT $2`, channelID, limit)
}
