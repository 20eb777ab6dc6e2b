//! [`UserStore`] for MongoDB.
//!
//! A user document: `_id` (user id), `email`, `username`, `name`, `first_name`, `last_name`,
//! `role`, `email_verified_at`, `password_hash`, `disabled_at`, `created_at`, `last_login_at`,
//! and `email_normalized` / `username_normalized`, present only when the account has them
//! (the unique indexes cover strings only).

use async_trait::async_trait;
use authgate_core::domain::{NewUser, User, UserId, UserRecord};
use authgate_core::store::{StoreResult, UserStore};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};

use crate::codec::{date, opt_date, opt_str, opt_string, opt_time, string, time};
use crate::error::db_err;
use crate::store::USERS;
use crate::MongoStore;

/// The document stored for a new user.
fn user_doc(new: &NewUser) -> Document {
    let u = &new.user;
    // A user created already verified (e.g. by an administrator) was verified at creation.
    let verified_at = u.email_verified.then_some(u.created_at);
    let mut d = doc! {
        "_id": &u.id.0,
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
fn user_record(d: &Document) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        user: User {
            id: UserId(string(d, "_id")?),
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
            .update_one(doc! { "_id": &id.0 }, update)
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
        self.find_user(doc! { "_id": &id.0 }).await
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
                doc! { "_id": &id.0, "email_verified_at": Bson::Null },
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
}
