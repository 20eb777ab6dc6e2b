-- Administration and account erasure.
-- The user search is a range on email_normalized and username_normalized: their UNIQUE
-- indexes answer it. Erasing an account deletes its mail by recipient.
CREATE INDEX IF NOT EXISTS mail_queue_recipient_idx ON mail_queue (recipient);
-- The audit trail across users, filtered by type, newest first.
CREATE INDEX IF NOT EXISTS audit_events_kind_idx ON audit_events (kind, id);
