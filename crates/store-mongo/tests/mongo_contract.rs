//! The store contract suite against MongoDB, each case on a database of its own on the test
//! server (`AUTHGATE_TEST_MONGODB_URL`, else a local nx-27017: see
//! `authgate_store_mongo::testing`), plus MongoDB-specific checks.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authgate_core::store::{SessionStore, UserStore};
use authgate_core::{Store, StoreError};
use authgate_store_mongo::testing::{self, TestDatabase};
use authgate_store_mongo::{MongoOptions, MongoStore};
use authgate_store_tests::{helpers, Fixture};
use mongodb::bson::{doc, Document};
use mongodb::IndexModel;
use tokio::sync::Barrier;

const SUITE: &str = "mongodb contract suite";

/// A store on a fresh database; the database lives (and is dropped) with the fixture.
async fn fixture(db: TestDatabase) -> Fixture {
    let store = db
        .connect()
        .await
        .expect("connecting to the test MongoDB server");
    Fixture::with_guard(store, db)
}

authgate_store_tests::store_contract_tests!(match testing::fresh_database(SUITE) {
    Some(db) => fixture(db),
    None => return,
});

/// A migrated store on `db`.
async fn migrated(db: &TestDatabase) -> MongoStore {
    let store = db.connect().await.expect("connecting");
    store.migrate().await.expect("migrating");
    store
}

/// The indexes of `collection`.
async fn indexes(store: &MongoStore, collection: &str) -> Vec<IndexModel> {
    let mut cursor = store
        .database()
        .collection::<Document>(collection)
        .list_indexes()
        .await
        .expect("listing indexes");
    let mut out = Vec::new();
    while cursor.advance().await.expect("reading indexes") {
        out.push(cursor.deserialize_current().expect("an index"));
    }
    out
}

/// The index of `collection` whose only key is `field`.
async fn index_on(store: &MongoStore, collection: &str, field: &str) -> IndexModel {
    indexes(store, collection)
        .await
        .into_iter()
        .find(|i| i.keys.len() == 1 && i.keys.contains_key(field))
        .unwrap_or_else(|| panic!("no index on {collection}.{field}"))
}

#[tokio::test]
async fn a_dead_server_is_unavailable_once_server_selection_times_out() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("mongodb://127.0.0.1:{port}/authgate?serverSelectionTimeoutMS=300");
    let started = Instant::now();
    let err = MongoStore::connect(&url)
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_database_is_named_by_the_url_path_and_defaults_to_authgate() {
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    let store = db.connect().await.unwrap();
    assert_eq!(store.database_name(), db.name());
    assert_eq!(store.backend_name(), "mongodb");

    let without_path = db.url().replacen(&format!("/{}", db.name()), "/", 1);
    let store = MongoStore::connect(&without_path).await.unwrap();
    assert_eq!(store.database_name(), "authgate");
}

#[tokio::test]
async fn migrate_creates_unique_and_expiry_indexes() {
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    let store = migrated(&db).await;
    for field in ["email_normalized", "username_normalized"] {
        let index = index_on(&store, "users", field).await;
        let unique = index.options.and_then(|o| o.unique);
        assert_eq!(unique, Some(true), "users.{field} is unique");
    }
    let week = Duration::from_secs(7 * 24 * 3600);
    for (collection, ttl) in [
        ("sessions", week),
        ("refresh_tokens", week),
        ("one_time_tokens", Duration::ZERO),
    ] {
        let index = index_on(&store, collection, "expires_at").await;
        let expire_after = index.options.and_then(|o| o.expire_after);
        assert_eq!(expire_after, Some(ttl), "{collection} expires");
    }
    index_on(&store, "mail_queue", "next_attempt_at").await;
    index_on(&store, "refresh_tokens", "session_id").await;
}

#[tokio::test]
async fn accounts_without_email_or_username_store_no_normalized_value() {
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    let store = migrated(&db).await;
    let user = helpers::user_with(None, Some(&format!("solo_{}", helpers::unique())));
    store.insert_user(&user).await.unwrap();
    let stored = store
        .database()
        .collection::<Document>("users")
        .find_one(doc! { "_id": user.user.id.as_str() })
        .await
        .unwrap()
        .expect("stored");
    assert!(!stored.contains_key("email_normalized"), "{stored:?}");
    assert_eq!(
        stored.get_str("username_normalized").ok(),
        user.username_normalized.as_deref()
    );
}

#[tokio::test]
async fn pruning_sessions_also_deletes_their_refresh_token_documents() {
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    let store = migrated(&db).await;
    let user = helpers::insert_user(&store).await;
    let t = helpers::now();
    let day = chrono::Duration::days(1);
    let (dead, _) = helpers::open_session(&store, &user, t - day * 3, day).await;
    let (live, _) = helpers::open_session(&store, &user, t, day * 30).await;
    let tokens = store.database().collection::<Document>("refresh_tokens");
    let count = |session: String| {
        let tokens = tokens.clone();
        async move {
            tokens
                .count_documents(doc! { "session_id": session })
                .await
                .expect("counting refresh tokens")
        }
    };
    assert_eq!(count(dead.as_str().to_owned()).await, 1, "before pruning");

    assert_eq!(store.prune_sessions(t - day).await.unwrap(), 1);
    assert_eq!(
        count(dead.as_str().to_owned()).await,
        0,
        "the pruned session's tokens are gone"
    );
    assert_eq!(
        count(live.as_str().to_owned()).await,
        1,
        "the live session's token stays"
    );
}

/// The key fields of each index per collection after `migrate()`, besides `_id` (by keys, not
/// names: nx-27017 names indexes its own way).
const EXPECTED_INDEXES: &[(&str, &[&str])] = &[
    ("users", &["email_normalized", "username_normalized"]),
    (
        "sessions",
        &["user_id,created_at", "revoked_at", "expires_at"],
    ),
    ("refresh_tokens", &["session_id", "expires_at"]),
    ("one_time_tokens", &["user_id,purpose", "expires_at"]),
    ("mail_queue", &["next_attempt_at", "to"]),
    ("audit_events", &["user_id", "at", "kind"]),
];

/// The key fields of every index of `collection` but the one on `_id`, as `a,b`.
async fn index_keys(store: &MongoStore, collection: &str) -> Vec<String> {
    indexes(store, collection)
        .await
        .into_iter()
        .map(|i| i.keys.keys().cloned().collect::<Vec<_>>().join(","))
        .filter(|keys| keys != "_id")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_migrating_one_fresh_database_at_once_all_succeed() {
    const INSTANCES: usize = 5;
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    let mut stores = Vec::with_capacity(INSTANCES);
    for _ in 0..INSTANCES {
        stores.push(db.connect().await.expect("connecting an instance"));
    }
    let barrier = Arc::new(Barrier::new(INSTANCES));
    let handles: Vec<_> = stores
        .iter()
        .cloned()
        .map(|store| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.migrate().await
            })
        })
        .collect();
    for handle in handles {
        let migrated = handle.await.expect("a migrating instance panicked");
        assert!(migrated.is_ok(), "got {migrated:?}");
    }

    for (collection, expected) in EXPECTED_INDEXES {
        let keys = index_keys(&stores[0], collection).await;
        let distinct: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        assert_eq!(distinct.len(), keys.len(), "{collection}: {keys:?}");
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(distinct, expected, "{collection}");
    }
    let user = helpers::new_user();
    stores[1].insert_user(&user).await.expect("usable after");
    let twin = helpers::user_with(user.user.email.as_deref(), Some("someone_else"));
    let conflict = stores[2].insert_user(&twin).await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict { field: "email" })),
        "the unique index works: {conflict:?}"
    );
}

#[tokio::test]
async fn a_store_on_a_standalone_server_reports_transactions_off() {
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    if !db.is_local() {
        // An external server may well be a replica set.
        return;
    }
    let store = db.connect().await.unwrap();
    assert!(!store.transactional(), "nx-27017 is a standalone server");
    assert!(format!("{store:?}").contains("transactional: false"));
}

#[tokio::test]
async fn the_pool_size_option_applies_unless_the_url_sets_max_pool_size() {
    let Some(db) = testing::fresh_database(SUITE) else {
        return;
    };
    let three = MongoOptions {
        max_pool_size: Some(3),
    };
    let store = MongoStore::connect_with(db.url(), three).await.unwrap();
    assert_eq!(store.max_pool_size(), 3);

    let separator = if db.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}maxPoolSize=7", db.url());
    let store = MongoStore::connect_with(&url, three).await.unwrap();
    assert_eq!(store.max_pool_size(), 7, "the URL wins");

    let store = db.connect().await.unwrap();
    assert_eq!(store.max_pool_size(), 10, "the driver's default");
}
