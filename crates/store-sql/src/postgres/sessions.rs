//! [`SessionStore`] for PostgreSQL: sessions and their refresh-token chains.
//!
//! Writes that touch several tables are single statements chaining data-modifying CTEs: each
//! step feeds the next through `RETURNING`, so a guard that matches nothing stops the whole
//! chain, and the statement commits or fails as one.

use std::sync::LazyLock;

use async_trait::async_trait;
use authgate_core::domain::{Session, SessionId, UserId};
use authgate_core::secret::TokenHash;
use authgate_core::store::{
    NewSession, RefreshTokenRecord, RefreshTokenWithOwner, Rotation, SessionStore, StoreResult,
};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use sqlx::Postgres;

use super::users::{UserRow, USER_COLUMNS};
use super::PostgresStore;
use crate::columns::qualified;
use crate::error::db_err;

/// A `sessions` row as listed.
#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: String,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: Option<String>,
    ip: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: SessionId::from_string(r.id),
            user_id: UserId::from_string(r.user_id),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            user_agent: r.user_agent,
            ip: r.ip,
        }
    }
}

/// A refresh token joined with its session.
#[derive(sqlx::FromRow)]
struct RefreshRow {
    session_id: String,
    user_id: String,
    rotated_at: Option<DateTime<Utc>>,
    rotation_key: Vec<u8>,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
}

impl From<RefreshRow> for RefreshTokenRecord {
    fn from(r: RefreshRow) -> Self {
        RefreshTokenRecord {
            session_id: SessionId::from_string(r.session_id),
            user_id: UserId::from_string(r.user_id),
            rotated_at: r.rotated_at,
            rotation_key: r.rotation_key,
            session_revoked_at: r.revoked_at,
            session_expires_at: r.expires_at,
        }
    }
}

/// Rows per multi-row `INSERT INTO sessions` or `refresh_tokens` in a bulk insert.
pub(super) const SESSIONS_PER_INSERT: usize = 1_000;

/// One `INSERT` of every session in `sessions` (at most [`SESSIONS_PER_INSERT`]), for the
/// bulk path; `create_session` opens one session in a single statement of its own.
pub(super) fn insert_sessions_rows(sessions: &[NewSession]) -> sqlx::QueryBuilder<'_, Postgres> {
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, rotation_key) ",
    );
    insert.push_values(sessions, |mut row, new| {
        let s = &new.session;
        row.push_bind(s.id.as_str())
            .push_bind(s.user_id.as_str())
            .push_bind(s.created_at)
            .push_bind(s.last_used_at)
            .push_bind(s.expires_at)
            .push_bind(&s.user_agent)
            .push_bind(&s.ip)
            .push_bind(&new.rotation_key);
    });
    insert
}

/// One `INSERT` of the first refresh token of every session in `sessions`.
pub(super) fn insert_first_tokens_rows(
    sessions: &[NewSession],
) -> sqlx::QueryBuilder<'_, Postgres> {
    let mut insert =
        sqlx::QueryBuilder::new("INSERT INTO refresh_tokens (hash, session_id, issued_at) ");
    insert.push_values(sessions, |mut row, new| {
        row.push_bind(&new.refresh_hash.0[..])
            .push_bind(new.session.id.as_str())
            .push_bind(new.session.created_at);
    });
    insert
}

/// A refresh token joined with its session and the session's owner.
#[derive(sqlx::FromRow)]
struct RefreshOwnerRow {
    #[sqlx(flatten)]
    token: RefreshRow,
    #[sqlx(flatten)]
    owner: UserRow,
}

/// The read of [`PostgresStore::refresh_token_with_owner`].
static REFRESH_WITH_OWNER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT r.session_id, s.user_id, r.rotated_at, s.rotation_key, s.revoked_at, s.expires_at, {} \
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
         JOIN users u ON u.id = s.user_id WHERE r.hash = $1",
        qualified(USER_COLUMNS, "u")
    )
});

impl PostgresStore {
    /// [`authgate_core::Store::find_refresh_token_with_owner`] in one joined read.
    pub(super) async fn refresh_token_with_owner(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<RefreshTokenWithOwner>> {
        let row: Option<RefreshOwnerRow> = sqlx::query_as(&REFRESH_WITH_OWNER)
            .bind(&hash.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| RefreshTokenWithOwner {
            token: r.token.into(),
            owner: r.owner.into(),
        }))
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    #[tracing::instrument(skip_all, fields(user_id = %new.session.user_id, session_id = %new.session.id))]
    async fn create_session(&self, new: &NewSession) -> StoreResult<()> {
        let s = &new.session;
        // Login stamp, session and first token in one statement; no user, no session.
        let done = sqlx::query(
            "WITH login AS ( \
                 UPDATE users SET last_login_at = $3 WHERE id = $2 RETURNING id \
             ), opened AS ( \
                 INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, rotation_key) \
                 SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM login RETURNING id \
             ) \
             INSERT INTO refresh_tokens (hash, session_id, issued_at) SELECT $9, id, $3 FROM opened",
        )
        .bind(s.id.as_str())
        .bind(s.user_id.as_str())
        .bind(s.created_at)
        .bind(s.last_used_at)
        .bind(s.expires_at)
        .bind(&s.user_agent)
        .bind(&s.ip)
        .bind(&new.rotation_key)
        .bind(&new.refresh_hash.0[..])
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT r.session_id, s.user_id, r.rotated_at, s.rotation_key, s.revoked_at, s.expires_at \
             FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1",
        )
        .bind(&hash.0[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(RefreshTokenRecord::from))
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
        // The guarded update of the old token is the decision. Concurrent callers queue on its
        // row lock; once the winner commits, each of them re-checks `rotated_at IS NULL`
        // against the committed row, matches nothing, and so renews and inserts nothing.
        let done = sqlx::query(
            "WITH claimed AS ( \
                 UPDATE refresh_tokens SET rotated_at = $4 \
                 WHERE hash = $2 AND session_id = $1 AND rotated_at IS NULL \
                 AND EXISTS (SELECT 1 FROM sessions \
                             WHERE id = $1 AND revoked_at IS NULL AND expires_at > $4) \
                 RETURNING session_id \
             ), renewed AS ( \
                 UPDATE sessions SET last_used_at = $4, expires_at = $5 \
                 WHERE id IN (SELECT session_id FROM claimed) RETURNING id \
             ) \
             INSERT INTO refresh_tokens (hash, session_id, issued_at) SELECT $3, id, $4 FROM renewed",
        )
        .bind(session_id.as_str())
        .bind(&old.0[..])
        .bind(&new.0[..])
        .bind(now)
        .bind(new_expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(if done.rows_affected() == 1 {
            Rotation::Rotated
        } else {
            Rotation::NotCurrent
        })
    }

    #[tracing::instrument(skip_all, fields(session_id = %id))]
    async fn live_session_owner(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(id.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(owner.map(UserId::from_string))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn list_sessions(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT id, user_id, created_at, last_used_at, expires_at, user_agent, ip FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, session_id = %id))]
    async fn revoke_session(
        &self,
        user_id: &UserId,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(id.as_str())
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_all_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = revoke_all_sessions_query(user_id, now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, keep = %keep))]
    async fn revoke_other_sessions(
        &self,
        user_id: &UserId,
        keep: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(user_id.as_str())
        .bind(keep.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(skip_all)]
    async fn prune_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Refresh tokens go with their sessions (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// The revocation of every live session of `user_id` at `now`: run on its own, or in a
/// transaction with other writes.
pub(super) fn revoke_all_sessions_query(
    user_id: &UserId,
    now: DateTime<Utc>,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1 \
         WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(user_id.as_str())
}
