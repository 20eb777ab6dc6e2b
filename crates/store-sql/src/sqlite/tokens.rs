//! [`OneTimeTokenStore`] for SQLite: email-verification and password-reset tokens, written
//! together with the mail that carries them.

use async_trait::async_trait;
use authgate_core::domain::UserId;
use authgate_core::secret::TokenHash;
use authgate_core::store::{
    ConsumedToken, NewOneTimeToken, OneTimeTokenStore, OutgoingMail, StoreResult, TokenPurpose,
    UnexpiredToken,
};
use chrono::{DateTime, Utc};

use super::mail::insert_mail;
use super::time::to_ms;
use super::SqliteStore;
use crate::error::db_err;

#[async_trait]
impl OneTimeTokenStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %token.user_id, purpose = token.purpose.as_str(), supersede))]
    async fn create_one_time_token(
        &self,
        token: &NewOneTimeToken,
        mail: &OutgoingMail,
        supersede: bool,
    ) -> StoreResult<()> {
        let now = to_ms(token.created_at);
        let mut tx = self.begin_write().await?;
        if supersede {
            // An invalidated token is marked used: it can never be consumed again.
            sqlx::query(
                "UPDATE one_time_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
            )
            .bind(now)
            .bind(token.user_id.as_str())
            .bind(token.purpose.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        sqlx::query(
            "INSERT INTO one_time_tokens (hash, user_id, purpose, email, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.hash.0[..])
        .bind(token.user_id.as_str())
        .bind(token.purpose.as_str())
        .bind(&token.email)
        .bind(now)
        .bind(to_ms(token.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await.map_err(db_err)
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn find_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ConsumedToken>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT user_id, email FROM one_time_tokens \
             WHERE hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
        )
        .bind(&hash.0[..])
        .bind(purpose.as_str())
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(user_id, email)| ConsumedToken {
            user_id: UserId::from_string(user_id),
            email,
        }))
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn find_unexpired_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UnexpiredToken>> {
        let row: Option<(String, String, bool)> = sqlx::query_as(
            "SELECT user_id, email, used_at IS NOT NULL FROM one_time_tokens \
             WHERE hash = ?1 AND purpose = ?2 AND expires_at > ?3",
        )
        .bind(&hash.0[..])
        .bind(purpose.as_str())
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(user_id, email, used)| UnexpiredToken {
            user_id: UserId::from_string(user_id),
            email,
            used,
        }))
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn consume_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ConsumedToken>> {
        // One guarded statement: of concurrent callers, only the first sees `used_at IS NULL`.
        let row: Option<(String, String)> = sqlx::query_as(
            "UPDATE one_time_tokens SET used_at = ?1 \
             WHERE hash = ?2 AND purpose = ?3 AND used_at IS NULL AND expires_at > ?1 \
             RETURNING user_id, email",
        )
        .bind(to_ms(now))
        .bind(&hash.0[..])
        .bind(purpose.as_str())
        .fetch_optional(self.writer())
        .await
        .map_err(db_err)?;
        Ok(row.map(|(user_id, email)| ConsumedToken {
            user_id: UserId::from_string(user_id),
            email,
        }))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, purpose = purpose.as_str()))]
    async fn invalidate_one_time_tokens(
        &self,
        user_id: &UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = invalidate_one_time_tokens_query(user_id, purpose, to_ms(now))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// Marks every unused `purpose` token of `user_id` used at `now` (ms): run on its own, or in
/// a transaction with other writes.
pub(super) fn invalidate_one_time_tokens_query(
    user_id: &UserId,
    purpose: TokenPurpose,
    now: i64,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(
        "UPDATE one_time_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id.as_str())
    .bind(purpose.as_str())
}
