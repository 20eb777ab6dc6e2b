-- authgate schema for PostgreSQL.
-- Times are TIMESTAMPTZ (microseconds; the core passes whole milliseconds).
-- Token hashes are 32-byte BYTEA (SHA-256); raw tokens are never stored.
-- Ids are TEXT (UUIDv7 strings minted by the core).
-- Unique indexes are named: error.rs maps a violation of each to the field it protects.

CREATE TABLE users (
    id                  TEXT        PRIMARY KEY,
    email               TEXT,
    email_normalized    TEXT,
    username            TEXT,
    username_normalized TEXT,
    name                TEXT,
    first_name          TEXT,
    last_name           TEXT,
    role                TEXT        NOT NULL,
    email_verified_at   TIMESTAMPTZ,
    password_hash       TEXT        NOT NULL,
    disabled_at         TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    last_login_at       TIMESTAMPTZ
);

-- Case-insensitive uniqueness: the core passes lower-cased values. NULLs never conflict, so
-- any number of users may lack an email or a username. An index (not a check in code) holds
-- under concurrent inserts.
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);
CREATE UNIQUE INDEX users_username_normalized_key ON users (username_normalized);

CREATE TABLE sessions (
    id           TEXT        PRIMARY KEY,
    user_id      TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    user_agent   TEXT,
    ip           TEXT,
    rotation_key BYTEA       NOT NULL
);

-- list_sessions, revoke_all_sessions, and the cascade from users.
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at);
-- prune_sessions.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE refresh_tokens (
    hash       BYTEA       PRIMARY KEY CHECK (octet_length(hash) = 32),
    session_id TEXT        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ
);

-- The cascade from sessions looks refresh tokens up by session.
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE one_time_tokens (
    hash       BYTEA       PRIMARY KEY CHECK (octet_length(hash) = 32),
    user_id    TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT        NOT NULL,
    email      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

-- Superseding and invalidating: the unused tokens of one user and purpose.
CREATE INDEX one_time_tokens_user_purpose_idx ON one_time_tokens (user_id, purpose)
    WHERE used_at IS NULL;

CREATE TABLE mail_queue (
    id              TEXT        PRIMARY KEY,
    recipient       TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    text_body       TEXT        NOT NULL,
    html_body       TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TIMESTAMPTZ
);

-- claim_due_mail and mail_queue_depth only look at unsent mail.
CREATE INDEX mail_queue_due_idx ON mail_queue (next_attempt_at, id) WHERE sent_at IS NULL;

CREATE TABLE signing_keys (
    kid         TEXT        PRIMARY KEY,
    algorithm   TEXT        NOT NULL,
    private_der BYTEA       NOT NULL,
    public_key  BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ
);
