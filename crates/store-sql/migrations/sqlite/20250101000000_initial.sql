-- authgate schema for SQLite.
-- Times are INTEGER unix milliseconds (UTC), so comparisons are numeric and exact.
-- Token hashes are 32-byte BLOBs (SHA-256); raw tokens are never stored.

CREATE TABLE IF NOT EXISTS users (
    id                  TEXT    PRIMARY KEY NOT NULL,
    email               TEXT,
    email_normalized    TEXT    UNIQUE,
    username            TEXT,
    username_normalized TEXT    UNIQUE,
    name                TEXT,
    first_name          TEXT,
    last_name           TEXT,
    role                TEXT    NOT NULL,
    email_verified_at   INTEGER,
    password_hash       TEXT    NOT NULL,
    disabled_at         INTEGER,
    created_at          INTEGER NOT NULL,
    last_login_at       INTEGER
) STRICT;

CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT    PRIMARY KEY NOT NULL,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    user_agent   TEXT,
    ip           TEXT,
    rotation_key BLOB    NOT NULL
) STRICT;

-- list_sessions, revoke_all_sessions: the live sessions of one user.
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON sessions (user_id, created_at);
-- prune_sessions.
CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash       BLOB    PRIMARY KEY NOT NULL,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    rotated_at INTEGER
) STRICT;

-- The cascade from sessions looks refresh tokens up by session.
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE IF NOT EXISTS one_time_tokens (
    hash       BLOB    PRIMARY KEY NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- Superseding and invalidating: the unused tokens of one user and purpose.
CREATE INDEX IF NOT EXISTS one_time_tokens_user_purpose_idx ON one_time_tokens (user_id, purpose);

CREATE TABLE IF NOT EXISTS mail_queue (
    id              TEXT    PRIMARY KEY NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         INTEGER
) STRICT;

-- claim_due_mail and mail_queue_depth only look at unsent mail.
CREATE INDEX IF NOT EXISTS mail_queue_due_idx ON mail_queue (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE IF NOT EXISTS signing_keys (
    kid         TEXT    PRIMARY KEY NOT NULL,
    algorithm   TEXT    NOT NULL,
    private_der BLOB    NOT NULL,
    public_key  BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;
