//! [`AdminStore`] for MongoDB: user search, profile changes, erasure, the audit trail across
//! users.
//!
//! The prefix search is a range on `email_normalized` and `username_normalized` (with the
//! `$type` of their partial unique indexes, so the planner may use them), ordered by `_id`.

use async_trait::async_trait;
use authgate_core::domain::{UserId, UserRecord};
use authgate_core::store::{
    AdminStore, AuditRecord, AuditSearch, StoreResult, UserErasure, UserPatch, UserSearch,
};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::{ClientSession, Collection};

use crate::atomic::{in_session, Atomic, Done};
use crate::audit::audit_record;
use crate::codec::{date, opt_date, opt_str};
use crate::collections::{
    AUDIT_EVENTS, MAIL_QUEUE, ONE_TIME_TOKENS, REFRESH_TOKENS, SESSIONS, USERS,
};
use crate::error::db_err;
use crate::mail::mail_doc;
use crate::users::user_record;
use crate::MongoStore;

/// The condition "null or missing" on a field, as `{ field: { $in: [null] } }`.
///
/// The same match as `{ field: null }` on MongoDB, but nx-27017 matches nothing with the plain
/// equality beside an `$or` or in `count_documents` (its `$match`), and matches this form.
fn unset() -> Document {
    doc! { "$in": [Bson::Null] }
}

/// The filter of one normalized field's prefix range.
fn prefix_range(field: &str, prefix: &str) -> Document {
    let upper = UserSearch::prefix_upper_bound(prefix);
    doc! { field: { "$gte": prefix, "$lt": upper, "$type": "string" } }
}

/// The filter of a user search.
fn user_filter(search: &UserSearch) -> Document {
    let mut filter = Document::new();
    if let Some(prefix) = &search.prefix {
        filter.insert(
            "$or",
            vec![
                prefix_range("email_normalized", prefix),
                prefix_range("username_normalized", prefix),
            ],
        );
    }
    if let Some(role) = &search.role {
        filter.insert("role", role.as_str());
    }
    match search.disabled {
        Some(true) => {
            filter.insert("disabled_at", doc! { "$ne": Bson::Null });
        }
        Some(false) => {
            filter.insert("disabled_at", unset());
        }
        None => {}
    }
    if let Some(after) = &search.after {
        filter.insert("_id", doc! { "$gt": after.as_str() });
    }
    filter
}

/// The `$set` and `$unset` of a patch (the verification time kept on `set_email_verified`'s
/// terms is a separate, conditional update).
fn patch_update(patch: &UserPatch) -> Document {
    let (mut set, mut unset) = (Document::new(), Document::new());
    if let Some(role) = &patch.role {
        set.insert("role", role.as_str());
    }
    for (key, value) in [
        ("name", &patch.name),
        ("first_name", &patch.first_name),
        ("last_name", &patch.last_name),
    ] {
        if let Some(value) = value {
            set.insert(key, opt_str(value.as_deref()));
        }
    }
    match &patch.username {
        Some(Some(u)) => {
            set.insert("username", u.display.as_str());
            set.insert("username_normalized", u.normalized.as_str());
        }
        Some(None) => {
            set.insert("username", Bson::Null);
            unset.insert("username_normalized", "");
        }
        None => {}
    }
    if let Some(email) = &patch.email {
        set.insert("email", email.display.as_str());
        set.insert("email_normalized", email.normalized.as_str());
    }
    match (&patch.email_verified_at, patch.email.is_some()) {
        (Some(at), true) | (Some(at @ None), false) => {
            set.insert("email_verified_at", opt_date(*at));
        }
        _ => {}
    }
    let mut update = Document::new();
    if !set.is_empty() {
        update.insert("$set", set);
    }
    if !unset.is_empty() {
        update.insert("$unset", unset);
    }
    update
}

/// Collects every document `cursor`-style from `find` on `coll`, in `session` if given.
async fn ids_of_sessions(
    coll: &Collection<Document>,
    user: &str,
    session: Option<&mut ClientSession>,
) -> mongodb::error::Result<Vec<Bson>> {
    let filter = doc! { "user_id": user };
    let mut ids = Vec::new();
    match session {
        Some(s) => {
            let mut cursor = coll
                .find(filter)
                .projection(doc! { "_id": 1 })
                .session(&mut *s)
                .await?;
            while cursor.advance(&mut *s).await? {
                if let Some(id) = cursor.deserialize_current()?.get("_id") {
                    ids.push(id.clone());
                }
            }
        }
        None => {
            let mut cursor = coll.find(filter).projection(doc! { "_id": 1 }).await?;
            while cursor.advance().await? {
                if let Some(id) = cursor.deserialize_current()?.get("_id") {
                    ids.push(id.clone());
                }
            }
        }
    }
    Ok(ids)
}

/// `AdminStore::erase_user` as a unit of writes: the account first (no login can start after
/// it), then sessions with their refresh tokens, one-time tokens and mail, then the
/// confirmation.
struct EraseUser<'a>(&'a UserErasure);

impl Atomic for EraseUser<'_> {
    type Output = bool;

    async fn run(
        &self,
        store: &MongoStore,
        mut session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Done<bool>> {
        let erasure = self.0;
        let user = erasure.user_id.as_str();
        let users = store.collection(USERS);
        let gone = in_session!(users.delete_one(doc! { "_id": user }), session).await?;
        if gone.deleted_count == 0 {
            return Ok(Done::Abort(Ok(false)));
        }
        let sessions = store.collection(SESSIONS);
        let ids = ids_of_sessions(&sessions, user, session.as_deref_mut()).await?;
        let tokens = store.collection(REFRESH_TOKENS);
        in_session!(
            tokens.delete_many(doc! { "session_id": { "$in": ids } }),
            session
        )
        .await?;
        in_session!(sessions.delete_many(doc! { "user_id": user }), session).await?;
        let one_time = store.collection(ONE_TIME_TOKENS);
        in_session!(one_time.delete_many(doc! { "user_id": user }), session).await?;
        let queue = store.collection(MAIL_QUEUE);
        let to: Vec<Bson> = erasure
            .mail_to
            .iter()
            .map(|t| Bson::from(t.as_str()))
            .collect();
        in_session!(queue.delete_many(doc! { "to": { "$in": to } }), session).await?;
        if let Some(mail) = &erasure.confirmation {
            in_session!(queue.insert_one(mail_doc(mail, erasure.at)), session).await?;
        }
        Ok(Done::Commit(true))
    }
}

#[async_trait]
impl AdminStore for MongoStore {
    #[tracing::instrument(skip_all)]
    async fn search_users(&self, search: &UserSearch) -> StoreResult<Vec<UserRecord>> {
        // A limit of 0 means "no limit" to MongoDB; to the contract it means nothing.
        if search.limit == 0 {
            return Ok(Vec::new());
        }
        let mut cursor = self
            .collection(USERS)
            .find(user_filter(search))
            .sort(doc! { "_id": 1 })
            .limit(i64::from(search.limit))
            .await
            .map_err(db_err)?;
        let mut users = Vec::new();
        while cursor.advance().await.map_err(db_err)? {
            users.push(user_record(&cursor.deserialize_current().map_err(db_err)?)?);
        }
        Ok(users)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn count_live_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        self.collection(SESSIONS)
            .count_documents(doc! {
                "user_id": user_id.as_str(), "revoked_at": unset(),
                "expires_at": { "$gt": date(now) },
            })
            .await
            .map_err(db_err)
    }

    #[tracing::instrument(skip_all)]
    async fn count_enabled_with_role(&self, role: &str) -> StoreResult<u64> {
        self.collection(USERS)
            .count_documents(doc! { "role": role, "disabled_at": unset() })
            .await
            .map_err(db_err)
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn update_user(&self, id: &UserId, patch: &UserPatch) -> StoreResult<()> {
        let users = self.collection(USERS);
        let update = patch_update(patch);
        let matched = if update.is_empty() {
            users
                .count_documents(doc! { "_id": id.as_str() })
                .await
                .map_err(db_err)?
        } else {
            users
                .update_one(doc! { "_id": id.as_str() }, update)
                .await
                .map_err(db_err)?
                .matched_count
        };
        if matched == 0 {
            return Err(StoreError::NotFound);
        }
        if let (Some(Some(at)), false) = (&patch.email_verified_at, patch.email.is_some()) {
            // Keeps the first verification time if the address was already verified.
            users
                .update_one(
                    doc! { "_id": id.as_str(), "email_verified_at": Bson::Null },
                    doc! { "$set": { "email_verified_at": date(*at) } },
                )
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %erasure.user_id))]
    async fn erase_user(&self, erasure: &UserErasure) -> StoreResult<bool> {
        self.atomically(&EraseUser(erasure)).await
    }

    #[tracing::instrument(skip_all)]
    async fn search_audit(&self, search: &AuditSearch) -> StoreResult<Vec<AuditRecord>> {
        if search.limit == 0 {
            return Ok(Vec::new());
        }
        let mut filter = Document::new();
        if let Some(user) = &search.user {
            filter.insert("user_id", user.as_str());
        }
        if let Some(kind) = &search.kind {
            filter.insert("kind", kind.as_str());
        }
        if let Some(since) = search.since {
            filter.insert("at", doc! { "$gte": date(since) });
        }
        if let Some(before) = &search.before {
            filter.insert("_id", doc! { "$lt": before.as_str() });
        }
        let mut cursor = self
            .collection(AUDIT_EVENTS)
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(i64::from(search.limit))
            .await
            .map_err(db_err)?;
        let mut events = Vec::new();
        while cursor.advance().await.map_err(db_err)? {
            events.push(audit_record(
                &cursor.deserialize_current().map_err(db_err)?,
            )?);
        }
        Ok(events)
    }
}
