package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
)

// user is a user created at t0 with a password hash of its own.
func user(name, role string) *host.User {
	return &host.User{Username: name, Role: role, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$" + name, CreatedAt: t0, PasswordChangedAt: t0}
}

func sameUser(a, b *host.User) bool {
	return a.Username == b.Username && a.Role == b.Role && a.PasswordHash == b.PasswordHash &&
		a.CreatedAt.Equal(b.CreatedAt) && a.PasswordChangedAt.Equal(b.PasswordChangedAt)
}

func usernames(list []*host.User) []string {
	out := make([]string, len(list))
	for i, u := range list {
		out[i] = u.Username
	}
	return out
}

// users: users are created once by username, listed by username (as
// bytes), keep their password hash (which their JSON never shows), are
// updated atomically without changing their username, and are deleted
// with their sessions.
func users(t *testing.T, s host.Store) {
	if list, err := s.Users(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Users of an empty store = %v, %v", list, err)
	}
	// Punctuation sorts before digits and letters, as bytes (whatever a
	// database's locale would say).
	names := []string{"carol", "a_b", "alice", "a.b", "a-b", "a0"}
	for _, n := range names {
		must(t, s.CreateUser(ctx, user(n, host.RoleOperator)))
	}
	alice := user("alice", host.RoleOperator)
	dup := user("alice", host.RoleAdmin)
	dup.PasswordHash = "other"
	wantCode(t, "CreateUser of an existing username", s.CreateUser(ctx, dup), host.ECONFLICT)
	got, err := s.User(ctx, "alice")
	if err != nil || !sameUser(got, alice) {
		t.Fatalf("User = %+v, %v, want %+v (the first one, with its password hash)", got, err, alice)
	}
	_, err = s.User(ctx, "nobody")
	wantCode(t, "User of an unknown username", err, host.ENOTFOUND)
	list, err := s.Users(ctx)
	if want := []string{"a-b", "a.b", "a0", "a_b", "alice", "carol"}; err != nil || !slices.Equal(usernames(list), want) {
		t.Fatalf("Users = %v, %v, want %v", usernames(list), err, want)
	}
	for _, u := range list {
		if !sameUser(u, user(u.Username, host.RoleOperator)) {
			t.Errorf("Users lists %+v, want it as created, with its password hash (a copy of the store copies it)", u)
		}
	}

	// A new password and role.
	changed := t0.Add(time.Hour)
	updated, err := s.UpdateUser(ctx, "alice", func(u *host.User) error {
		u.PasswordHash, u.PasswordChangedAt, u.Role = "$argon2id$new", changed, host.RoleAdmin
		return nil
	})
	if err != nil || updated.PasswordHash != "$argon2id$new" || updated.Role != host.RoleAdmin {
		t.Fatalf("UpdateUser = %+v, %v", updated, err)
	}
	got, err = s.User(ctx, "alice")
	if err != nil || got.PasswordHash != "$argon2id$new" || !got.PasswordChangedAt.Equal(changed) || got.Role != host.RoleAdmin || !got.CreatedAt.Equal(t0) {
		t.Fatalf("User after UpdateUser = %+v, %v", got, err)
	}
	// A function that fails stores nothing, and its error is returned.
	_, err = s.UpdateUser(ctx, "alice", func(u *host.User) error {
		u.PasswordHash = "lost"
		return host.Errorf(host.ECONFLICT, "no")
	})
	wantCode(t, "an UpdateUser whose function fails", err, host.ECONFLICT)
	// The username is the key: it cannot change.
	_, err = s.UpdateUser(ctx, "alice", func(u *host.User) error {
		u.Username, u.PasswordHash = "alicia", "lost"
		return nil
	})
	wantCode(t, "an UpdateUser changing the username", err, host.EINVALID)
	if got, _ := s.User(ctx, "alice"); got == nil || got.PasswordHash != "$argon2id$new" {
		t.Errorf("a failed UpdateUser changed the user: %+v", got)
	}
	_, err = s.User(ctx, "alicia")
	wantCode(t, "User of the name a failed UpdateUser gave", err, host.ENOTFOUND)
	_, err = s.UpdateUser(ctx, "nobody", func(*host.User) error { return nil })
	wantCode(t, "UpdateUser of an unknown username", err, host.ENOTFOUND)

	// Deleting a user ends its sessions, and only its.
	must(t, s.CreateSession(ctx, session("a1", "alice", "", t0.Add(time.Hour))))
	must(t, s.CreateSession(ctx, session("a2", "alice", "", t0.Add(time.Hour))))
	must(t, s.CreateSession(ctx, session("c1", "carol", "", t0.Add(time.Hour))))
	must(t, s.CreateSession(ctx, session("k1", "", host.HashKey("key"), t0.Add(time.Hour))))
	must(t, s.DeleteUser(ctx, "alice"))
	_, err = s.User(ctx, "alice")
	wantCode(t, "User after DeleteUser", err, host.ENOTFOUND)
	for _, tok := range []string{"a1", "a2"} {
		_, err = s.Session(ctx, host.HashKey(tok))
		wantCode(t, "a session of a deleted user", err, host.EUNAUTHORIZED)
	}
	for _, tok := range []string{"c1", "k1"} {
		if _, err := s.Session(ctx, host.HashKey(tok)); err != nil {
			t.Errorf("session %s after another user was deleted: %v", tok, err)
		}
	}
	if list, _ := s.Users(ctx); slices.Contains(usernames(list), "alice") || len(list) != len(names)-1 {
		t.Errorf("Users after DeleteUser = %v", usernames(list))
	}
	wantCode(t, "DeleteUser of an unknown username", s.DeleteUser(ctx, "alice"), host.ENOTFOUND)
	// The username is free again, with no session of the old user.
	must(t, s.CreateUser(ctx, user("alice", host.RoleOperator)))
	_, err = s.Session(ctx, host.HashKey("a1"))
	wantCode(t, "an old session of a user created again", err, host.EUNAUTHORIZED)
}

// session is a session of a user or a key with the token tok, created at
// t0.
func session(tok, username, keyHash string, expires time.Time) *host.Session {
	return &host.Session{Hash: host.HashKey(tok), Username: username, KeyHash: keyHash, CSRF: "csrf-" + tok, CreatedAt: t0, ExpiresAt: expires}
}

func sameSession(a, b *host.Session) bool {
	return a.Hash == b.Hash && a.Username == b.Username && a.KeyHash == b.KeyHash && a.CSRF == b.CSRF &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

// sessions: sessions are kept by token hash, a user's only while the user
// exists; they are returned expired or not, ended one by one (idempotently)
// or all of a user's, and pruned once expired.
func sessions(t *testing.T, s host.Store) {
	must(t, s.CreateUser(ctx, user("alice", host.RoleAdmin)))
	must(t, s.CreateUser(ctx, user("bob", host.RoleOperator)))
	hour := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	all := []*host.Session{
		session("a1", "alice", "", hour(1)),
		session("a2", "alice", "", hour(2)),
		session("b1", "bob", "", hour(3)),
		session("k1", "", host.HashKey("key"), hour(1)),
	}
	for _, ss := range all {
		must(t, s.CreateSession(ctx, ss))
	}
	for _, want := range all {
		got, err := s.Session(ctx, want.Hash)
		if err != nil || !sameSession(got, want) {
			t.Errorf("Session = %+v, %v, want %+v", got, err, want)
		}
	}
	wantCode(t, "CreateSession of an existing token hash", s.CreateSession(ctx, session("a1", "bob", "", hour(9))), host.ECONFLICT)
	if got, _ := s.Session(ctx, all[0].Hash); got == nil || got.Username != "alice" {
		t.Errorf("a refused CreateSession changed the session: %+v", got)
	}
	wantCode(t, "CreateSession of an unknown user", s.CreateSession(ctx, session("n1", "nobody", "", hour(1))), host.ENOTFOUND)
	_, err := s.Session(ctx, host.HashKey("n1"))
	wantCode(t, "Session of a session refused for an unknown user", err, host.EUNAUTHORIZED)
	_, err = s.Session(ctx, host.HashKey("never"))
	wantCode(t, "Session of an unknown token hash", err, host.EUNAUTHORIZED)

	// Ending a session, twice, and one that never was.
	must(t, s.DeleteSession(ctx, all[1].Hash))
	_, err = s.Session(ctx, all[1].Hash)
	wantCode(t, "Session after DeleteSession", err, host.EUNAUTHORIZED)
	must(t, s.DeleteSession(ctx, all[1].Hash))
	must(t, s.DeleteSession(ctx, host.HashKey("never")))

	// A new password ends the user's sessions, no one else's.
	must(t, s.CreateSession(ctx, session("a3", "alice", "", hour(2))))
	must(t, s.DeleteUserSessions(ctx, "alice"))
	for _, tok := range []string{"a1", "a3"} {
		_, err = s.Session(ctx, host.HashKey(tok))
		wantCode(t, "a session after DeleteUserSessions", err, host.EUNAUTHORIZED)
	}
	for _, ss := range all[2:] {
		if _, err := s.Session(ctx, ss.Hash); err != nil {
			t.Errorf("session of %q%q after another user's sessions ended: %v", ss.Username, ss.KeyHash, err)
		}
	}
	must(t, s.DeleteUserSessions(ctx, "nobody"))
	if _, err := s.User(ctx, "alice"); err != nil {
		t.Errorf("the user after DeleteUserSessions: %v", err)
	}

	// Pruning removes what expired before the time (not at it), the
	// caller's expired sessions being returned until then.
	must(t, s.CreateSession(ctx, session("a4", "alice", "", hour(2))))
	if got, err := s.Session(ctx, all[3].Hash); err != nil || !got.ExpiresAt.Equal(hour(1)) {
		t.Errorf("an expired session before pruning = %+v, %v, want it returned", got, err)
	}
	n, err := s.PruneSessions(ctx, hour(2))
	if err != nil || n != 1 {
		t.Fatalf("PruneSessions = %d, %v, want the 1 session expired before +2h", n, err)
	}
	_, err = s.Session(ctx, all[3].Hash)
	wantCode(t, "a pruned session", err, host.EUNAUTHORIZED)
	for _, tok := range []string{"a4", "b1"} {
		if _, err := s.Session(ctx, host.HashKey(tok)); err != nil {
			t.Errorf("session %s, not expired before the time, was pruned: %v", tok, err)
		}
	}
	if n, err := s.PruneSessions(ctx, hour(2)); err != nil || n != 0 {
		t.Errorf("PruneSessions again = %d, %v, want 0", n, err)
	}
	if n, err := s.PruneSessions(ctx, hour(10)); err != nil || n != 2 {
		t.Errorf("PruneSessions of the rest = %d, %v, want 2", n, err)
	}
}
