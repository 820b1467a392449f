package storecopy_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/storecopy"
)

// TestCopyUsers: a copy carries the users with their password hashes, not
// their sessions; a second copy finds it done, and a target whose users
// differ is refused.
func TestCopyUsers(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for _, n := range []string{"zed", "a.b", "alice"} {
		if err := src.CreateUser(ctx, &host.User{Username: n, Role: host.RoleAdmin, PasswordHash: "$argon2id$" + n, CreatedAt: at, PasswordChangedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.CreateSession(ctx, &host.Session{Hash: host.HashKey("x"), Username: "alice", CSRF: "c", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.Open(ctx, pgtest.Start(t).NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := storecopy.Copy(ctx, src, dst, nil)
	if err != nil || rep.Already {
		t.Fatal(rep, err)
	}
	for _, tb := range rep.Tables {
		t.Logf("%+v", tb)
	}
	u, err := dst.User(ctx, "alice")
	if err != nil || u.PasswordHash != "$argon2id$alice" || !u.CreatedAt.Equal(at) {
		t.Fatal(u, err)
	}
	if _, err := dst.Session(ctx, host.HashKey("x")); host.ErrorCode(err) != host.EUNAUTHORIZED {
		t.Fatal("session copied", err)
	}
	rep, err = storecopy.Copy(ctx, src, dst, nil)
	if err != nil || !rep.Already {
		t.Fatal("second", rep, err)
	}
	// A target whose only difference is a password hash is refused.
	if _, err := dst.UpdateUser(ctx, "zed", func(u *host.User) error { u.PasswordHash = "other"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := storecopy.Copy(ctx, src, dst, nil); err != storecopy.ErrNotEmpty {
		t.Fatal("differing hash", err)
	}
}
