//! [`SessionStore`] for MongoDB: sessions and their refresh-token chains.
//!
//! A session document: `_id` (session id), `user_id`, `created_at`, `last_used_at`,
//! `expires_at` (slides on every rotation), `revoked_at`, `user_agent`, `ip`, `rotation_key`.

use async_trait::async_trait;
use authgate_core::domain::{Session, SessionId, UserId};
use authgate_core::secret::TokenHash;
use authgate_core::store::{NewSession, RefreshTokenRecord, Rotation, SessionStore, StoreResult};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::ClientSession;

use crate::atomic::{in_session, Atomic, Done};
use crate::codec::{binary, bytes, date, opt_str, opt_string, opt_time, string, time};
use crate::collections::{REFRESH_TOKENS, SESSIONS, USERS};
use crate::error::db_err;
use crate::rotation::{refresh_token_doc, Rotate};
use crate::MongoStore;

/// Sessions deleted per round of `prune_sessions`.
const PRUNE_BATCH: i64 = 500;

/// The session a stored document describes.
fn session(d: &Document) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_string(string(d, "_id")?),
        user_id: UserId::from_string(string(d, "user_id")?),
        created_at: time(d, "created_at")?,
        last_used_at: time(d, "last_used_at")?,
        expires_at: time(d, "expires_at")?,
        user_agent: opt_string(d, "user_agent")?,
        ip: opt_string(d, "ip")?,
    })
}

/// The filter of the sessions that are live at `now`.
fn live(now: DateTime<Utc>) -> Document {
    doc! { "revoked_at": Bson::Null, "expires_at": { "$gt": date(now) } }
}

/// `SessionStore::create_session` as a unit of writes. Without a transaction the login time
/// comes first (it also finds a missing user), then the session, then its token: an
/// interruption leaves at worst a session nobody holds a token for.
struct CreateSession<'a>(&'a NewSession);

impl Atomic for CreateSession<'_> {
    type Output = ();

    async fn run(
        &self,
        store: &MongoStore,
        mut session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Done<()>> {
        let (new, s) = (self.0, &self.0.session);
        let users = store.collection(USERS);
        let (sessions, tokens) = (store.collection(SESSIONS), store.collection(REFRESH_TOKENS));
        let login = in_session!(
            users.update_one(
                doc! { "_id": s.user_id.as_str() },
                doc! { "$set": { "last_login_at": date(s.created_at) } },
            ),
            session
        )
        .await?;
        if login.matched_count == 0 {
            return Ok(Done::Abort(Err(StoreError::NotFound)));
        }
        let session_doc = doc! {
            "_id": s.id.as_str(),
            "user_id": s.user_id.as_str(),
            "created_at": date(s.created_at),
            "last_used_at": date(s.last_used_at),
            "expires_at": date(s.expires_at),
            "revoked_at": Bson::Null,
            "user_agent": opt_str(s.user_agent.as_deref()),
            "ip": opt_str(s.ip.as_deref()),
            "rotation_key": binary(&new.rotation_key),
        };
        in_session!(sessions.insert_one(session_doc), session).await?;
        let token = refresh_token_doc(&new.refresh_hash, &s.id, s.created_at, s.expires_at);
        in_session!(tokens.insert_one(token), session).await?;
        Ok(Done::Commit(()))
    }
}

#[async_trait]
impl SessionStore for MongoStore {
    #[tracing::instrument(skip_all, fields(user_id = %new.session.user_id, session_id = %new.session.id))]
    async fn create_session(&self, new: &NewSession) -> StoreResult<()> {
        self.atomically(&CreateSession(new)).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        let token = self
            .collection(REFRESH_TOKENS)
            .find_one(doc! { "_id": hash.to_hex() })
            .await
            .map_err(db_err)?;
        let Some(token) = token else {
            return Ok(None);
        };
        let session_id = string(&token, "session_id")?;
        let session = self
            .collection(SESSIONS)
            .find_one(doc! { "_id": &session_id })
            .projection(doc! { "user_id": 1, "rotation_key": 1, "revoked_at": 1, "expires_at": 1 })
            .await
            .map_err(db_err)?;
        // A token whose session is gone (pruned) is as good as unknown.
        let Some(session) = session else {
            return Ok(None);
        };
        Ok(Some(RefreshTokenRecord {
            session_id: SessionId::from_string(session_id),
            user_id: UserId::from_string(string(&session, "user_id")?),
            rotated_at: opt_time(&token, "rotated_at")?,
            rotation_key: bytes(&session, "rotation_key")?,
            session_revoked_at: opt_time(&session, "revoked_at")?,
            session_expires_at: time(&session, "expires_at")?,
        }))
    }

    #[tracing::instrument(skip_all, fields(session_id = %session_id))]
    async fn rotate_refresh_token(
        &self,
        session_id: &SessionId,
        old: &TokenHash,
        new: &TokenHash,
        now: DateTime<Utc>,
        new_expires_at: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let unit = Rotate {
            session_id,
            old,
            new,
            now,
            new_expires_at,
        };
        self.atomically(&unit).await
    }

    #[tracing::instrument(skip_all, fields(session_id = %id))]
    async fn live_session_owner(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let mut filter = live(now);
        filter.insert("_id", id.as_str());
        let found = self
            .collection(SESSIONS)
            .find_one(filter)
            .projection(doc! { "user_id": 1 })
            .await
            .map_err(db_err)?;
        found
            .map(|d| string(&d, "user_id").map(UserId::from_string))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn list_sessions(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let mut filter = live(now);
        filter.insert("user_id", user_id.as_str());
        let mut cursor = self
            .collection(SESSIONS)
            .find(filter)
            .projection(doc! { "rotation_key": 0 })
            .await
            .map_err(db_err)?;
        let mut sessions = Vec::new();
        while cursor.advance().await.map_err(db_err)? {
            sessions.push(session(&cursor.deserialize_current().map_err(db_err)?)?);
        }
        // Newest first. Sorted here: a user has a handful of sessions.
        sessions.sort_by(|a, b| (b.created_at, b.id.as_str()).cmp(&(a.created_at, a.id.as_str())));
        Ok(sessions)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, session_id = %id))]
    async fn revoke_session(
        &self,
        user_id: &UserId,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut filter = live(now);
        filter.insert("_id", id.as_str());
        filter.insert("user_id", user_id.as_str());
        let done = self
            .collection(SESSIONS)
            .update_one(filter, doc! { "$set": { "revoked_at": date(now) } })
            .await
            .map_err(db_err)?;
        Ok(done.modified_count == 1)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_all_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut filter = live(now);
        filter.insert("user_id", user_id.as_str());
        let done = self
            .collection(SESSIONS)
            .update_many(filter, doc! { "$set": { "revoked_at": date(now) } })
            .await
            .map_err(db_err)?;
        Ok(done.modified_count)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, keep = %keep))]
    async fn revoke_other_sessions(
        &self,
        user_id: &UserId,
        keep: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut filter = live(now);
        filter.insert("user_id", user_id.as_str());
        filter.insert("_id", doc! { "$ne": keep.as_str() });
        let done = self
            .collection(SESSIONS)
            .update_many(filter, doc! { "$set": { "revoked_at": date(now) } })
            .await
            .map_err(db_err)?;
        Ok(done.modified_count)
    }

    #[tracing::instrument(skip_all)]
    async fn prune_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let cutoff = date(before);
        let dead = doc! { "$or": [
            { "expires_at": { "$lt": cutoff.clone() } },
            { "revoked_at": { "$lt": cutoff } },
        ] };
        let (sessions, tokens) = (self.collection(SESSIONS), self.collection(REFRESH_TOKENS));
        let mut pruned = 0;
        loop {
            let mut cursor = sessions
                .find(dead.clone())
                .projection(doc! { "_id": 1 })
                .limit(PRUNE_BATCH)
                .await
                .map_err(db_err)?;
            let mut ids = Vec::new();
            while cursor.advance().await.map_err(db_err)? {
                ids.push(Bson::String(string(
                    &cursor.deserialize_current().map_err(db_err)?,
                    "_id",
                )?));
            }
            if ids.is_empty() {
                return Ok(pruned);
            }
            let batch = i64::try_from(ids.len()).unwrap_or(i64::MAX);
            // Tokens first: an interruption leaves a dead session without tokens, pruned next time.
            tokens
                .delete_many(doc! { "session_id": { "$in": ids.clone() } })
                .await
                .map_err(db_err)?;
            let mut filter = dead.clone();
            filter.insert("_id", doc! { "$in": ids });
            pruned += sessions
                .delete_many(filter)
                .await
                .map_err(db_err)?
                .deleted_count;
            if batch < PRUNE_BATCH {
                return Ok(pruned);
            }
        }
    }
}
