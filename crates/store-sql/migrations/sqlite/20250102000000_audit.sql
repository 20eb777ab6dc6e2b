-- The audit trail. `user_id` has no foreign key: events outlive the users they concern.
-- Ids are UUIDv7 text, so ordering by id orders by time (the pagination cursor).

CREATE TABLE IF NOT EXISTS audit_events (
    id         TEXT    PRIMARY KEY NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    user_id    TEXT,
    session_id TEXT,
    ip         TEXT,
    user_agent TEXT,
    request_id TEXT,
    detail     TEXT
) STRICT;

-- list_audit: one user's events, newest first, paged by id.
CREATE INDEX IF NOT EXISTS audit_events_user_id_idx ON audit_events (user_id, id);
-- prune_audit.
CREATE INDEX IF NOT EXISTS audit_events_at_idx ON audit_events (at);
