package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// storedUser is the stored form of a user: with the password hash, which
// host.User never encodes.
type storedUser struct {
	host.User
	PasswordHash string `json:"password_hash"`
}

func putUser(b *bolt.Bucket, u *host.User) error {
	data, err := json.Marshal(storedUser{User: *u, PasswordHash: u.PasswordHash})
	if err != nil {
		return err
	}
	return b.Put([]byte(u.Username), data)
}

func decodeUser(data []byte) (*host.User, error) {
	var su storedUser
	if err := json.Unmarshal(data, &su); err != nil {
		return nil, fmt.Errorf("decoding a user: %w", err)
	}
	u := su.User
	u.PasswordHash = su.PasswordHash
	return &u, nil
}

func getUser(tx *bolt.Tx, username string) (*host.User, error) {
	data := tx.Bucket(bucketUsers).Get([]byte(username))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "user %s not found", username)
	}
	return decodeUser(data)
}

// CreateUser implements host.UserStore.
func (d *DB) CreateUser(ctx context.Context, u *host.User) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b.Get([]byte(u.Username)) != nil {
			return host.Errorf(host.ECONFLICT, "user %s exists", u.Username)
		}
		return putUser(b, u)
	})
}

// User implements host.UserStore.
func (d *DB) User(_ context.Context, username string) (u *host.User, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		u, err = getUser(tx, username)
		return err
	})
	return u, err
}

// Users implements host.UserStore: by username, the bucket's order.
func (d *DB) Users(_ context.Context) ([]*host.User, error) {
	var out []*host.User
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			u, err := decodeUser(v)
			out = append(out, u)
			return err
		})
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
	err := d.update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, username)
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		if u.Username != username {
			return host.Errorf(host.EINVALID, "the username of user %s cannot change", username)
		}
		out = u
		return putUser(tx.Bucket(bucketUsers), u)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser implements host.UserStore: the user's sessions go in the
// same transaction.
func (d *DB) DeleteUser(ctx context.Context, username string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b.Get([]byte(username)) == nil {
			return host.Errorf(host.ENOTFOUND, "user %s not found", username)
		}
		if _, err := deleteSessions(tx, func(s *host.Session) bool { return s.Username == username }); err != nil {
			return err
		}
		return b.Delete([]byte(username))
	})
}

// deleteSessions deletes the sessions that match and returns how many.
// It reads every session: there are few (PruneSessions removes the
// expired).
func deleteSessions(tx *bolt.Tx, match func(*host.Session) bool) (int, error) {
	b := tx.Bucket(bucketSessions)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s host.Session
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decoding a session: %w", err)
		}
		if match(&s) {
			keys = append(keys, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// CreateSession implements host.UserStore. A user's session is stored
// only while the user exists; a token hash is never stored twice.
func (d *DB) CreateSession(ctx context.Context, s *host.Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return d.update(ctx, func(tx *bolt.Tx) error {
		if s.Username != "" && tx.Bucket(bucketUsers).Get([]byte(s.Username)) == nil {
			return host.Errorf(host.ENOTFOUND, "user %s not found", s.Username)
		}
		b := tx.Bucket(bucketSessions)
		if b.Get([]byte(s.Hash)) != nil {
			return host.Errorf(host.ECONFLICT, "the session exists")
		}
		return b.Put([]byte(s.Hash), data)
	})
}

// Session implements host.UserStore.
func (d *DB) Session(_ context.Context, hash string) (*host.Session, error) {
	var s *host.Session
	err := d.view(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketSessions).Get([]byte(hash))
		if data == nil {
			return host.Errorf(host.EUNAUTHORIZED, "unknown or ended session")
		}
		s = new(host.Session)
		if err := json.Unmarshal(data, s); err != nil {
			return fmt.Errorf("decoding a session: %w", err)
		}
		if !host.SameHash(s.Hash, hash) {
			return host.Errorf(host.EUNAUTHORIZED, "unknown or ended session")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DeleteSession implements host.UserStore.
func (d *DB) DeleteSession(ctx context.Context, hash string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(hash))
	})
}

// DeleteUserSessions implements host.UserStore.
func (d *DB) DeleteUserSessions(ctx context.Context, username string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		_, err := deleteSessions(tx, func(s *host.Session) bool { return s.Username == username })
		return err
	})
}

// PruneSessions implements host.UserStore.
func (d *DB) PruneSessions(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := d.update(ctx, func(tx *bolt.Tx) error {
		var err error
		// Set on every run of fn: a group that fails runs it again alone.
		n, err = deleteSessions(tx, func(s *host.Session) bool { return s.ExpiresAt.Before(before) })
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
