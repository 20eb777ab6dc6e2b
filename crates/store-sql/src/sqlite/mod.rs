//! [`SqliteStore`]: the embedded SQLite backend.
//!
//! One file, WAL journal, a small pool. SQLite has a single writer: single-statement writes
//! rely on `busy_timeout`, and every multi-statement write is a transaction opened with
//! `BEGIN IMMEDIATE`, which takes the write lock up front (waiting up to `busy_timeout`), so
//! two transactions can never deadlock by both trying to upgrade a read lock.

mod admin;
mod audit;
mod checkpoints;
mod housekeeping;
mod keys;
mod mail;
mod rotations;
mod sessions;
mod time;
mod tokens;
mod users;

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authgate_core::domain::NewUser;
use authgate_core::store::{NewSession, PoolUsage, Store, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::error::{db_err, is_sqlite_busy, migrate_err};
use crate::tx::begin_detached;
use checkpoints::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use rotations::RotationQueue;

/// How long a connection waits for the write lock before giving up with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema migrations, embedded at compile time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Tuning for [`SqliteStore::connect_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// `synchronous = FULL` instead of `NORMAL`. With WAL, `NORMAL` survives a crash or
    /// `kill -9` of the process; `FULL` also survives power loss, at the cost of an fsync
    /// per commit.
    pub synchronous_full: bool,
    /// Pool size. In WAL mode readers run in parallel while one writer writes. An in-memory
    /// database always uses a single connection.
    pub max_connections: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous_full: false,
            max_connections: 8,
        }
    }
}

/// The SQLite backend of every store trait.
///
/// ```no_run
/// # async fn demo() -> Result<(), authgate_core::StoreError> {
/// use authgate_core::Store;
/// use authgate_store_sql::SqliteStore;
/// let store = SqliteStore::connect("sqlite://authgate.db").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
///
/// Reads use a pool of connections (WAL lets them run beside a writer); every write goes
/// through a second pool of exactly one connection. SQLite admits one writer at a time, and
/// writers on separate connections would wait for each other inside SQLite's busy handler,
/// which sleeps for milliseconds at a time; queueing them for the one writer connection
/// instead hands the lock over as soon as it is free. A third connection checkpoints the
/// write-ahead log, so the writer does not (see `checkpoints`).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// `None` for an in-memory database, whose one connection does everything.
    writer: Option<SqlitePool>,
    /// Refresh-token rotations, committed in groups through the writer.
    rotations: RotationQueue,
    /// WAL checkpoints, off the writer; `None` for an in-memory database (no log).
    _checkpoints: Option<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path/to/file.db` or
    /// `sqlite::memory:`) with [`SqliteOptions::default`].
    pub async fn connect(url: &str) -> StoreResult<SqliteStore> {
        Self::connect_with(url, SqliteOptions::default()).await
    }

    /// Opens (creating if missing) the database at `url` with the given options: WAL journal,
    /// foreign keys on, a 5 s busy timeout.
    #[tracing::instrument(skip_all, fields(synchronous_full = options.synchronous_full))]
    pub async fn connect_with(url: &str, options: SqliteOptions) -> StoreResult<SqliteStore> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let synchronous = if options.synchronous_full {
            SqliteSynchronous::Full
        } else {
            SqliteSynchronous::Normal
        };
        let mut connect = SqliteConnectOptions::from_str(url)
            .map_err(db_err)?
            .create_if_missing(true)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if !in_memory {
            connect = connect.journal_mode(SqliteJournalMode::Wal);
        }
        // An in-memory database lives as long as its one connection: keep it open forever.
        // (Several connections would share it through SQLite's shared cache, whose table
        // locks fail at once with SQLITE_LOCKED instead of waiting.)
        if in_memory {
            let pool = pool_options(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            let pool = open(pool, &connect).await?;
            let rotations = RotationQueue::start(pool.clone());
            return Ok(SqliteStore {
                pool,
                writer: None,
                rotations,
                _checkpoints: None,
            });
        }
        let readers = pool_options(options.max_connections.max(1));
        let pool = open(readers, &connect).await?;
        let writer_connect = connect
            .clone()
            .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string());
        let writer = open(pool_options(1), &writer_connect).await?;
        let checkpoints = Checkpointer::start(open(pool_options(1), &connect).await?);
        let rotations = RotationQueue::start(writer.clone());
        Ok(SqliteStore {
            pool,
            writer: Some(writer),
            rotations,
            _checkpoints: Some(checkpoints),
        })
    }

    /// The pool every write goes through.
    fn writer(&self) -> &SqlitePool {
        self.writer.as_ref().unwrap_or(&self.pool)
    }

    /// Opens a write transaction holding SQLite's write lock from its first statement
    /// (cancel-safe: see [`begin_detached`]).
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        let writer = self.writer().clone();
        begin_detached(async move { writer.begin_with("BEGIN IMMEDIATE").await }).await
    }
}

/// Pool settings shared by the reader and writer pools. No ping before each use: the
/// database is a local file, a connection to it cannot go stale the way a network one can,
/// and the ping would cost a round trip to the connection's thread on every query.
fn pool_options(max_connections: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .test_before_acquire(false)
}

/// Connects a pool. Opening a new file switches it to WAL, which needs a moment of exclusive
/// access; a second process doing the same at that instant is told "busy" at once, so retry.
async fn open(
    options: SqlitePoolOptions,
    connect: &SqliteConnectOptions,
) -> StoreResult<SqlitePool> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match options.clone().connect_with(connect.clone()).await {
            Ok(pool) => return Ok(pool),
            Err(e) if is_sqlite_busy(&e) && Instant::now() < deadline => {
                tracing::debug!("database busy while opening; retrying");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(db_err(e)),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn migrate(&self) -> StoreResult<()> {
        // Under the write lock from the first statement, so instances starting together take
        // turns: the first applies the migrations, the others find them applied.
        let mut tx = self.begin_write().await?;
        MIGRATOR.run_direct(&mut *tx).await.map_err(migrate_err)?;
        tx.commit().await.map_err(db_err)
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
        "sqlite"
    }

    #[tracing::instrument(skip_all, fields(users = users.len(), sessions = sessions.len()))]
    async fn insert_in_bulk(&self, users: &[NewUser], sessions: &[NewSession]) -> StoreResult<()> {
        // One write transaction of multi-row inserts: the statements `insert_user` and
        // `create_session` run, many rows at a time.
        let mut tx = self.begin_write().await?;
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

    #[tracing::instrument(skip_all)]
    async fn claim_housekeeping(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        period: chrono::Duration,
    ) -> StoreResult<bool> {
        self.claim_prune(now, period).await
    }

    async fn find_refresh_token_with_owner(
        &self,
        hash: &authgate_core::secret::TokenHash,
    ) -> StoreResult<Option<authgate_core::store::RefreshTokenWithOwner>> {
        self.refresh_token_with_owner(hash).await
    }

    fn pool_usage(&self) -> Option<PoolUsage> {
        let (mut open, mut idle, mut max) = (0, 0, 0);
        for pool in std::iter::once(&self.pool).chain(&self.writer) {
            open += pool.size();
            idle += u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            max += pool.options().get_max_connections();
        }
        Some(PoolUsage { open, idle, max })
    }
}
