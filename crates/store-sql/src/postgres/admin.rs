//! [`AdminStore`] for PostgreSQL: user search, profile changes, erasure, the audit trail
//! across users.
//!
//! The prefix search is a byte-wise range (`~>=~`, `~<~`) on `email_normalized` and
//! `username_normalized`, answered by their `text_pattern_ops` indexes whatever the locale.
//! Users are ordered by id: UUIDv7 text of hex digits with hyphens in fixed places, which
//! every collation orders as bytes do.

use async_trait::async_trait;
use authgate_core::domain::{UserId, UserRecord};
use authgate_core::store::{
    AdminStore, AuditRecord, AuditSearch, StoreResult, UserErasure, UserPatch, UserSearch,
};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::audit::AuditRow;
use super::mail::insert_mail_query;
use super::users::{UserRow, USER_COLUMNS};
use super::PostgresStore;
use crate::error::db_err;

/// The `SET` list of a patch, pushed onto `q` (which ends in `SET `).
fn push_patch<'a>(q: &mut QueryBuilder<'a, Postgres>, patch: &'a UserPatch) {
    let mut set = q.separated(", ");
    // A no-op assignment keeps the statement valid for an empty patch.
    set.push("id = id");
    if let Some(role) = &patch.role {
        set.push("role = ").push_bind_unseparated(role);
    }
    if let Some(name) = &patch.name {
        set.push("name = ").push_bind_unseparated(name);
    }
    if let Some(first) = &patch.first_name {
        set.push("first_name = ").push_bind_unseparated(first);
    }
    if let Some(last) = &patch.last_name {
        set.push("last_name = ").push_bind_unseparated(last);
    }
    if let Some(username) = &patch.username {
        set.push("username = ")
            .push_bind_unseparated(username.as_ref().map(|u| &u.display));
        set.push("username_normalized = ")
            .push_bind_unseparated(username.as_ref().map(|u| &u.normalized));
    }
    if let Some(email) = &patch.email {
        set.push("email = ").push_bind_unseparated(&email.display);
        set.push("email_normalized = ")
            .push_bind_unseparated(&email.normalized);
    }
    match (&patch.email_verified_at, patch.email.is_some()) {
        (Some(Some(at)), false) => {
            set.push("email_verified_at = COALESCE(email_verified_at, ")
                .push_bind_unseparated(*at)
                .push_unseparated(")");
        }
        (Some(at), _) => {
            set.push("email_verified_at = ").push_bind_unseparated(*at);
        }
        (None, _) => {}
    }
}

/// The query of [`AdminStore::search_users`] after `head` (`SELECT <columns>`, or an
/// `EXPLAIN` of it): a byte-wise prefix range on each unique, normalized name, so an index
/// answers it.
fn search_query<'a>(head: &str, search: &'a UserSearch) -> QueryBuilder<'a, Postgres> {
    let mut q = QueryBuilder::<Postgres>::new(format!("{head} FROM users WHERE 1 = 1"));
    if let Some(prefix) = &search.prefix {
        let upper = UserSearch::prefix_upper_bound(prefix);
        q.push(" AND ((email_normalized ~>=~ ")
            .push_bind(prefix.clone())
            .push(" AND email_normalized ~<~ ")
            .push_bind(upper.clone())
            .push(") OR (username_normalized ~>=~ ")
            .push_bind(prefix.clone())
            .push(" AND username_normalized ~<~ ")
            .push_bind(upper)
            .push("))");
    }
    if let Some(role) = &search.role {
        q.push(" AND role = ").push_bind(role.clone());
    }
    match search.disabled {
        Some(true) => q.push(" AND disabled_at IS NOT NULL"),
        Some(false) => q.push(" AND disabled_at IS NULL"),
        None => &mut q,
    };
    if let Some(after) = &search.after {
        q.push(" AND id > ").push_bind(after.as_str().to_owned());
    }
    q.push(" ORDER BY id LIMIT ")
        .push_bind(i64::from(search.limit));
    q
}

impl PostgresStore {
    /// PostgreSQL's plan for [`AdminStore::search_users`] with `search`, with sequential scans
    /// disabled (a test's small table would be scanned whatever the indexes): lets a test
    /// show that an index can answer the search.
    #[doc(hidden)]
    pub async fn explain_user_search(&self, search: &UserSearch) -> StoreResult<String> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut q = search_query("EXPLAIN SELECT id", search);
        let rows: Vec<(String,)> = q
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n"))
    }
}

#[async_trait]
impl AdminStore for PostgresStore {
    #[tracing::instrument(skip_all)]
    async fn search_users(&self, search: &UserSearch) -> StoreResult<Vec<UserRecord>> {
        let mut q = search_query(&format!("SELECT {USER_COLUMNS}"), search);
        let rows: Vec<UserRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(UserRecord::from).collect())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn count_live_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(user_id.as_str())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    #[tracing::instrument(skip_all)]
    async fn count_enabled_with_role(&self, role: &str) -> StoreResult<u64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = $1 AND disabled_at IS NULL")
                .bind(role)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn update_user(&self, id: &UserId, patch: &UserPatch) -> StoreResult<()> {
        let mut q = QueryBuilder::<Postgres>::new("UPDATE users SET ");
        push_patch(&mut q, patch);
        q.push(" WHERE id = ").push_bind(id.as_str());
        let done = q.build().execute(&self.pool).await.map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %erasure.user_id))]
    async fn erase_user(&self, erasure: &UserErasure) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // Sessions, their refresh tokens and one-time tokens go with the user (ON DELETE
        // CASCADE); audit events have no foreign key and stay.
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(erasure.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for to in &erasure.mail_to {
            sqlx::query("DELETE FROM mail_queue WHERE recipient = $1")
                .bind(to)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(mail) = &erasure.confirmation {
            insert_mail_query(mail, erasure.at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn search_audit(&self, search: &AuditSearch) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, kind, outcome, user_id, session_id, ip, user_agent, request_id, detail \
             FROM audit_events WHERE ($1::text IS NULL OR user_id = $1) \
             AND ($2::text IS NULL OR kind = $2) AND ($3::timestamptz IS NULL OR at >= $3) \
             AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(search.user.as_ref().map(UserId::as_str))
        .bind(&search.kind)
        .bind(search.since)
        .bind(&search.before)
        .bind(i64::from(search.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }
}
