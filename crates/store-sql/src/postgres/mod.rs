//! [`PostgresStore`]: the PostgreSQL backend, for several instances sharing one database.
//!
//! Concurrency rests on PostgreSQL itself, never on a read followed by a write:
//! - email and username uniqueness are unique indexes on the normalized columns, so two
//!   registrations racing for one address cannot both commit;
//! - refresh rotation, one-time-token consumption and session creation are each a single
//!   guarded statement (`UPDATE ... WHERE <still valid> RETURNING`, chained in data-modifying
//!   CTEs): of concurrent callers, the first takes the row lock and every later one re-checks
//!   the guard against the committed row (READ COMMITTED re-evaluation) and matches nothing;
//! - mail workers claim with `FOR UPDATE SKIP LOCKED`, so they split the queue without waiting
//!   on each other.
//!
//! Migrations run under a PostgreSQL advisory lock, so instances starting together take
//! turns (see [`Store::migrate`] below for exactly what is relied on).

mod admin;
mod audit;
mod housekeeping;
mod invalidate;
mod keys;
mod limits;
mod mail;
mod sessions;
mod tokens;
mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::domain::NewUser;
use authgate_core::store::{NewSession, PoolUsage, Store, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::error::{db_err, migrate_err};
use crate::tx::begin_detached;

/// How long a caller waits for a pooled connection (including opening a new one) before the
/// store answers `Unavailable`: a dead or unreachable server fails fast instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The name the server shows for our connections (`pg_stat_activity.application_name`).
const APPLICATION_NAME: &str = "authgate";

/// The schema migrations, embedded at compile time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Tuning for [`PostgresStore::connect_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Most connections this instance opens. Every instance has its own pool, so the sum over
    /// instances must stay below the server's `max_connections`.
    pub max_connections: u32,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 10,
        }
    }
}

/// The PostgreSQL backend of every store trait.
///
/// ```no_run
/// # async fn demo() -> Result<(), authgate_core::StoreError> {
/// use authgate_core::Store;
/// use authgate_store_sql::{PostgresOptions, PostgresStore};
/// let url = "postgres://authgate:secret@localhost/authgate";
/// let store = PostgresStore::connect_with(url, PostgresOptions { max_connections: 20 }).await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=...`) with
    /// [`PostgresOptions::default`].
    ///
    /// TLS is rustls (ring provider) and follows libpq's parameters: `sslmode=disable`,
    /// `prefer` (the default: TLS when the server offers it, certificate unchecked),
    /// `require` (TLS or fail, certificate unchecked), `verify-ca` and `verify-full` (the
    /// certificate must chain to the system trust store or to `sslrootcert=<PEM file>`;
    /// `verify-full` also checks the host name).
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects to `url` with the given options. One connection is opened at once, so a wrong
    /// address or password is reported here; an unreachable server is
    /// [`StoreError::Unavailable`](authgate_core::StoreError::Unavailable) within about 5 s.
    #[tracing::instrument(skip_all, fields(max_connections = options.max_connections))]
    pub async fn connect_with(url: &str, options: PostgresOptions) -> StoreResult<PostgresStore> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(db_err)?
            .application_name(APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(connect)
            .await
            .map_err(db_err)?;
        Ok(PostgresStore { pool })
    }
}

impl PostgresStore {
    /// Begins a transaction (cancel-safe: see [`begin_detached`]).
    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        let pool = self.pool.clone();
        begin_detached(async move { pool.begin().await }).await
    }
}

#[async_trait]
impl Store for PostgresStore {
    /// Applies pending migrations. Safe when several instances start at once: sqlx 0.8's
    /// `Migrator` (with its default `locking = true`) takes the session-level advisory lock
    /// `pg_advisory_lock(<id derived from current_database()>)` before it creates
    /// `_sqlx_migrations` or reads the applied versions, and releases it when done; every
    /// migration runs in its own transaction together with its bookkeeping row. So the first
    /// instance applies the migrations while the others wait on the lock, then find them
    /// applied. The lock belongs to the connection's session and sqlx does not release it when
    /// a migration fails, so this connection is closed rather than returned to the pool: the
    /// lock dies with the session on every path (success, error, or a cancelled future).
    #[tracing::instrument(skip_all)]
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        conn.close_on_drop();
        MIGRATOR.run_direct(&mut *conn).await.map_err(migrate_err)
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    #[tracing::instrument(skip_all, fields(users = users.len(), sessions = sessions.len()))]
    async fn insert_in_bulk(&self, users: &[NewUser], sessions: &[NewSession]) -> StoreResult<()> {
        // One transaction of multi-row inserts, so a batch costs one commit (one fsync).
        let mut tx = self.begin().await?;
        for chunk in users.chunks(users::USERS_PER_INSERT) {
            let mut insert = users::insert_users_rows(chunk);
            insert.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        for chunk in sessions.chunks(sessions::SESSIONS_PER_INSERT) {
            let mut insert = sessions::insert_sessions_rows(chunk);
            insert.build().execute(&mut *tx).await.map_err(db_err)?;
            let mut insert = sessions::insert_first_tokens_rows(chunk);
            insert.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn find_refresh_token_with_owner(
        &self,
        hash: &authgate_core::secret::TokenHash,
    ) -> StoreResult<Option<authgate_core::store::RefreshTokenWithOwner>> {
        self.refresh_token_with_owner(hash).await
    }

    fn pool_usage(&self) -> Option<PoolUsage> {
        Some(PoolUsage {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        })
    }

    fn shared_limits(&self) -> Option<std::sync::Arc<dyn authgate_core::limits::SharedLimits>> {
        Some(self.limits())
    }

    fn invalidations(
        &self,
    ) -> Option<std::sync::Arc<dyn authgate_core::invalidation::Invalidations>> {
        Some(self.feed())
    }

    #[tracing::instrument(skip_all)]
    async fn claim_housekeeping(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        period: chrono::Duration,
    ) -> StoreResult<bool> {
        self.claim_prune(now, period).await
    }
}
