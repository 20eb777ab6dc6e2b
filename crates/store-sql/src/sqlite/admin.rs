//! [`AdminStore`] for SQLite: user search, profile changes, erasure, the audit trail across
//! users.
//!
//! The prefix search is a range on `email_normalized` and `username_normalized`, each
//! answered by its unique index (SQLite's "MULTI-INDEX OR"); text compares byte-wise
//! (`BINARY`), as the range assumes.

use async_trait::async_trait;
use authgate_core::domain::{UserId, UserRecord};
use authgate_core::store::{
    AdminStore, AuditRecord, AuditSearch, StoreResult, UserErasure, UserPatch, UserSearch,
};
use authgate_core::StoreError;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};

use super::audit::AuditRow;
use super::mail::insert_mail;
use super::time::{opt_to_ms, to_ms};
use super::users::{UserRow, USER_COLUMNS};
use super::SqliteStore;
use crate::error::db_err;

/// The `SET` list of a patch, pushed onto `q` (which ends in `SET `).
fn push_patch<'a>(q: &mut QueryBuilder<'a, Sqlite>, patch: &'a UserPatch) {
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
                .push_bind_unseparated(to_ms(*at))
                .push_unseparated(")");
        }
        (Some(at), _) => {
            set.push("email_verified_at = ")
                .push_bind_unseparated(opt_to_ms(*at));
        }
        (None, _) => {}
    }
}

/// The query of [`AdminStore::search_users`] after `head` (`SELECT <columns>`, or an
/// `EXPLAIN` of it): a byte-wise prefix range on each unique, normalized name, so an index
/// answers it.
fn search_query<'a>(head: &str, search: &'a UserSearch) -> QueryBuilder<'a, Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(format!("{head} FROM users WHERE 1 = 1"));
    if let Some(prefix) = &search.prefix {
        let upper = UserSearch::prefix_upper_bound(prefix);
        q.push(" AND ((email_normalized >= ")
            .push_bind(prefix.clone())
            .push(" AND email_normalized < ")
            .push_bind(upper.clone())
            .push(") OR (username_normalized >= ")
            .push_bind(prefix.clone())
            .push(" AND username_normalized < ")
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

impl SqliteStore {
    /// SQLite's plan for [`AdminStore::search_users`] with `search` (`EXPLAIN QUERY PLAN`, one
    /// line per step): lets a test show that the search reads indexes, not the whole table.
    #[doc(hidden)]
    pub async fn explain_user_search(&self, search: &UserSearch) -> StoreResult<String> {
        let mut q = search_query("EXPLAIN QUERY PLAN SELECT id", search);
        let rows: Vec<(i64, i64, i64, String)> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n"))
    }
}

#[async_trait]
impl AdminStore for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn search_users(&self, search: &UserSearch) -> StoreResult<Vec<UserRecord>> {
        let mut q = search_query(&format!("SELECT {USER_COLUMNS}"), search);
        let rows: Vec<UserRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(UserRecord::try_from).collect()
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn count_live_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(user_id.as_str())
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    #[tracing::instrument(skip_all)]
    async fn count_enabled_with_role(&self, role: &str) -> StoreResult<u64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = ? AND disabled_at IS NULL")
                .bind(role)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn update_user(&self, id: &UserId, patch: &UserPatch) -> StoreResult<()> {
        let mut q = QueryBuilder::<Sqlite>::new("UPDATE users SET ");
        push_patch(&mut q, patch);
        q.push(" WHERE id = ").push_bind(id.as_str());
        let done = q.build().execute(self.writer()).await.map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %erasure.user_id))]
    async fn erase_user(&self, erasure: &UserErasure) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // Sessions, their refresh tokens and one-time tokens go with the user (ON DELETE
        // CASCADE); audit events have no foreign key and stay.
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(erasure.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for to in &erasure.mail_to {
            sqlx::query("DELETE FROM mail_queue WHERE recipient = ?")
                .bind(to)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(mail) = &erasure.confirmation {
            insert_mail(&mut tx, mail, to_ms(erasure.at)).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn search_audit(&self, search: &AuditSearch) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, kind, outcome, user_id, session_id, ip, user_agent, request_id, detail \
             FROM audit_events WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR kind = ?2) \
             AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR id < ?4) \
             ORDER BY id DESC LIMIT ?5",
        )
        .bind(search.user.as_ref().map(UserId::as_str))
        .bind(&search.kind)
        .bind(opt_to_ms(search.since))
        .bind(&search.before)
        .bind(i64::from(search.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(AuditRecord::try_from).collect()
    }
}
