//! Refresh-token rotation, the one write where a race must have exactly one winner.
//!
//! A refresh-token document: `_id` (SHA-256 hex), `session_id`, `issued_at`, `rotated_at`
//! (`null` while current) and `expires_at`, the session's expiry when the token was issued or
//! replaced, which is what its TTL index counts from.
//!
//! The decision is one `find_one_and_update` on the old token, guarded by `rotated_at: null`:
//! of any number of concurrent callers exactly one matches. Then the successor is inserted and
//! the session renewed, guarded by a filter that the session is live. Without a transaction,
//! a crash between the steps leaves the old token rotated without a (usable) successor, which
//! logs the user out and never leaves two current tokens; and a session found dead makes the
//! unit remove the successor first, then put the old token back.

use authgate_core::domain::SessionId;
use authgate_core::secret::TokenHash;
use authgate_core::store::Rotation;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::Result;
use mongodb::ClientSession;

use crate::atomic::{in_session, Atomic, Done};
use crate::codec::date;
use crate::collections::{REFRESH_TOKENS, SESSIONS};
use crate::MongoStore;

/// The document stored for a current refresh token.
pub(crate) fn refresh_token_doc(
    hash: &TokenHash,
    session_id: &SessionId,
    issued_at: DateTime<Utc>,
    session_expires_at: DateTime<Utc>,
) -> Document {
    doc! {
        "_id": hash.to_hex(),
        "session_id": session_id.as_str(),
        "issued_at": date(issued_at),
        "rotated_at": Bson::Null,
        "expires_at": date(session_expires_at),
    }
}

/// `SessionStore::rotate_refresh_token` as a unit of writes.
pub(crate) struct Rotate<'a> {
    pub(crate) session_id: &'a SessionId,
    pub(crate) old: &'a TokenHash,
    pub(crate) new: &'a TokenHash,
    pub(crate) now: DateTime<Utc>,
    pub(crate) new_expires_at: DateTime<Utc>,
}

impl Atomic for Rotate<'_> {
    type Output = Rotation;

    async fn run(
        &self,
        store: &MongoStore,
        mut session: Option<&mut ClientSession>,
    ) -> Result<Done<Rotation>> {
        let (tokens, sessions) = (store.collection(REFRESH_TOKENS), store.collection(SESSIONS));
        let (old, sid) = (self.old.to_hex(), self.session_id.as_str());
        let (now, expires_at) = (date(self.now), date(self.new_expires_at));

        let claimed = in_session!(
            tokens
                .find_one_and_update(
                    doc! { "_id": &old, "session_id": sid, "rotated_at": Bson::Null },
                    doc! { "$set": { "rotated_at": now.clone(), "expires_at": expires_at.clone() } },
                )
                .projection(doc! { "expires_at": 1 }),
            session
        )
        .await?;
        let Some(previous) = claimed else {
            return Ok(Done::Abort(Ok(Rotation::NotCurrent)));
        };

        let successor = refresh_token_doc(self.new, self.session_id, self.now, self.new_expires_at);
        in_session!(tokens.insert_one(successor), session).await?;

        let renewed = in_session!(
            sessions.update_one(
                doc! { "_id": sid, "revoked_at": Bson::Null, "expires_at": { "$gt": now.clone() } },
                doc! { "$set": { "last_used_at": now.clone(), "expires_at": expires_at } },
            ),
            session
        )
        .await?;
        if renewed.matched_count == 0 {
            if session.is_none() {
                self.undo(store, &previous).await?;
            }
            return Ok(Done::Abort(Ok(Rotation::NotCurrent)));
        }
        Ok(Done::Commit(Rotation::Rotated))
    }
}

impl Rotate<'_> {
    /// Without a transaction: takes back a rotation whose session turned out dead. The
    /// successor goes first, so no interruption can leave two current tokens.
    async fn undo(&self, store: &MongoStore, previous: &Document) -> Result<()> {
        let tokens = store.collection(REFRESH_TOKENS);
        tokens
            .delete_one(doc! { "_id": self.new.to_hex(), "session_id": self.session_id.as_str() })
            .await?;
        let expires_at = previous.get("expires_at").cloned().unwrap_or(Bson::Null);
        tokens
            .update_one(
                doc! { "_id": self.old.to_hex() },
                doc! { "$set": { "rotated_at": Bson::Null, "expires_at": expires_at } },
            )
            .await?;
        Ok(())
    }
}
