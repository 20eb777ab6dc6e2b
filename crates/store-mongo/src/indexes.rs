//! The schema of a document store: its indexes. `migrate()` creates them; creating an index
//! that exists with the same name and options is a no-op, so migrating is idempotent and
//! instances starting together may all do it.
//!
//! Expiry: TTL indexes delete dead documents in the background (real MongoDB checks once a
//! minute, by the server's clock). They are a backstop, never the rule: every query compares
//! times with the "now" the core passes, so a document awaiting deletion is already dead to the
//! store. Sessions and refresh tokens are kept [`SESSION_RETENTION`] past their expiry, which
//! leaves `prune_sessions` (run by the server for sessions dead a day) the first word and
//! keeps rotated refresh tokens recognisable as reused long after they were replaced.
//!
//! Changing the options of an existing index (e.g. a TTL) needs `collMod`, not a new spec here.

use std::time::Duration;

use authgate_core::store::StoreResult;
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::collections::{
    AUDIT_EVENTS, MAIL_QUEUE, ONE_TIME_TOKENS, REFRESH_TOKENS, SESSIONS, USERS,
};
use crate::error::db_err;

/// How long sessions and refresh tokens are kept after they expire.
pub(crate) const SESSION_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Server error codes worth one more try when instances create indexes at once:
/// NamespaceExists (two implicit collection creations), WriteConflict, IndexBuildAborted.
const RETRY_CODES: &[i32] = &[48, 112, 276];

/// Every index, by collection.
fn indexes() -> Vec<(&'static str, IndexModel)> {
    let string = doc! { "$type": "string" };
    vec![
        // Case-insensitive uniqueness on the normalized values. Partial, so that the many
        // accounts without an email or a username do not collide on a missing value.
        (
            USERS,
            index(doc! { "email_normalized": 1 }, "users_email_unique")
                .unique(true)
                .partial_filter_expression(doc! { "email_normalized": string.clone() }),
        ),
        (
            USERS,
            index(doc! { "username_normalized": 1 }, "users_username_unique")
                .unique(true)
                .partial_filter_expression(doc! { "username_normalized": string }),
        ),
        // list_sessions and revoke_all_sessions: one user's sessions, newest first.
        (
            SESSIONS,
            index(doc! { "user_id": 1, "created_at": -1 }, "sessions_user"),
        ),
        // prune_sessions (with the expiry index below).
        (
            SESSIONS,
            index(doc! { "revoked_at": 1 }, "sessions_revoked"),
        ),
        (
            SESSIONS,
            index(doc! { "expires_at": 1 }, "sessions_expiry").expire_after(SESSION_RETENTION),
        ),
        // prune_sessions deletes a session's tokens with it.
        (
            REFRESH_TOKENS,
            index(doc! { "session_id": 1 }, "refresh_tokens_session"),
        ),
        (
            REFRESH_TOKENS,
            index(doc! { "expires_at": 1 }, "refresh_tokens_expiry")
                .expire_after(SESSION_RETENTION),
        ),
        // Superseding and invalidating: one user's tokens of one purpose.
        (
            ONE_TIME_TOKENS,
            index(
                doc! { "user_id": 1, "purpose": 1 },
                "one_time_tokens_user_purpose",
            ),
        ),
        (
            ONE_TIME_TOKENS,
            index(doc! { "expires_at": 1 }, "one_time_tokens_expiry").expire_after(Duration::ZERO),
        ),
        // claim_due_mail: the mail due first.
        (
            MAIL_QUEUE,
            index(doc! { "next_attempt_at": 1 }, "mail_queue_due"),
        ),
        // list_audit: one user's events. Not (user_id, _id): nx-27017 (neosqlite) builds
        // `_id` into a JSON path that breaks every later insert ("JSON path error near '_id'").
        (
            AUDIT_EVENTS,
            index(doc! { "user_id": 1 }, "audit_events_user"),
        ),
        // prune_audit: events older than a cutoff.
        (AUDIT_EVENTS, index(doc! { "at": 1 }, "audit_events_at")),
        // search_audit by type, across users.
        (AUDIT_EVENTS, index(doc! { "kind": 1 }, "audit_events_kind")),
        // erase_user: the mail addressed to the erased account.
        (MAIL_QUEUE, index(doc! { "to": 1 }, "mail_queue_to")),
    ]
    .into_iter()
    .map(|(collection, options)| (collection, options.build()))
    .collect()
}

/// Starts an index on `keys` named `name`; the caller adds options.
fn index(keys: Document, name: &str) -> IndexSpec {
    IndexSpec {
        keys,
        options: IndexOptions::builder().name(name.to_owned()).build(),
    }
}

/// An index being described.
struct IndexSpec {
    keys: Document,
    options: IndexOptions,
}

impl IndexSpec {
    fn unique(mut self, unique: bool) -> Self {
        self.options.unique = Some(unique);
        self
    }

    fn partial_filter_expression(mut self, filter: Document) -> Self {
        self.options.partial_filter_expression = Some(filter);
        self
    }

    fn expire_after(mut self, after: Duration) -> Self {
        self.options.expire_after = Some(after);
        self
    }

    fn build(self) -> IndexModel {
        IndexModel::builder()
            .keys(self.keys)
            .options(self.options)
            .build()
    }
}

/// Creates every index (and with them the collections).
pub(crate) async fn create_all(db: &Database) -> StoreResult<()> {
    for (collection, model) in indexes() {
        let mut tries = 0;
        loop {
            tries += 1;
            match db
                .collection::<Document>(collection)
                .create_index(model.clone())
                .await
            {
                Ok(_) => break,
                Err(e) if tries < 3 && is_retryable(&e) => {
                    tracing::debug!(collection, error = %e, "index creation raced; retrying");
                }
                Err(e) => return Err(db_err(e)),
            }
        }
    }
    Ok(())
}

fn is_retryable(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, mongodb::error::ErrorKind::Command(c) if RETRY_CODES.contains(&c.code))
}
