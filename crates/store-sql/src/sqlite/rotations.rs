//! Refresh-token rotations by group commit: one task owns the queue of rotations waiting for
//! the writer and commits all that are queued in one transaction.
//!
//! Refresh is the busiest write, and SQLite has one writer: with a transaction per rotation
//! the writer spends most of its time beginning and committing (and the WAL gets a frame
//! per commit), not rotating. The queue changes nothing a caller can see: each rotation is
//! still decided by its own guarded update under the write lock, in arrival order, so of two
//! rotations of one token in one batch the second finds it rotated, exactly as it would in a
//! transaction of its own; and a caller hears "rotated" only after the batch's commit
//! returned, so no acknowledged rotation can be lost. Nobody waits for a batch to fill: the
//! task takes whatever queued while the previous batch was committing, so a lone refresh
//! commits at once.

use authgate_core::secret::TokenHash;
use authgate_core::store::{Rotation, StoreResult};
use authgate_core::StoreError;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::error::db_err;
use crate::tx::begin_detached;

/// The most rotations committed together. Bounds how long the write lock is held at once
/// (a few milliseconds), so other writes (logins, audit batches) keep their turn.
const MAX_BATCH: usize = 128;

/// The rotation as one round trip to the connection's thread: the guarded update decides,
/// and the two statements after it do something only when it changed a row (`changes()`
/// is the row count of the statement before). Rotated: 3 rows changed; not current: 0.
/// `?1` now, `?2` the old hash, `?3` the session, `?4` the new hash, `?5` the new expiry.
const ROTATE: &str = "\
UPDATE refresh_tokens SET rotated_at = ?1 \
 WHERE hash = ?2 AND session_id = ?3 AND rotated_at IS NULL \
 AND EXISTS (SELECT 1 FROM sessions WHERE id = ?3 AND revoked_at IS NULL AND expires_at > ?1); \
INSERT INTO refresh_tokens (hash, session_id, issued_at) SELECT ?4, ?3, ?1 WHERE changes() = 1; \
UPDATE sessions SET last_used_at = ?1, expires_at = ?5 WHERE id = ?3 AND changes() = 1";

/// One rotation, as [`authgate_core::store::SessionStore::rotate_refresh_token`] takes it
/// (times in milliseconds).
#[derive(Clone)]
pub(crate) struct RotationRequest {
    /// The session the token belongs to.
    pub session_id: String,
    /// The hash of the token being spent.
    pub old: TokenHash,
    /// The hash of its successor.
    pub new: TokenHash,
    /// The time of the rotation.
    pub now_ms: i64,
    /// The session's new expiry.
    pub expires_at_ms: i64,
}

struct Job {
    request: RotationRequest,
    answer: oneshot::Sender<StoreResult<Rotation>>,
}

/// The handle callers queue rotations on; the task behind it ends when every handle is gone.
#[derive(Debug, Clone)]
pub(crate) struct RotationQueue {
    jobs: mpsc::UnboundedSender<Job>,
}

impl RotationQueue {
    /// Starts the task that commits the rotations queued here through `writer`.
    pub(crate) fn start(writer: SqlitePool) -> RotationQueue {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(commit_batches(writer, queue));
        RotationQueue { jobs }
    }

    /// Queues `request` and waits until the batch it went into committed (or failed).
    pub(crate) async fn rotate(&self, request: RotationRequest) -> StoreResult<Rotation> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Job { request, answer })
            .map_err(|_| StoreError::Unavailable("the rotation queue has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Backend("the rotation queue dropped a rotation".into()))?
    }
}

/// Takes everything queued (up to [`MAX_BATCH`]) and commits it, until the queue closes.
async fn commit_batches(writer: SqlitePool, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let requests: Vec<RotationRequest> = batch.iter().map(|j| j.request.clone()).collect();
        match commit_together(&writer, &requests).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.answer.send(Ok(outcome));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(job) = batch.pop() {
                    let _ = job.answer.send(Err(e));
                }
            }
            // Nothing of the batch committed: each rotation gets a transaction of its own,
            // so one that cannot be written fails alone with its own error.
            Err(_) => {
                for job in batch.drain(..) {
                    let outcome = commit_together(&writer, std::slice::from_ref(&job.request))
                        .await
                        .map(|mut o| o.remove(0));
                    let _ = job.answer.send(outcome);
                }
            }
        }
    }
}

/// Runs `requests` in order in one write transaction and commits it.
async fn commit_together(
    writer: &SqlitePool,
    requests: &[RotationRequest],
) -> StoreResult<Vec<Rotation>> {
    let pool = writer.clone();
    let mut tx: Transaction<'static, Sqlite> =
        begin_detached(async move { pool.begin_with("BEGIN IMMEDIATE").await }).await?;
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in requests {
        outcomes.push(rotate_one(&mut tx, request).await?);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(outcomes)
}

async fn rotate_one(conn: &mut SqliteConnection, r: &RotationRequest) -> StoreResult<Rotation> {
    let done = sqlx::query(ROTATE)
        .bind(r.now_ms)
        .bind(&r.old.0[..])
        .bind(r.session_id.as_str())
        .bind(&r.new.0[..])
        .bind(r.expires_at_ms)
        .execute(conn)
        .await
        .map_err(db_err)?;
    match done.rows_affected() {
        3 => Ok(Rotation::Rotated),
        0 => Ok(Rotation::NotCurrent),
        n => Err(StoreError::Backend(format!(
            "a rotation changed {n} rows instead of 3 or none"
        ))),
    }
}
