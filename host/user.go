package host

import (
	"context"
	"regexp"
	"time"
)

// User is a person's account for the operator console: a username and a
// password hash (never the password), with the role of what the person
// may do (RoleAdmin or RoleOperator). The username is the account's key.
type User struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	// PasswordHash is the password's hash in the PHC string format
	// ($argon2id$v=19$m=...,t=...,p=...$salt$hash); never shown.
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	// PasswordChangedAt is when the password was last set.
	PasswordChangedAt time.Time `json:"password_changed_at"`
}

// UsernamePattern is what a username may be: 1 to 64 lower-case letters,
// digits, '.', '_' and '-', starting with a letter or digit.
var UsernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// UserRoles are the roles a user may have: people work the console as
// operators or administrators, never as resellers or metrics scrapers.
var UserRoles = []string{RoleOperator, RoleAdmin}

// Actor is the user as a service's actor: an APIKey value of the user's
// role, which appears on order timelines as "user:<username>".
func (u *User) Actor() *APIKey {
	return &APIKey{ID: "user:" + u.Username, Role: u.Role, Name: u.Username, CreatedAt: u.CreatedAt, User: true}
}

// Session is a signed-in console session. The cookie carries a random
// token; the store keeps only its SHA-256 hash (HashKey), so a copy of
// the database signs no one in. A session belongs to a user (Username) or
// to an API key (KeyHash: the key is looked up again on every request, so
// a revoked key ends its sessions).
type Session struct {
	Hash     string `json:"hash"`
	Username string `json:"username,omitempty"`
	KeyHash  string `json:"key_hash,omitempty"`
	// CSRF is the token every form of the session carries.
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// UserStore keeps user accounts and console sessions.
type UserStore interface {
	// CreateUser stores a new user; ECONFLICT when the username exists.
	CreateUser(ctx context.Context, u *User) error
	// User returns one user, or an ENOTFOUND error.
	User(ctx context.Context, username string) (*User, error)
	// Users lists the users by username.
	Users(ctx context.Context) ([]*User, error)
	// UpdateUser updates one user atomically (see the contract).
	UpdateUser(ctx context.Context, username string, fn func(*User) error) (*User, error)
	// DeleteUser removes a user and, in the same transaction, the user's
	// sessions; ENOTFOUND when there is none.
	DeleteUser(ctx context.Context, username string) error

	// CreateSession stores a new session. A user's session is stored
	// only while the user exists (ENOTFOUND otherwise).
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with the token hash, expired or not
	// (the caller compares ExpiresAt with its clock), or an EUNAUTHORIZED
	// error.
	Session(ctx context.Context, hash string) (*Session, error)
	// DeleteSession ends one session; ending one that does not exist is
	// not an error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteUserSessions ends every session of a user (a new password).
	DeleteUserSessions(ctx context.Context, username string) error
	// PruneSessions removes the sessions that expired before before and
	// returns how many.
	PruneSessions(ctx context.Context, before time.Time) (int, error)
}
