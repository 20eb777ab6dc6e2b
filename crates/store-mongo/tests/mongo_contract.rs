//! The store contract suite against MongoDB, each case on a database of its own on the test
//! server (`AUTHGATE_TEST_MONGODB_URL`, else a local nx-27017: see
//! `authgate_store_mongo::testing`), plus MongoDB-specific checks.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use authgate_core::store::UserStore;
use authgate_core::{Store, StoreError};
use authgate_store_mongo::testing::{self, TestDatabase};
use authgate_store_mongo::MongoStore;
use authgate_store_tests::{helpers, Fixture};
use mongodb::bson::{doc, Document};
use mongodb::IndexModel;

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
        .find_one(doc! { "_id": &user.user.id.0 })
        .await
        .unwrap()
        .expect("stored");
    assert!(!stored.contains_key("email_normalized"), "{stored:?}");
    assert_eq!(
        stored.get_str("username_normalized").ok(),
        user.username_normalized.as_deref()
    );
}
