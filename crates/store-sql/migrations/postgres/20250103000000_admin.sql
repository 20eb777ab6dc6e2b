-- Administration and account erasure.
-- The user search is a byte-wise prefix range (~>=~ and ~<~) on the normalized email and
-- username: these indexes answer it whatever the database's locale.
CREATE INDEX users_email_prefix_idx ON users (email_normalized text_pattern_ops);
CREATE INDEX users_username_prefix_idx ON users (username_normalized text_pattern_ops);
-- Erasing an account deletes its mail by recipient.
CREATE INDEX mail_queue_recipient_idx ON mail_queue (recipient);
-- The audit trail across users, filtered by type, newest first.
CREATE INDEX audit_events_kind_idx ON audit_events (kind, id);
