package users_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/users"
)

// cheap are argon2id costs for tests: the hashing is the same, only
// faster.
var cheap = users.WithParams(users.Params{Time: 1, Memory: 64, Threads: 1})

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newService(t *testing.T) (*users.Service, *clock, context.Context, host.Store) {
	t.Helper()
	db := e2e.OpenStore(t)
	c := &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	return users.New(db, c.Now, cheap, users.WithSessionTTL(time.Hour)), c, host.WithActor(context.Background(), host.System), db
}

func TestCreateChecksTheUser(t *testing.T) {
	svc, _, ctx, db := newService(t)
	for _, tc := range []struct {
		name, username, role, password, field string
	}{
		{"upper case", "Ada", host.RoleOperator, "a long enough password", "username"},
		{"empty name", "", host.RoleOperator, "a long enough password", "username"},
		{"reseller role", "ada", host.RoleReseller, "a long enough password", "role"},
		{"short password", "ada", host.RoleOperator, "short", "password"},
		{"huge password", "ada", host.RoleOperator, strings.Repeat("x", users.MaxPasswordLength+1), "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Create(ctx, tc.username, tc.role, tc.password)
			var he *host.Error
			if host.ErrorCode(err) != host.EINVALID || !errors.As(err, &he) || len(he.Fields) != 1 || he.Fields[0].Field != tc.field {
				t.Fatalf("Create: %v, want EINVALID naming %s", err, tc.field)
			}
		})
	}
	if list, _ := db.Users(ctx); len(list) != 0 {
		t.Fatalf("refused users were stored: %v", list)
	}
	if _, err := svc.Create(ctx, "ada", host.RoleOperator, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, "ada", host.RoleAdmin, "another long password"); host.ErrorCode(err) != host.ECONFLICT {
		t.Fatalf("a second ada: %v, want ECONFLICT", err)
	}
}

func TestPasswordIsHashedAndChecked(t *testing.T) {
	svc, _, ctx, db := newService(t)
	const password = "correct horse battery staple"
	if _, err := svc.Create(ctx, "ada", host.RoleOperator, password); err != nil {
		t.Fatal(err)
	}
	stored, err := db.User(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.PasswordHash, password) || !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("stored hash %q: want an argon2id PHC string without the password", stored.PasswordHash)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", password + " "} {
		if _, _, err := svc.SignIn(ctx, "ada", wrong); err != users.ErrSignIn {
			t.Errorf("SignIn with %q: %v, want ErrSignIn", wrong, err)
		}
	}
	if _, _, err := svc.SignIn(ctx, "bob", password); err != users.ErrSignIn {
		t.Errorf("SignIn of an unknown user: %v, want the same ErrSignIn", err)
	}
	sess, token, err := svc.SignIn(ctx, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Hash != host.HashKey(token) || strings.Contains(sess.Hash, token) || sess.CSRF == "" || sess.CSRF == token {
		t.Fatalf("session %+v: the store must keep the token's hash only, with a CSRF token of its own", sess)
	}
	_, actor, err := svc.Resolve(ctx, token)
	if err != nil || actor.Role != host.RoleOperator || actor.Actor() != "user:ada" {
		t.Fatalf("Resolve: %+v %v", actor, err)
	}
}

// TestSessionsEnd: a session ends when it expires, when its person signs
// out, when the password is set again (every session of the user), when
// the user is deleted, and when its API key is revoked.
func TestSessionsEnd(t *testing.T) {
	svc, clk, ctx, db := newService(t)
	const password = "correct horse battery staple"
	if _, err := svc.Create(ctx, "ada", host.RoleOperator, password); err != nil {
		t.Fatal(err)
	}
	signIn := func() string {
		t.Helper()
		_, token, err := svc.SignIn(ctx, "ada", password)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	works := func(token string) bool {
		_, _, err := svc.Resolve(ctx, token)
		if err != nil && host.ErrorCode(err) != host.EUNAUTHORIZED {
			t.Fatalf("Resolve: %v, want EUNAUTHORIZED when it fails", err)
		}
		return err == nil
	}

	a := signIn()
	clk.now = clk.now.Add(time.Hour - time.Second)
	if !works(a) {
		t.Fatal("a session ended before its TTL")
	}
	clk.now = clk.now.Add(time.Second)
	if works(a) {
		t.Fatal("a session outlived its TTL")
	}
	clk.now = clk.now.Add(time.Second)
	if n, err := svc.PruneSessions(ctx); err != nil || n != 1 {
		t.Fatalf("PruneSessions: %d %v, want 1", n, err)
	}

	b := signIn()
	if err := svc.SignOut(ctx, b); err != nil || works(b) {
		t.Fatalf("after SignOut the session works: %v", err)
	}

	c, d := signIn(), signIn()
	if err := svc.SetPassword(ctx, "ada", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if works(c) || works(d) {
		t.Fatal("sessions survived a new password")
	}
	if _, _, err := svc.SignIn(ctx, "ada", password); err != users.ErrSignIn {
		t.Fatalf("the old password still signs in: %v", err)
	}
	_, e, err := svc.SignIn(ctx, "ada", "a brand new password")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, "ada"); err != nil || works(e) {
		t.Fatalf("a deleted user's session works: %v", err)
	}

	// API keys: operator and admin keys sign in, until revoked; reseller
	// and metrics keys do not.
	for _, role := range []string{host.RoleReseller, host.RoleMetrics} {
		secret, hash, _ := host.NewKeySecret()
		if err := db.CreateKey(ctx, &host.APIKey{ID: "k-" + role, Role: role, ChannelID: map[string]string{host.RoleReseller: ""}[role], Hash: hash}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.SignInWithKey(ctx, secret); host.ErrorCode(err) != host.EFORBIDDEN {
			t.Errorf("a %s key signed in: %v, want EFORBIDDEN", role, err)
		}
	}
	secret, hash, _ := host.NewKeySecret()
	if err := db.CreateKey(ctx, &host.APIKey{ID: "k-op", Role: host.RoleOperator, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SignInWithKey(ctx, "ogk_notakey"); err != users.ErrSignIn {
		t.Errorf("an unknown key: %v, want ErrSignIn", err)
	}
	_, f, err := svc.SignInWithKey(ctx, secret)
	if err != nil || !works(f) {
		t.Fatalf("an operator key's session: %v", err)
	}
	if err := db.DeleteKey(ctx, "k-op"); err != nil || works(f) {
		t.Fatalf("a revoked key's session works: %v", err)
	}
}
