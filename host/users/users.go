// Package users is the user account service of the operator console:
// it creates accounts, sets and checks passwords (argon2id) and opens and
// ends sessions, for both the console and the `ordergate users` command
// (which runs as host.System on a stopped host's data or a PostgreSQL
// store).
package users

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Store is what the service reads and writes.
type Store interface {
	host.UserStore
	host.KeyStore
}

// Params are argon2id's costs. The hash stores the ones it was made
// with, so raising them later applies to new passwords and old hashes
// still verify.
type Params struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultParams are RFC 9106's second recommended option (t=3, 64 MiB)
// with 2 lanes: about 90 ms per check on one core of the 2-core machine
// this is developed on, which bounds password guessing on a stolen
// database, while the console's throttle bounds it online.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// Password length bounds: long passphrases are welcome; the bound stops
// a huge body from costing a hash.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024
)

// DefaultSessionTTL is how long a console session lasts from sign-in.
const DefaultSessionTTL = 12 * time.Hour

// Service is the user service.
type Service struct {
	store  Store
	now    func() time.Time
	params Params
	ttl    time.Duration
}

// Option configures the service.
type Option func(*Service)

// WithParams sets argon2id's costs (tests use cheap ones).
func WithParams(p Params) Option { return func(s *Service) { s.params = p } }

// WithSessionTTL sets how long a session lasts.
func WithSessionTTL(d time.Duration) Option { return func(s *Service) { s.ttl = d } }

// New returns the service; now is the host's clock.
func New(store Store, now func() time.Time, opts ...Option) *Service {
	s := &Service{store: store, now: now, params: DefaultParams, ttl: DefaultSessionTTL}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SessionTTL is how long the sessions the service opens last.
func (s *Service) SessionTTL() time.Duration { return s.ttl }

func checkPassword(password string) []sdk.FieldError {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		return []sdk.FieldError{{Field: "password", Detail: fmt.Sprintf("must be at least %d characters", MinPasswordLength)}}
	case len(password) > MaxPasswordLength:
		return []sdk.FieldError{{Field: "password", Detail: fmt.Sprintf("must be at most %d bytes", MaxPasswordLength)}}
	}
	return nil
}

// Create makes a user account of the role (operator or admin).
func (s *Service) Create(ctx context.Context, username, role, password string) (*host.User, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, err
	}
	var bad []sdk.FieldError
	if !host.UsernamePattern.MatchString(username) {
		bad = append(bad, sdk.FieldError{Field: "username", Detail: "must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"})
	}
	if !slices.Contains(host.UserRoles, role) {
		bad = append(bad, sdk.FieldError{Field: "role", Detail: "must be operator or admin"})
	}
	bad = append(bad, checkPassword(password)...)
	if len(bad) > 0 {
		return nil, host.InvalidFields("the user is not valid", bad)
	}
	hash, err := s.hash(password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &host.User{Username: username, Role: role, PasswordHash: hash, CreatedAt: now, PasswordChangedAt: now}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("storing user %s: %w", username, err)
	}
	return u, nil
}

// List returns the users.
func (s *Service) List(ctx context.Context) ([]*host.User, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.Users(ctx)
}

// Delete removes a user; the user's sessions end with it.
func (s *Service) Delete(ctx context.Context, username string) error {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, username); err != nil {
		return fmt.Errorf("deleting user %s: %w", username, err)
	}
	return nil
}

// SetPassword gives a user a new password and ends the user's sessions,
// so a password changed because it leaked locks out whoever used it.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return err
	}
	if bad := checkPassword(password); bad != nil {
		return host.InvalidFields("the password is not valid", bad)
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, username, func(u *host.User) error {
		u.PasswordHash, u.PasswordChangedAt = hash, s.now()
		return nil
	}); err != nil {
		return fmt.Errorf("setting the password of %s: %w", username, err)
	}
	return s.store.DeleteUserSessions(ctx, username)
}

// ErrSignIn is the one answer to a failed sign-in, whatever failed (an
// unknown user, a wrong password, a key that may not sign in), so that
// the answer does not tell which usernames exist.
var ErrSignIn = host.Errorf(host.EUNAUTHORIZED, "the username or password is not right")

// SignIn checks a username and password and opens a session.
func (s *Service) SignIn(ctx context.Context, username, password string) (*host.Session, string, error) {
	u, err := s.store.User(ctx, username)
	if err != nil {
		if host.ErrorCode(err) != host.ENOTFOUND {
			return nil, "", err
		}
		// An unknown name takes as long to refuse as a wrong password:
		// the same argon2id work, on a salt of no one.
		hashPassword(password, make([]byte, 16), s.params)
		return nil, "", ErrSignIn
	}
	if len(password) > MaxPasswordLength || !verifyPassword(password, u.PasswordHash) {
		return nil, "", ErrSignIn
	}
	return s.open(ctx, &host.Session{Username: u.Username})
}

// SignInWithKey opens a session for an admin or operator API key:
// reseller and metrics keys do not sign in to the console.
func (s *Service) SignInWithKey(ctx context.Context, secret string) (*host.Session, string, error) {
	k, err := s.store.KeyByHash(ctx, host.HashKey(strings.TrimSpace(secret)))
	if err != nil {
		if host.ErrorCode(err) == host.EUNAUTHORIZED {
			return nil, "", ErrSignIn
		}
		return nil, "", err
	}
	if !slices.Contains(host.UserRoles, k.Role) {
		return nil, "", host.Errorf(host.EFORBIDDEN, "a %s key cannot sign in to the console: sign in with an operator or admin key or a user account", k.Role)
	}
	return s.open(ctx, &host.Session{KeyHash: k.Hash})
}

// open stores a new session with a fresh token, returned once: only its
// hash is stored. A new token on every sign-in is what defeats session
// fixation: a token planted before sign-in never becomes a session.
func (s *Service) open(ctx context.Context, sess *host.Session) (*host.Session, string, error) {
	token, err := randomToken()
	if err != nil {
		return nil, "", err
	}
	csrf, err := randomToken()
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	sess.Hash, sess.CSRF, sess.CreatedAt, sess.ExpiresAt = host.HashKey(token), csrf, now, now.Add(s.ttl)
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, "", fmt.Errorf("storing a session: %w", err)
	}
	return sess, token, nil
}

// Resolve returns a session's actor: the user, or the API key, it was
// opened for. An unknown, expired or ended session, a deleted user and a
// revoked key are all EUNAUTHORIZED.
func (s *Service) Resolve(ctx context.Context, token string) (*host.Session, *host.APIKey, error) {
	sess, err := s.store.Session(ctx, host.HashKey(token))
	if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return nil, nil, host.Errorf(host.EUNAUTHORIZED, "the session has expired")
	}
	if sess.Username != "" {
		u, err := s.store.User(ctx, sess.Username)
		if err != nil {
			if host.ErrorCode(err) == host.ENOTFOUND {
				return nil, nil, host.Errorf(host.EUNAUTHORIZED, "the session's user no longer exists")
			}
			return nil, nil, err
		}
		return sess, u.Actor(), nil
	}
	k, err := s.store.KeyByHash(ctx, sess.KeyHash)
	if err != nil {
		return nil, nil, err
	}
	return sess, k, nil
}

// SignOut ends the session of the token on the server: its cookie no
// longer works, wherever a copy of it is.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.store.DeleteSession(ctx, host.HashKey(token))
}

// PruneSessions removes the sessions that have expired.
func (s *Service) PruneSessions(ctx context.Context) (int, error) {
	return s.store.PruneSessions(ctx, s.now())
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Service) hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generating a salt: %w", err)
	}
	return hashPassword(password, salt, s.params), nil
}

const keyLength = 32

// hashPassword returns the PHC string of argon2id over the password.
func hashPassword(password string, salt []byte, p Params) string {
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLength)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("not an argon2id PHC string")

// parseHash reads a PHC string hashPassword wrote.
func parseHash(phc string) (Params, []byte, []byte, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, errBadHash
	}
	var p Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Params{}, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		}
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || p.Time == 0 || p.Memory == 0 || p.Threads == 0 || len(key) == 0 {
		return Params{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password is the one phc was made from,
// comparing in constant time.
func verifyPassword(password, phc string) bool {
	p, salt, key, err := parseHash(phc)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}
