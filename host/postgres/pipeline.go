package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The intake path's transactions travel in as few round trips as their
// logic allows: BEGIN goes in the first batch and COMMIT in the last, so
// a transaction that reads, decides in Go, then writes is two round
// trips, not four.

// inPipeline runs a transaction on one connection: fn sends batches
// with send (the first starts the transaction) and returns the last
// batch, which is sent with the COMMIT. A transaction that lost a race
// with another writer is run again, as by inTx.
func (d *DB) inPipeline(ctx context.Context, fn func(send func(*pgx.Batch) error) (*pgx.Batch, error)) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = d.pipelineOnce(ctx, fn)
		if !isCode(err, codeUniqueViolation, codeSerializationFailure, codeDeadlock) {
			return unavailable(err)
		}
	}
	return err
}

func (d *DB) pipelineOnce(ctx context.Context, fn func(send func(*pgx.Batch) error) (*pgx.Batch, error)) (err error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection released inside a transaction is closed by the pool;
	// one rolled back here is kept.
	defer conn.Release()
	open := false
	defer func() {
		if err != nil && open && !conn.Conn().IsClosed() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			conn.Exec(rctx, "ROLLBACK")
		}
	}()
	send := func(b *pgx.Batch) error {
		if !open {
			b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: "BEGIN"}}, b.QueuedQueries...)
			open = true
		}
		return conn.SendBatch(ctx, b).Close()
	}
	last, err := fn(send)
	if err != nil {
		return err
	}
	if last == nil {
		last = &pgx.Batch{}
	}
	last.Queue("COMMIT")
	if err := send(last); err != nil {
		return err
	}
	open = false
	return nil
}
