//! Multi-document writes that must be all-or-nothing.
//!
//! Each such write is an [`Atomic`] unit: its steps run inside a transaction when the server
//! has them (replica set, sharded cluster), with the driver's usual retry rules for transient
//! errors; on a standalone server the same steps run without one, in an order chosen so that
//! an interruption leaves nothing dangerous, and a unit that decides to give up undoes its own
//! writes there.

use std::future::Future;
use std::time::{Duration, Instant};

use authgate_core::store::StoreResult;
use mongodb::error::{
    Error, Result, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::ClientSession;

use crate::error::db_err;
use crate::MongoStore;

/// How long a unit keeps retrying after transient transaction errors (write conflicts).
const RETRY_FOR: Duration = Duration::from_secs(30);

/// The MaxTimeMSExpired error code: a commit that timed out must not be retried blindly.
const MAX_TIME_MS_EXPIRED: i32 = 50;

/// Runs a driver action in the unit's session, if it has one.
///
/// `$session` is the unit's `Option<&mut ClientSession>` (declared `mut`).
macro_rules! in_session {
    ($action:expr, $session:ident) => {
        match $session.as_deref_mut() {
            Some(s) => $action.session(s),
            None => $action,
        }
    };
}
pub(crate) use in_session;

/// What a unit decided.
pub(crate) enum Done<T> {
    /// Keep every write and answer `T`.
    Commit(T),
    /// Keep no write (the transaction is aborted; without one the unit has undone its writes)
    /// and answer this.
    Abort(StoreResult<T>),
}

/// A group of writes that must happen together or not at all.
pub(crate) trait Atomic: Sync {
    /// The unit's answer.
    type Output: Send;

    /// Performs the writes, each in `session` when there is one (see [`in_session!`]). Without
    /// a session, a unit that returns [`Done::Abort`] must first undo what it wrote.
    fn run(
        &self,
        store: &MongoStore,
        session: Option<&mut ClientSession>,
    ) -> impl Future<Output = Result<Done<Self::Output>>> + Send;
}

impl MongoStore {
    /// Runs `unit` as one transaction when the server supports them, directly otherwise.
    pub(crate) async fn atomically<A: Atomic>(&self, unit: &A) -> StoreResult<A::Output> {
        if !self.transactional() {
            return match unit.run(self, None).await.map_err(db_err)? {
                Done::Commit(out) => Ok(out),
                Done::Abort(answer) => answer,
            };
        }
        let mut session = self.client.start_session().await.map_err(db_err)?;
        let deadline = Instant::now() + RETRY_FOR;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            session.start_transaction().await.map_err(db_err)?;
            let error = match unit.run(self, Some(&mut session)).await {
                Ok(Done::Commit(out)) => match commit(&mut session, deadline).await {
                    Ok(()) => return Ok(out),
                    Err(e) => e,
                },
                Ok(Done::Abort(answer)) => {
                    abort(&mut session).await;
                    return answer;
                }
                Err(e) => {
                    abort(&mut session).await;
                    e
                }
            };
            if !error.contains_label(TRANSIENT_TRANSACTION_ERROR) || Instant::now() >= deadline {
                return Err(db_err(error));
            }
            tracing::debug!(attempt, "transient transaction error; retrying");
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
}

/// Commits, retrying while the outcome is unknown (a network error during the commit).
async fn commit(session: &mut ClientSession, deadline: Instant) -> Result<()> {
    loop {
        match session.commit_transaction().await {
            Err(e)
                if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                    && !is_max_time_expired(&e)
                    && Instant::now() < deadline => {}
            other => return other,
        }
    }
}

/// Aborts the open transaction; a failure only means the server already dropped it.
async fn abort(session: &mut ClientSession) {
    if let Err(e) = session.abort_transaction().await {
        tracing::debug!(error = %e, "aborting a transaction failed");
    }
}

fn is_max_time_expired(e: &Error) -> bool {
    matches!(&*e.kind, mongodb::error::ErrorKind::Command(c) if c.code == MAX_TIME_MS_EXPIRED)
}

/// A short, growing pause between attempts, so conflicting writers spread out.
fn backoff(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(u64::from(attempt.min(10)) * 5 + u64::from(nanos % 5))
}
