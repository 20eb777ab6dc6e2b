//! The store contract suite against SQLite: each case on its own database file in a fresh
//! temporary directory (WAL and all, as in production), plus SQLite-specific checks.

use authgate_core::store::UserStore;
use authgate_core::Store;
use authgate_store_sql::{SqliteOptions, SqliteStore};
use authgate_store_tests::Fixture;

/// A fresh SQLite file store; the directory lives as long as the fixture.
async fn file_store() -> Fixture {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("authgate.db").display());
    let store = SqliteStore::connect(&url)
        .await
        .expect("opening the SQLite file");
    Fixture::with_guard(store, dir)
}

authgate_store_tests::store_contract_tests!(file_store());
authgate_store_tests::bulk_transaction_contract_tests!(file_store());

/// The same suite on an in-memory database (a single connection).
mod in_memory {
    use super::*;

    authgate_store_tests::store_contract_tests!(async {
        Fixture::new(
            SqliteStore::connect("sqlite::memory:")
                .await
                .expect("opening an in-memory database"),
        )
    });
}

#[tokio::test]
async fn connect_creates_a_missing_database_file_and_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let url = format!("sqlite://{}", path.display());
    let options = SqliteOptions {
        synchronous_full: true,
        max_connections: 2,
    };
    let store = SqliteStore::connect_with(&url, options).await.unwrap();
    assert!(path.exists(), "the file is created");
    store.migrate().await.unwrap();
    let id = authgate_store_tests::helpers::insert_user(&store).await;
    drop(store);

    let reopened = SqliteStore::connect(&url).await.unwrap();
    reopened.migrate().await.unwrap();
    assert!(reopened.find_user_by_id(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn an_unopenable_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("missing-dir").join("x.db").display()
    );
    assert!(SqliteStore::connect(&url).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_migrating_one_new_file_at_once_both_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("shared.db").display());
        let (a, b) = tokio::join!(SqliteStore::connect(&url), SqliteStore::connect(&url));
        let (a, b) = (a.unwrap(), b.unwrap());
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.expect("first instance migrates");
        rb.expect("second instance migrates");
    }
}
