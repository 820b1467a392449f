package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordergate/ordergate/host"
)

// When the database cannot be reached, every call of the store fails
// with EUNAVAILABLE (the API's 503 with Retry-After), never hangs past
// the pool's connect timeout, and works again by itself once the
// database answers: the pool opens new connections as they are needed.

// unavailable turns an error of reaching the database into the domain's
// EUNAVAILABLE; other errors are returned as they are.
func unavailable(err error) error {
	if err == nil || !isConnectionError(err) {
		return err
	}
	return &host.Error{Code: host.EUNAVAILABLE, Message: "the database does not answer; try again shortly (" + firstLine(err.Error()) + ")"}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// isConnectionError reports whether err says the database could not be
// reached or the connection broke, rather than that a statement failed.
func isConnectionError(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-03: the server is shutting
		// down, crashed or starting.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// pool is the connection pool with every error passed through
// unavailable.
type pool struct{ *pgxpool.Pool }

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return checkedRows{rows}, nil
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return checkedRow{p.Pool.QueryRow(ctx, sql, args...)}
}

func (p pool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return checkedBatch{p.Pool.SendBatch(ctx, b)}
}

type checkedRows struct{ pgx.Rows }

func (r checkedRows) Err() error { return unavailable(r.Rows.Err()) }

type checkedRow struct{ pgx.Row }

func (r checkedRow) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

type checkedBatch struct{ pgx.BatchResults }

func (b checkedBatch) Close() error { return unavailable(b.BatchResults.Close()) }
