package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// codeForeignKeyViolation is a row referring to one that is not there (a
// session of a user deleted meanwhile).
const codeForeignKeyViolation = "23503"

// decodeUser reads a user's record and puts its password hash back.
func decodeUser(data []byte, hash string) (*host.User, error) {
	u := new(host.User)
	if err := jsonUnmarshal(data, u); err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	return u, nil
}

// CreateUser implements host.UserStore.
func (d *DB) CreateUser(ctx context.Context, u *host.User) error {
	data, err := jsonText(u)
	if err != nil {
		return err
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO users (username, data, password_hash) VALUES ($1, $2::jsonb, $3) ON CONFLICT (username) DO NOTHING`,
		u.Username, data, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("storing user %s: %w", u.Username, err)
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ECONFLICT, "user %s exists", u.Username)
	}
	return nil
}

// User implements host.UserStore.
func (d *DB) User(ctx context.Context, username string) (*host.User, error) {
	return getUser(ctx, d.q, username, `SELECT data, password_hash FROM users WHERE username = $1`)
}

func getUser(ctx context.Context, q querier, username, sql string) (*host.User, error) {
	var data []byte
	var hash string
	if err := q.QueryRow(ctx, sql, username).Scan(&data, &hash); err != nil {
		return nil, notFound(err, "user %s not found", username)
	}
	return decodeUser(data, hash)
}

// Users implements host.UserStore.
func (d *DB) Users(ctx context.Context) ([]*host.User, error) {
	rows, err := d.q.Query(ctx, `SELECT data, password_hash FROM users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	var out []*host.User
	var data []byte
	var hash string
	_, err = pgx.ForEachRow(rows, []any{&data, &hash}, func() error {
		u, err := decodeUser(data, hash)
		out = append(out, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateUser implements host.UserStore. fn may not change the username
// (EINVALID).
func (d *DB) UpdateUser(ctx context.Context, username string, fn func(*host.User) error) (*host.User, error) {
	var out *host.User
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		u, err := getUser(ctx, tx, username, `SELECT data, password_hash FROM users WHERE username = $1 FOR UPDATE`)
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		if u.Username != username {
			return host.Errorf(host.EINVALID, "the username of user %s cannot change", username)
		}
		data, err := jsonText(u)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET data = $2::jsonb, password_hash = $3 WHERE username = $1`, username, data, u.PasswordHash); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser implements host.UserStore: the user's sessions go with it
// (ON DELETE CASCADE), in the statement's transaction.
func (d *DB) DeleteUser(ctx context.Context, username string) error {
	return deleteRow(ctx, d.q, fmt.Sprintf("user %s not found", username), `DELETE FROM users WHERE username = $1`, username)
}

// CreateSession implements host.UserStore. A user's session is stored
// only while the user exists (the foreign key, which also holds off a
// concurrent DeleteUser until the insert commits); a token hash is never
// stored twice.
func (d *DB) CreateSession(ctx context.Context, s *host.Session) error {
	data, err := jsonText(s)
	if err != nil {
		return err
	}
	var username *string
	if s.Username != "" {
		username = &s.Username
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO sessions (hash, username, data, expires_at) VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT (hash) DO NOTHING`,
		s.Hash, username, data, s.ExpiresAt)
	if isCode(err, codeForeignKeyViolation) {
		return host.Errorf(host.ENOTFOUND, "user %s not found", s.Username)
	}
	if err != nil {
		return fmt.Errorf("storing a session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return host.Errorf(host.ECONFLICT, "the session exists")
	}
	return nil
}

// Session implements host.UserStore.
func (d *DB) Session(ctx context.Context, hash string) (*host.Session, error) {
	var data []byte
	err := d.q.QueryRow(ctx, `SELECT data FROM sessions WHERE hash = $1`, hash).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, host.Errorf(host.EUNAUTHORIZED, "unknown or ended session")
	}
	if err != nil {
		return nil, err
	}
	s := new(host.Session)
	if err := jsonUnmarshal(data, s); err != nil {
		return nil, err
	}
	if !host.SameHash(s.Hash, hash) {
		return nil, host.Errorf(host.EUNAUTHORIZED, "unknown or ended session")
	}
	return s, nil
}

// DeleteSession implements host.UserStore.
func (d *DB) DeleteSession(ctx context.Context, hash string) error {
	_, err := d.q.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

// DeleteUserSessions implements host.UserStore.
func (d *DB) DeleteUserSessions(ctx context.Context, username string) error {
	_, err := d.q.Exec(ctx, `DELETE FROM sessions WHERE username = $1`, username)
	return err
}

// PruneSessions implements host.UserStore.
func (d *DB) PruneSessions(ctx context.Context, before time.Time) (int, error) {
	tag, err := d.q.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, before)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
