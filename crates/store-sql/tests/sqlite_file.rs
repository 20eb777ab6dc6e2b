//! What the SQLite file looks like on disk: write-ahead logging, as readers and the one
//! writer need to run side by side.

use authgate_core::Store;
use authgate_store_sql::SqliteStore;
use sqlx::{Connection, SqliteConnection};

#[tokio::test]
async fn the_database_file_is_in_wal_mode_with_a_wal_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authgate.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&url).await.expect("opening the file");
    store.migrate().await.expect("migrating");

    let mut other = SqliteConnection::connect(&url)
        .await
        .expect("a second connection");
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut other)
        .await
        .unwrap();

    assert_eq!(mode.to_lowercase(), "wal");
    assert!(
        dir.path().join("authgate.db-wal").exists(),
        "no -wal file next to the database"
    );
    other.close().await.unwrap();
}

#[tokio::test]
async fn the_user_search_reads_the_email_and_username_indexes_not_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("authgate.db").display());
    let store = SqliteStore::connect(&url).await.expect("opening the file");
    store.migrate().await.expect("migrating");
    let search = authgate_core::store::UserSearch {
        prefix: Some("ada".into()),
        limit: 50,
        ..Default::default()
    };

    let plan = store.explain_user_search(&search).await.expect("a plan");

    assert!(
        plan.contains("(email_normalized>? AND email_normalized<?)"),
        "{plan}"
    );
    assert!(
        plan.contains("(username_normalized>? AND username_normalized<?)"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN users"), "{plan}");
}
