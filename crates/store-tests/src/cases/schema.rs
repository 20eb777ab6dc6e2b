//! Schema management and health.

use std::sync::Arc;

use authgate_core::Store;

use crate::helpers::insert_user;

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
