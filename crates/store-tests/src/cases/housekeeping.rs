//! The housekeeping lease: one claim per period among the instances sharing a store.

use std::sync::Arc;

use authgate_core::Store;
use chrono::Duration;

use crate::helpers::{now, race};

/// Claimed at once on a fresh store, not again within the period, again once it has passed.
pub async fn the_housekeeping_is_claimed_once_per_period(store: Arc<dyn Store>) {
    let t = now();
    let hour = Duration::hours(1);

    assert!(
        store.claim_housekeeping(t, hour).await.unwrap(),
        "first claim"
    );
    let early = t + Duration::minutes(59);
    assert!(
        !store.claim_housekeeping(early, hour).await.unwrap(),
        "within the hour"
    );
    assert!(
        store.claim_housekeeping(t + hour, hour).await.unwrap(),
        "the next hour"
    );
    let soon = t + hour + Duration::minutes(1);
    assert!(
        !store.claim_housekeeping(soon, hour).await.unwrap(),
        "within the next"
    );
}

/// Instances asking at the same moment, on a fresh store and then when the period is due:
/// one winner each time.
pub async fn concurrent_housekeeping_claims_have_exactly_one_winner(store: Arc<dyn Store>) {
    let t = now();
    let hour = Duration::hours(1);
    for at in [t, t + hour] {
        let claims = race(&store, 8, |store, _| async move {
            store.claim_housekeeping(at, hour).await.unwrap()
        })
        .await;
        let winners = claims.iter().filter(|won| **won).count();
        assert_eq!(winners, 1, "at {at}: {claims:?}");
    }
}
