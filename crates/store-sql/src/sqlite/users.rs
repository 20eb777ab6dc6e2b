//! [`UserStore`] for SQLite.

use async_trait::async_trait;
use authgate_core::domain::{NewUser, User, UserId, UserRecord};
use authgate_core::store::{PasswordReplacement, StoreResult, TokenPurpose, UserStore};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, Transaction};

use super::mail::insert_mail;
use super::sessions::revoke_all_sessions_query;
use super::time::{from_ms, opt_from_ms, opt_to_ms, to_ms};
use super::tokens::invalidate_one_time_tokens_query;
use super::SqliteStore;
use crate::error::db_err;

/// The columns every user look-up selects, in [`UserRow`] order.
pub(super) const USER_COLUMNS: &str =
    "id, email, username, name, first_name, last_name, role, email_verified_at, \
     password_hash, disabled_at, created_at, last_login_at";

/// A `users` row as stored.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    email: Option<String>,
    username: Option<String>,
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    role: String,
    email_verified_at: Option<i64>,
    password_hash: String,
    disabled_at: Option<i64>,
    created_at: i64,
    last_login_at: Option<i64>,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(UserRecord {
            user: User {
                id: UserId::from_string(r.id),
                email: r.email,
                username: r.username,
                name: r.name,
                first_name: r.first_name,
                last_name: r.last_name,
                role: r.role,
                email_verified: r.email_verified_at.is_some(),
                created_at: from_ms(r.created_at)?,
                last_login_at: opt_from_ms(r.last_login_at)?,
            },
            password_hash: r.password_hash,
            disabled_at: opt_from_ms(r.disabled_at)?,
        })
    }
}

impl SqliteStore {
    /// The one user whose `column` equals `value`; `column` is one of ours, never input.
    async fn find_user_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(UserRecord::try_from).transpose()
    }

    /// Runs a single-row `UPDATE users ... WHERE id = ?` whose last bind is the id;
    /// `NotFound` when no row matched.
    async fn update_user<'q>(
        &self,
        query: Query<'q, Sqlite, SqliteArguments<'q>>,
    ) -> StoreResult<()> {
        let done = query.execute(self.writer()).await.map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// Rows per multi-row `INSERT INTO users`: 13 parameters each, far below SQLite's limit.
pub(super) const USERS_PER_INSERT: usize = 500;

/// One `INSERT` of every user in `users` (at most [`USERS_PER_INSERT`]); with one user it is
/// the statement `insert_user` prepares once and reuses.
pub(super) fn insert_users_rows(users: &[NewUser]) -> sqlx::QueryBuilder<'_, Sqlite> {
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO users (id, email, email_normalized, username, username_normalized, name, first_name, \
         last_name, role, email_verified_at, password_hash, created_at, last_login_at) ",
    );
    insert.push_values(users, |mut row, user| {
        let u = &user.user;
        // A user created already verified (e.g. by an administrator) was verified at creation.
        let verified_at: Option<DateTime<Utc>> = u.email_verified.then_some(u.created_at);
        row.push_bind(u.id.as_str())
            .push_bind(&u.email)
            .push_bind(&user.email_normalized)
            .push_bind(&u.username)
            .push_bind(&user.username_normalized)
            .push_bind(&u.name)
            .push_bind(&u.first_name)
            .push_bind(&u.last_name)
            .push_bind(&u.role)
            .push_bind(opt_to_ms(verified_at))
            .push_bind(&user.password_hash)
            .push_bind(to_ms(u.created_at))
            .push_bind(opt_to_ms(u.last_login_at));
    });
    insert
}

#[async_trait]
impl UserStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.user.id))]
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()> {
        insert_users_rows(std::slice::from_ref(user))
            .build()
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn find_user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.find_user_where("id", id.as_str()).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_user_by_email(&self, email_normalized: &str) -> StoreResult<Option<UserRecord>> {
        self.find_user_where("email_normalized", email_normalized)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_user_by_username(
        &self,
        username_normalized: &str,
    ) -> StoreResult<Option<UserRecord>> {
        self.find_user_where("username_normalized", username_normalized)
            .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn set_password_hash(&self, id: &UserId, password_hash: &str) -> StoreResult<()> {
        self.update_user(
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
                .bind(password_hash)
                .bind(id.as_str()),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StoreResult<()> {
        // Keeps the first verification time if the address was already verified.
        self.update_user(
            sqlx::query(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?",
            )
            .bind(to_ms(at))
            .bind(id.as_str()),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id, disabled = at.is_some()))]
    async fn set_disabled(&self, id: &UserId, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.update_user(
            sqlx::query("UPDATE users SET disabled_at = ? WHERE id = ?")
                .bind(opt_to_ms(at))
                .bind(id.as_str()),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %change.user_id, reset = change.reset_token.is_some()))]
    async fn replace_password(&self, change: &PasswordReplacement) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        if !spend_reset_token(&mut tx, change).await? {
            return Ok(false);
        }
        let at = to_ms(change.at);
        let done = sqlx::query(
            "UPDATE users SET password_hash = ?1, \
             email_verified_at = CASE WHEN ?2 THEN COALESCE(email_verified_at, ?3) ELSE email_verified_at END \
             WHERE id = ?4",
        )
        .bind(&change.password_hash)
        .bind(change.mark_email_verified)
        .bind(at)
        .bind(change.user_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        revoke_all_sessions_query(&change.user_id, at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        invalidate_one_time_tokens_query(&change.user_id, TokenPurpose::ResetPassword, at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(notice) = &change.notice {
            insert_mail(&mut tx, notice, at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}

/// Marks the change's reset token used inside `tx`, if it has one; `false` when that token is
/// not a live reset token of the change's user (the caller then drops `tx`, writing nothing).
async fn spend_reset_token(
    tx: &mut Transaction<'static, Sqlite>,
    change: &PasswordReplacement,
) -> StoreResult<bool> {
    let Some(hash) = &change.reset_token else {
        return Ok(true);
    };
    let done = sqlx::query(
        "UPDATE one_time_tokens SET used_at = ?1 \
         WHERE hash = ?2 AND user_id = ?3 AND purpose = ?4 AND used_at IS NULL AND expires_at > ?1",
    )
    .bind(to_ms(change.at))
    .bind(&hash.0[..])
    .bind(change.user_id.as_str())
    .bind(TokenPurpose::ResetPassword.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}
