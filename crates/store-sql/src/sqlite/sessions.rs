//! [`SessionStore`] for SQLite: sessions and their refresh-token chains.

use std::sync::LazyLock;

use async_trait::async_trait;
use authgate_core::domain::{Session, SessionId, UserId};
use authgate_core::secret::TokenHash;
use authgate_core::store::{
    NewSession, RefreshTokenRecord, RefreshTokenWithOwner, Rotation, SessionStore, StoreResult,
};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use sqlx::Sqlite;

use super::rotations::RotationRequest;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::users::{UserRow, USER_COLUMNS};
use super::SqliteStore;
use crate::columns::qualified;
use crate::error::db_err;

/// A `sessions` row as listed.
#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: String,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    user_agent: Option<String>,
    ip: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId::from_string(r.id),
            user_id: UserId::from_string(r.user_id),
            created_at: from_ms(r.created_at)?,
            last_used_at: from_ms(r.last_used_at)?,
            expires_at: from_ms(r.expires_at)?,
            user_agent: r.user_agent,
            ip: r.ip,
        })
    }
}

/// A refresh token joined with its session.
#[derive(sqlx::FromRow)]
struct RefreshRow {
    session_id: String,
    user_id: String,
    rotated_at: Option<i64>,
    rotation_key: Vec<u8>,
    revoked_at: Option<i64>,
    expires_at: i64,
}

impl TryFrom<RefreshRow> for RefreshTokenRecord {
    type Error = StoreError;

    fn try_from(r: RefreshRow) -> Result<Self, StoreError> {
        Ok(RefreshTokenRecord {
            session_id: SessionId::from_string(r.session_id),
            user_id: UserId::from_string(r.user_id),
            rotated_at: opt_from_ms(r.rotated_at)?,
            rotation_key: r.rotation_key,
            session_revoked_at: opt_from_ms(r.revoked_at)?,
            session_expires_at: from_ms(r.expires_at)?,
        })
    }
}

/// Rows per multi-row `INSERT INTO sessions` or `refresh_tokens`: at most 8 parameters each.
pub(super) const SESSIONS_PER_INSERT: usize = 500;

/// One `INSERT` of every session in `sessions` (at most [`SESSIONS_PER_INSERT`]).
pub(super) fn insert_sessions_rows(sessions: &[NewSession]) -> sqlx::QueryBuilder<'_, Sqlite> {
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, rotation_key) ",
    );
    insert.push_values(sessions, |mut row, new| {
        let s = &new.session;
        row.push_bind(s.id.as_str())
            .push_bind(s.user_id.as_str())
            .push_bind(to_ms(s.created_at))
            .push_bind(to_ms(s.last_used_at))
            .push_bind(to_ms(s.expires_at))
            .push_bind(&s.user_agent)
            .push_bind(&s.ip)
            .push_bind(&new.rotation_key);
    });
    insert
}

/// One `INSERT` of the first refresh token of every session in `sessions`, issued when the
/// session was created.
pub(super) fn insert_first_tokens_rows(sessions: &[NewSession]) -> sqlx::QueryBuilder<'_, Sqlite> {
    let mut insert =
        sqlx::QueryBuilder::new("INSERT INTO refresh_tokens (hash, session_id, issued_at) ");
    insert.push_values(sessions, |mut row, new| {
        row.push_bind(&new.refresh_hash.0[..])
            .push_bind(new.session.id.as_str())
            .push_bind(to_ms(new.session.created_at));
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

/// The read of [`SqliteStore::refresh_token_with_owner`].
static REFRESH_WITH_OWNER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT r.session_id, s.user_id, r.rotated_at, s.rotation_key, s.revoked_at, s.expires_at, {} \
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
         JOIN users u ON u.id = s.user_id WHERE r.hash = ?",
        qualified(USER_COLUMNS, "u")
    )
});

impl SqliteStore {
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
        row.map(|r| {
            Ok(RefreshTokenWithOwner {
                token: r.token.try_into()?,
                owner: r.owner.try_into()?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %new.session.user_id, session_id = %new.session.id))]
    async fn create_session(&self, new: &NewSession) -> StoreResult<()> {
        let s = &new.session;
        let mut tx = self.begin_write().await?;
        let login = sqlx::query("UPDATE users SET last_login_at = ? WHERE id = ?")
            .bind(to_ms(s.created_at))
            .bind(s.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if login.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let one = std::slice::from_ref(new);
        insert_sessions_rows(one)
            .build()
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_first_tokens_rows(one)
            .build()
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    #[tracing::instrument(skip_all)]
    async fn find_refresh_token(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT r.session_id, s.user_id, r.rotated_at, s.rotation_key, s.revoked_at, s.expires_at \
             FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?",
        )
        .bind(&hash.0[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(RefreshTokenRecord::try_from).transpose()
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
        // Group commit: see `rotations`.
        self.rotations
            .rotate(RotationRequest {
                session_id: session_id.as_str().to_owned(),
                old: *old,
                new: *new,
                now_ms: to_ms(now),
                expires_at_ms: to_ms(new_expires_at),
            })
            .await
    }

    #[tracing::instrument(skip_all, fields(session_id = %id))]
    async fn live_session_owner(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(id.as_str())
        .bind(to_ms(now))
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
             WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.as_str())
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(Session::try_from).collect()
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, session_id = %id))]
    async fn revoke_session(
        &self,
        user_id: &UserId,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = ?1 \
             WHERE id = ?2 AND user_id = ?3 AND revoked_at IS NULL AND expires_at > ?1",
        )
        .bind(to_ms(now))
        .bind(id.as_str())
        .bind(user_id.as_str())
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_all_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = revoke_all_sessions_query(user_id, to_ms(now))
            .execute(self.writer())
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
            "UPDATE sessions SET revoked_at = ?1 \
             WHERE user_id = ?2 AND id <> ?3 AND revoked_at IS NULL AND expires_at > ?1",
        )
        .bind(to_ms(now))
        .bind(user_id.as_str())
        .bind(keep.as_str())
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(skip_all)]
    async fn prune_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Refresh tokens go with their sessions (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1")
            .bind(to_ms(before))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// The revocation of every live session of `user_id` at `now` (ms): run on its own, or in a
/// transaction with other writes.
pub(super) fn revoke_all_sessions_query(
    user_id: &UserId,
    now: i64,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL AND expires_at > ?1",
    )
    .bind(now)
    .bind(user_id.as_str())
}
