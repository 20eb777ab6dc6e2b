//! The contract suite through the transaction path of the multi-document writes (commit,
//! abort, retry in `atomic.rs`), forced on with `connect_with_transactions_forced`: on a
//! standalone test server (nx-27017) the store would otherwise never start a transaction.
//!
//! nx-27017 accepts transactions but does not isolate them (one caller's abort can undo
//! another's committed writes: the 20-way rotation race loses the winner's successor token),
//! so only the cases that do not race run here: they check that the transactional code paths
//! give the contract's answers, not that transactions isolate. Against
//! `AUTHGATE_TEST_MONGODB_URL` naming a replica set the forcing changes nothing.

use authgate_store_mongo::testing::{self, TestDatabase};
use authgate_store_tests::Fixture;

const SUITE: &str = "mongodb contract suite (transactions forced)";

/// A store on a fresh database that uses transactions; the database lives with the fixture.
async fn fixture(db: TestDatabase) -> Fixture {
    let store = db
        .connect_with_transactions_forced()
        .await
        .expect("connecting to the test MongoDB server");
    assert!(store.transactional());
    Fixture::with_guard(store, db)
}

authgate_store_tests::sequential_contract_tests!(match testing::fresh_database(SUITE) {
    Some(db) => fixture(db),
    None => return,
});
