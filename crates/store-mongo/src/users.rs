//! [`UserStore`] for MongoDB.
//!
//! A user document: `_id` (user id), `email`, `username`, `name`, `first_name`, `last_name`,
//! `role`, `email_verified_at`, `password_hash`, `disabled_at`, `created_at`, `last_login_at`,
//! and `email_normalized` / `username_normalized`, present only when the account has them
//! (the unique indexes cover strings only).

use async_trait::async_trait;
use authgate_core::domain::{NewUser, User, UserId, UserRecord};
use authgate_core::store::{PasswordReplacement, StoreResult, TokenPurpose, UserStore};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::ClientSession;

use crate::atomic::{in_session, Atomic, Done};
use crate::codec::{date, opt_date, opt_str, opt_string, opt_time, string, time};
use crate::collections::{MAIL_QUEUE, ONE_TIME_TOKENS, SESSIONS, USERS};
use crate::error::db_err;
use crate::mail::mail_doc;
use crate::MongoStore;

/// The document stored for a new user.
fn user_doc(new: &NewUser) -> Document {
    let u = &new.user;
    // A user created already verified (e.g. by an administrator) was verified at creation.
    let verified_at = u.email_verified.then_some(u.created_at);
    let mut d = doc! {
        "_id": u.id.as_str(),
        "email": opt_str(u.email.as_deref()),
        "username": opt_str(u.username.as_deref()),
        "name": opt_str(u.name.as_deref()),
        "first_name": opt_str(u.first_name.as_deref()),
        "last_name": opt_str(u.last_name.as_deref()),
        "role": &u.role,
        "email_verified_at": opt_date(verified_at),
        "password_hash": &new.password_hash,
        "disabled_at": Bson::Null,
        "created_at": date(u.created_at),
        "last_login_at": opt_date(u.last_login_at),
    };
    if let Some(email) = &new.email_normalized {
        d.insert("email_normalized", email);
    }
    if let Some(username) = &new.username_normalized {
        d.insert("username_normalized", username);
    }
    d
}

/// The user a stored document describes.
pub(crate) fn user_record(d: &Document) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        user: User {
            id: UserId::from_string(string(d, "_id")?),
            email: opt_string(d, "email")?,
            username: opt_string(d, "username")?,
            name: opt_string(d, "name")?,
            first_name: opt_string(d, "first_name")?,
            last_name: opt_string(d, "last_name")?,
            role: string(d, "role")?,
            email_verified: opt_time(d, "email_verified_at")?.is_some(),
            created_at: time(d, "created_at")?,
            last_login_at: opt_time(d, "last_login_at")?,
        },
        password_hash: string(d, "password_hash")?,
        disabled_at: opt_time(d, "disabled_at")?,
    })
}

impl MongoStore {
    /// The one user matching `filter`.
    async fn find_user(&self, filter: Document) -> StoreResult<Option<UserRecord>> {
        let found = self
            .collection(USERS)
            .find_one(filter)
            .await
            .map_err(db_err)?;
        found.as_ref().map(user_record).transpose()
    }

    /// Applies `update` to the user `id`; `NotFound` when there is no such user.
    async fn update_user(&self, id: &UserId, update: Document) -> StoreResult<()> {
        let done = self
            .collection(USERS)
            .update_one(doc! { "_id": id.as_str() }, update)
            .await
            .map_err(db_err)?;
        if done.matched_count == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl UserStore for MongoStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.user.id))]
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()> {
        self.collection(USERS)
            .insert_one(user_doc(user))
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn find_user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.find_user(doc! { "_id": id.as_str() }).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_user_by_email(&self, email_normalized: &str) -> StoreResult<Option<UserRecord>> {
        // `$type` repeats the unique index's partial filter, so the planner may use the index.
        self.find_user(doc! { "email_normalized": { "$eq": email_normalized, "$type": "string" } })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_user_by_username(
        &self,
        username_normalized: &str,
    ) -> StoreResult<Option<UserRecord>> {
        self.find_user(
            doc! { "username_normalized": { "$eq": username_normalized, "$type": "string" } },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn set_password_hash(&self, id: &UserId, password_hash: &str) -> StoreResult<()> {
        self.update_user(id, doc! { "$set": { "password_hash": password_hash } })
            .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StoreResult<()> {
        // Keeps the first verification time if the address was already verified.
        let done = self
            .collection(USERS)
            .update_one(
                doc! { "_id": id.as_str(), "email_verified_at": Bson::Null },
                doc! { "$set": { "email_verified_at": date(at) } },
            )
            .await
            .map_err(db_err)?;
        if done.matched_count == 0 && self.find_user_by_id(id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %id, disabled = at.is_some()))]
    async fn set_disabled(&self, id: &UserId, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.update_user(id, doc! { "$set": { "disabled_at": opt_date(at) } })
            .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %change.user_id, reset = change.reset_token.is_some()))]
    async fn replace_password(&self, change: &PasswordReplacement) -> StoreResult<bool> {
        self.atomically(&ReplacePassword(change)).await
    }
}

/// `UserStore::replace_password` as a unit of writes. Without a transaction the order is:
/// spend the reset token (it decides between concurrent resets), store the password, revoke
/// the sessions, invalidate the reset tokens, queue the notice. Once the password is stored
/// no session can be opened with the old one, so the revocation after it catches every old
/// session; revoking first would let a login with the old password slip in between and
/// outlive the change. An interruption after the password leaves old sessions alive until
/// the user changes or resets again, and the request that was interrupted failed visibly.
struct ReplacePassword<'a>(&'a PasswordReplacement);

impl Atomic for ReplacePassword<'_> {
    type Output = bool;

    async fn run(
        &self,
        store: &MongoStore,
        mut session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Done<bool>> {
        let (change, at) = (self.0, date(self.0.at));
        let user = change.user_id.as_str();
        let tokens = store.collection(ONE_TIME_TOKENS);
        if let Some(hash) = &change.reset_token {
            let spent = in_session!(
                tokens.update_one(
                    doc! {
                        "_id": hash.to_hex(), "user_id": user,
                        "purpose": TokenPurpose::ResetPassword.as_str(),
                        "used_at": Bson::Null, "expires_at": { "$gt": at.clone() },
                    },
                    doc! { "$set": { "used_at": at.clone() } },
                ),
                session
            )
            .await?;
            if spent.modified_count == 0 {
                return Ok(Done::Abort(Ok(false)));
            }
        }
        let users = store.collection(USERS);
        let stored = in_session!(
            users.update_one(
                doc! { "_id": user },
                doc! { "$set": { "password_hash": &change.password_hash } },
            ),
            session
        )
        .await?;
        if stored.matched_count == 0 {
            if session.is_none() {
                self.undo_token(store).await?;
            }
            return Ok(Done::Abort(Err(StoreError::NotFound)));
        }
        if change.mark_email_verified {
            // Keeps the first verification time if the address was already verified.
            in_session!(
                users.update_one(
                    doc! { "_id": user, "email_verified_at": Bson::Null },
                    doc! { "$set": { "email_verified_at": at.clone() } },
                ),
                session
            )
            .await?;
        }
        let sessions = store.collection(SESSIONS);
        in_session!(
            sessions.update_many(
                doc! { "user_id": user, "revoked_at": Bson::Null, "expires_at": { "$gt": at.clone() } },
                doc! { "$set": { "revoked_at": at.clone() } },
            ),
            session
        )
        .await?;
        in_session!(
            tokens.update_many(
                doc! { "user_id": user, "purpose": TokenPurpose::ResetPassword.as_str(), "used_at": Bson::Null },
                doc! { "$set": { "used_at": at.clone() } },
            ),
            session
        )
        .await?;
        if let Some(notice) = &change.notice {
            let queue = store.collection(MAIL_QUEUE);
            in_session!(queue.insert_one(mail_doc(notice, change.at)), session).await?;
        }
        Ok(Done::Commit(true))
    }
}

impl ReplacePassword<'_> {
    /// Without a transaction: gives back the reset token spent for a user that turned out
    /// not to exist, so the unit leaves nothing written.
    async fn undo_token(&self, store: &MongoStore) -> mongodb::error::Result<()> {
        if let Some(hash) = &self.0.reset_token {
            store
                .collection(ONE_TIME_TOKENS)
                .update_one(
                    doc! { "_id": hash.to_hex() },
                    doc! { "$set": { "used_at": Bson::Null } },
                )
                .await?;
        }
        Ok(())
    }
}
