//! The one place where driver errors become [`StoreError`]s.
//!
//! - A duplicate key (code 11000) is a `Conflict` named after the violated index: MongoDB says
//!   `E11000 duplicate key error collection: authgate.users index: users_email_unique dup key:
//!   { email_normalized: "…" }`, nx-27017 says `UNIQUE constraint failed: index
//!   'idx_users_email_normalized'` or `… signing_keys._id`. Only the part before `dup key` is
//!   read, so a value that happens to spell a field name cannot mislead.
//! - No server to talk to (server selection, I/O, DNS, a primary stepping down or shutting
//!   down) is `Unavailable`.
//! - Anything else is `Backend`.

use authgate_core::StoreError;
use mongodb::error::{Error, ErrorKind, WriteFailure};

/// The duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Server error codes meaning "no usable server right now": HostUnreachable, HostNotFound,
/// NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, SocketException, NotWritablePrimary,
/// InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk,
/// NotPrimaryOrSecondary.
const UNAVAILABLE_CODES: &[i32] = &[6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436];

/// Index or key names whose duplicates are user-facing conflicts, and the field each names.
const CONFLICT_FIELDS: &[(&str, &str)] = &[
    ("email_normalized", "email"),
    ("users_email", "email"),
    ("username_normalized", "username"),
    ("users_username", "username"),
    ("signing_keys", "kid"),
];

/// Converts a driver error into the backend-neutral [`StoreError`].
pub(crate) fn db_err(e: Error) -> StoreError {
    if let Some((code, message)) = server_error(&e) {
        if code == DUPLICATE_KEY {
            if let Some(field) = conflict_field(message) {
                return StoreError::Conflict { field };
            }
        }
        if UNAVAILABLE_CODES.contains(&code) {
            return StoreError::Unavailable(e.to_string());
        }
    }
    match *e.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Whether the server refused a write for a duplicate key (whatever the index).
pub(crate) fn is_duplicate_key(e: &Error) -> bool {
    server_error(e).is_some_and(|(code, _)| code == DUPLICATE_KEY)
}

/// The server's error code and message, for errors the server reported.
fn server_error(e: &Error) -> Option<(i32, &str)> {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some((w.code, w.message.as_str())),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some((w.code, w.message.as_str())),
        ErrorKind::Command(c) => Some((c.code, c.message.as_str())),
        _ => None,
    }
}

/// The user-facing field of a duplicate-key message, if the violated index is one of ours.
fn conflict_field(message: &str) -> Option<&'static str> {
    let head = message.split("dup key").next().unwrap_or(message);
    CONFLICT_FIELDS
        .iter()
        .find(|(name, _)| head.contains(name))
        .map(|(_, field)| *field)
}

#[cfg(test)]
mod tests {
    use super::conflict_field;

    #[test]
    fn mongodb_duplicate_key_messages_name_the_field() {
        let email = "E11000 duplicate key error collection: authgate.users index: \
                     users_email_unique dup key: { email_normalized: \"a@b.co\" }";
        let username = "E11000 duplicate key error collection: authgate.users index: \
                        users_username_unique dup key: { username_normalized: \"ada\" }";
        let kid = "E11000 duplicate key error collection: authgate.signing_keys index: _id_ \
                   dup key: { _id: \"k1\" }";
        assert_eq!(conflict_field(email), Some("email"));
        assert_eq!(conflict_field(username), Some("username"));
        assert_eq!(conflict_field(kid), Some("kid"));
    }

    #[test]
    fn nx27017_duplicate_key_messages_name_the_field() {
        assert_eq!(
            conflict_field("UNIQUE constraint failed: index 'idx_users_email_normalized'"),
            Some("email")
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: index 'idx_users_username_normalized'"),
            Some("username")
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: signing_keys._id"),
            Some("kid")
        );
    }

    #[test]
    fn a_value_spelling_a_field_name_does_not_mislead() {
        let msg = "E11000 duplicate key error collection: authgate.users index: \
                   users_username_unique dup key: { username_normalized: \"email_normalized\" }";
        assert_eq!(conflict_field(msg), Some("username"));
    }

    #[test]
    fn other_duplicates_are_not_user_facing_conflicts() {
        let msg = "E11000 duplicate key error collection: authgate.sessions index: _id_ \
                   dup key: { _id: \"x\" }";
        assert_eq!(conflict_field(msg), None);
    }
}
