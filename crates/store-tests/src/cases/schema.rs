//! Schema management and health.

use std::sync::Arc;

use authgate_core::Store;

use crate::helpers::{insert_user, race};

/// Migrating an up-to-date store changes nothing and loses nothing.
pub async fn migrating_twice_is_harmless(store: Arc<dyn Store>) {
    let id = insert_user(&*store).await;
    store.migrate().await.expect("second migration");
    store.migrate().await.expect("third migration");
    assert!(store.find_user_by_id(&id).await.unwrap().is_some());
}

/// The health check answers, and the backend names itself.
pub async fn ping_succeeds_and_the_backend_has_a_name(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    assert!(["sqlite", "postgres", "mongodb"].contains(&store.backend_name()));
}

/// Instances starting together may all migrate at once: every one succeeds.
pub async fn concurrent_migrations_all_succeed(store: Arc<dyn Store>) {
    let results = race(&store, 4, |store, _| async move { store.migrate().await }).await;
    assert!(results.iter().all(Result::is_ok), "results: {results:?}");
    store.ping().await.expect("ping after migrating");
}
