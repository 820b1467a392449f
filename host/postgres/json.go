package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// querier is what both the pool and a transaction query with.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// getJSON reads one JSON value; ENOTFOUND (with the message) when there
// is no row.
func getJSON[T any](ctx context.Context, q querier, notFoundMsg string, sql string, args ...any) (*T, error) {
	var data []byte
	if err := q.QueryRow(ctx, sql, args...).Scan(&data); err != nil {
		return nil, notFound(err, "%s", notFoundMsg)
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", v, err)
	}
	return v, nil
}

// listJSON reads the JSON values a query returns.
func listJSON[T any](ctx context.Context, q querier, sql string, args ...any) ([]*T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []*T
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("decoding %T: %w", v, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// jsonText encodes a value for a jsonb parameter (passed as text and cast,
// so it goes in arrays too).
func jsonText(v any) (string, error) {
	data, err := json.Marshal(v)
	return string(data), err
}

// exists reports whether a query returns a row.
func exists(ctx context.Context, q querier, sql string, args ...any) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, "SELECT EXISTS ("+sql+")", args...).Scan(&ok)
	return ok, err
}

func jsonUnmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %T: %w", v, err)
	}
	return nil
}
