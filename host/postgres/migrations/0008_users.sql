-- Console users and their sessions. A user's record is JSON beside its
-- password hash (which the record never encodes); a session is kept by
-- the SHA-256 hash of its token, and goes with its user. A session of an
-- API key has no username (the key is looked up on every request).
CREATE TABLE users (
	username      text COLLATE "C" PRIMARY KEY,
	data          jsonb NOT NULL,
	password_hash text NOT NULL
);

CREATE TABLE sessions (
	hash       text COLLATE "C" PRIMARY KEY,
	username   text COLLATE "C" REFERENCES users (username) ON DELETE CASCADE,
	data       jsonb NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
-- Ending a user's sessions (a new password, the user deleted) finds them
-- without reading every session.
CREATE INDEX sessions_by_username ON sessions (username) WHERE username IS NOT NULL;
