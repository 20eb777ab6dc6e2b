//! The housekeeping lease for MongoDB: a document per job (`_id`, `next_run_at`). A due
//! document is moved a period forward by one guarded `find_one_and_update`; when there is
//! none yet, the first insert of its `_id` wins and the others hit the duplicate key. Either
//! way one caller per period gets the claim, on any server (no transaction).

use authgate_core::store::StoreResult;
use chrono::{DateTime, Duration, Utc};
use mongodb::bson::doc;

use crate::codec::date;
use crate::collections::HOUSEKEEPING;
use crate::error::{db_err, is_duplicate_key};
use crate::MongoStore;

/// The one job the lease covers today: deleting expired state.
const PRUNE: &str = "prune";

impl MongoStore {
    /// `true` when this call claimed the pruning of the period starting at `now`.
    pub(crate) async fn claim_prune(
        &self,
        now: DateTime<Utc>,
        period: Duration,
    ) -> StoreResult<bool> {
        let jobs = self.collection(HOUSEKEEPING);
        let next = date(now + period);
        let moved = jobs
            .find_one_and_update(
                doc! { "_id": PRUNE, "next_run_at": { "$lte": date(now) } },
                doc! { "$set": { "next_run_at": next.clone() } },
            )
            .await
            .map_err(db_err)?;
        if moved.is_some() {
            return Ok(true);
        }
        match jobs
            .insert_one(doc! { "_id": PRUNE, "next_run_at": next })
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(db_err(e)),
        }
    }
}
