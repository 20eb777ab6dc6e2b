//! What the SQLite file looks like on disk: write-ahead logging, as readers and the one
//! writer need to run side by side, checkpointed into the file by a task of its own.

use std::time::{Duration, Instant};

use authgate_core::store::{AuditRecord, AuditStore};
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

/// `n` audit events of about 2 KiB each.
fn bulky_events(n: usize) -> Vec<AuditRecord> {
    (0..n)
        .map(|_| AuditRecord {
            id: authgate_core::domain::UserId::new().into_string(),
            at: chrono::Utc::now(),
            kind: "login_succeeded".into(),
            outcome: "success".into(),
            user_id: None,
            session_id: None,
            ip: None,
            user_agent: None,
            request_id: None,
            detail: Some("x".repeat(2048)),
        })
        .collect()
}

#[tokio::test]
async fn committed_pages_reach_the_database_file_within_two_seconds_without_a_checkpoint_by_the_writer(
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authgate.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening the file");
    store.migrate().await.expect("migrating");
    let before = std::fs::metadata(&path).unwrap().len();

    // About 4 MiB in the log: under the writer's own checkpoint threshold (40 MiB), so only
    // the checkpoint task can move it into the file.
    for batch in bulky_events(2_000).chunks(100) {
        store.record_audit_batch(batch).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut size = std::fs::metadata(&path).unwrap().len();
    while size < before + 4_000_000 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        size = std::fs::metadata(&path).unwrap().len();
    }

    assert!(
        size >= before + 4_000_000,
        "the database file grew from {before} to only {size} bytes"
    );
}
