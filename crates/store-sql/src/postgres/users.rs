//! [`UserStore`] for PostgreSQL.

use async_trait::async_trait;
use authgate_core::domain::{NewUser, User, UserId, UserRecord};
use authgate_core::store::{PasswordReplacement, StoreResult, TokenPurpose, UserStore};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};

use super::mail::insert_mail_query;
use super::sessions::revoke_all_sessions_query;
use super::tokens::invalidate_one_time_tokens_query;
use super::PostgresStore;
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
    email_verified_at: Option<DateTime<Utc>>,
    password_hash: String,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl From<UserRow> for UserRecord {
    fn from(r: UserRow) -> Self {
        UserRecord {
            user: User {
                id: UserId::from_string(r.id),
                email: r.email,
                username: r.username,
                name: r.name,
                first_name: r.first_name,
                last_name: r.last_name,
                role: r.role,
                email_verified: r.email_verified_at.is_some(),
                created_at: r.created_at,
                last_login_at: r.last_login_at,
            },
            password_hash: r.password_hash,
            disabled_at: r.disabled_at,
        }
    }
}

impl PostgresStore {
    /// The one user whose `column` equals `value`; `column` is one of ours, never input.
    async fn find_user_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(row.map(UserRecord::from))
    }

    /// Runs a single-row `UPDATE users ... WHERE id = $n`; `NotFound` when no row matched.
    async fn update_user<'q>(&self, query: Query<'q, Postgres, PgArguments>) -> StoreResult<()> {
        let done = query.execute(&self.pool).await.map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// Rows per multi-row `INSERT INTO users`: 13 parameters each, far below PostgreSQL's 65,535.
pub(super) const USERS_PER_INSERT: usize = 1_000;

/// One `INSERT` of every user in `users` (at most [`USERS_PER_INSERT`]); with one user it is
/// the statement `insert_user` prepares once and reuses.
pub(super) fn insert_users_rows(users: &[NewUser]) -> sqlx::QueryBuilder<'_, Postgres> {
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO users (id, email, email_normalized, username, username_normalized, name, \
         first_name, last_name, role, email_verified_at, password_hash, created_at, last_login_at) ",
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
            .push_bind(verified_at)
            .push_bind(&user.password_hash)
            .push_bind(u.created_at)
            .push_bind(u.last_login_at);
    });
    insert
}

#[async_trait]
impl UserStore for PostgresStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.user.id))]
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()> {
        // The unique indexes decide races: a taken email or username fails the whole insert
        // with SQLSTATE 23505 naming the index, which `db_err` turns into `Conflict`.
        insert_users_rows(std::slice::from_ref(user))
            .build()
            .execute(&self.pool)
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
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
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
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2",
            )
            .bind(at)
            .bind(id.as_str()),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id, disabled = at.is_some()))]
    async fn set_disabled(&self, id: &UserId, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.update_user(
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id.as_str()),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %change.user_id, reset = change.reset_token.is_some()))]
    async fn replace_password(&self, change: &PasswordReplacement) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if !spend_reset_token(&mut tx, change).await? {
            return Ok(false);
        }
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, \
             email_verified_at = CASE WHEN $2 THEN COALESCE(email_verified_at, $3) ELSE email_verified_at END \
             WHERE id = $4",
        )
        .bind(&change.password_hash)
        .bind(change.mark_email_verified)
        .bind(change.at)
        .bind(change.user_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        revoke_all_sessions_query(&change.user_id, change.at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        invalidate_one_time_tokens_query(&change.user_id, TokenPurpose::ResetPassword, change.at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(notice) = &change.notice {
            insert_mail_query(notice, change.at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}

/// Marks the change's reset token used inside `tx`, if it has one; `false` when that token is
/// not a live reset token of the change's user (the caller then drops `tx`, writing nothing).
/// Concurrent callers queue on the token's row lock; all but the first find it used.
async fn spend_reset_token(
    tx: &mut Transaction<'static, Postgres>,
    change: &PasswordReplacement,
) -> StoreResult<bool> {
    let Some(hash) = &change.reset_token else {
        return Ok(true);
    };
    let done = sqlx::query(
        "UPDATE one_time_tokens SET used_at = $1 \
         WHERE hash = $2 AND user_id = $3 AND purpose = $4 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(change.at)
    .bind(&hash.0[..])
    .bind(change.user_id.as_str())
    .bind(TokenPurpose::ResetPassword.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}
