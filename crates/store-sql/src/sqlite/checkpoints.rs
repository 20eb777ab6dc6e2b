//! WAL checkpoints off the writer: a task of its own copies committed pages from the
//! write-ahead log back into the database file, on a connection of its own, so the one
//! writer's commits do not stop for it.
//!
//! SQLite's default is that the connection whose commit takes the log past 1,000 pages runs
//! the checkpoint itself, inside that commit: it writes every page changed since the last
//! one into the database file and syncs the file. On a big store every refresh changes pages
//! scattered over large b-trees (a refresh token's hash is random), so a checkpoint writes
//! hundreds of pages, and while the writer does that every queued rotation, login and audit
//! batch waits behind it. Here this task runs a `PASSIVE` checkpoint (it never waits for
//! readers or the writer) every [`INTERVAL`], and the writer checkpoints only when the log has
//! grown to [`WRITER_CHECKPOINT_PAGES`]: under steady writes the log keeps getting frames
//! behind each of the task's checkpoints, so SQLite cannot start it afresh until then, but by
//! that time the task has already copied nearly all of it and the writer's checkpoint is
//! short. Durability is unchanged: a commit is durable once it is in the log, and the
//! checkpoint only moves it.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::mpsc;

/// The writer's own `wal_autocheckpoint` (pages): ten times SQLite's default, a backstop.
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 10_000;

/// How often the task checkpoints.
const INTERVAL: Duration = Duration::from_millis(200);

/// Keeps the checkpoint task running; it stops when the last handle (and so the last clone of
/// the store) is dropped.
#[derive(Debug, Clone)]
pub(super) struct Checkpointer {
    _alive: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database of `connection` (a pool of one connection).
    pub(super) fn start(connection: SqlitePool) -> Checkpointer {
        let (alive, mut gone) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    // Nothing is ever sent: `None` means every handle is gone.
                    _ = gone.recv() => break,
                    _ = tick.tick() => checkpoint(&connection).await,
                }
            }
            connection.close().await;
        });
        Checkpointer { _alive: alive }
    }
}

async fn checkpoint(connection: &SqlitePool) {
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(connection)
        .await
    {
        tracing::warn!(error = %e, "WAL checkpoint failed; the writer checkpoints as a backstop");
    }
}
