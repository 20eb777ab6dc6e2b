//! The store contract suite against PostgreSQL: each case on its own fresh database.
//!
//! The server comes from `AUTHGATE_TEST_POSTGRES_URL`, or is a throwaway cluster started from
//! the installed binaries (see `authgate_store_sql::testing`). With neither, every case prints
//! `NOT RUN: postgres contract suite ...` and ends at once, or fails when
//! `AUTHGATE_TEST_REQUIRE_ALL` is set.

use authgate_store_sql::testing::TestDatabase;
use authgate_store_tests::Fixture;

/// A store on a fresh database, or `None` when no server can be had.
async fn postgres_fixture() -> Option<Fixture> {
    let db = TestDatabase::create("postgres contract suite").await?;
    let store = db.store().await;
    Some(Fixture::with_guard(store, db))
}

// The argument is a plain block, not an `async` block: its `return` leaves the test function
// itself, which is how a case is skipped without a server. Its value is a ready future, as the
// macro awaits the expression.
authgate_store_tests::store_contract_tests!({
    let Some(fixture) = postgres_fixture().await else {
        return;
    };
    std::future::ready(fixture)
});

authgate_store_tests::bulk_transaction_contract_tests!({
    let Some(fixture) = postgres_fixture().await else {
        return;
    };
    std::future::ready(fixture)
});
