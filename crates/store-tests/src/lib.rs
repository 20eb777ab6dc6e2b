//! The store contract suite: every behaviour the core relies on, written once and run against
//! every backend: SQLite and PostgreSQL (`authgate-store-sql`'s `sqlite_contract` and
//! `postgres_contract` tests) and MongoDB (`authgate-store-mongo`'s `mongo_contract`).
//!
//! A backend crate instantiates the whole suite with [`store_contract_tests!`], giving it an
//! expression that yields a fresh store. The macro expands to one `#[tokio::test]` per case
//! (multi-threaded, so the concurrency cases really race), migrates the store, and runs the
//! case from [`cases`]:
//!
//! ```ignore
//! authgate_store_tests::store_contract_tests!(async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let url = format!("sqlite://{}", dir.path().join("auth.db").display());
//!     let store = SqliteStore::connect(&url).await.unwrap();
//!     authgate_store_tests::Fixture::with_guard(store, dir)
//! });
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.
//! Every case gets its own empty store, so cases may count rows (queued mail, sessions).
//! Times are whole milliseconds ([`helpers::now`]): the coarsest precision among backends.

#![warn(missing_docs)]

pub mod cases;
pub mod helpers;

use std::any::Any;
use std::sync::{Arc, Once};

use authgate_core::Store;

/// A store under test, with whatever must outlive it (a temporary directory, a container).
pub struct Fixture {
    /// The store every case talks to. Declared first, so it is dropped before the guard.
    pub store: Arc<dyn Store>,
    _guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Fixture {
    /// A store that needs nothing kept alive beside it.
    pub fn new(store: impl Store) -> Self {
        Fixture {
            store: Arc::new(store),
            _guard: None,
        }
    }

    /// A store with a guard dropped after it (e.g. the `TempDir` holding its file).
    pub fn with_guard(store: impl Store, guard: impl Any + Send + Sync) -> Self {
        Fixture {
            store: Arc::new(store),
            _guard: Some(Box::new(guard)),
        }
    }
}

impl From<Arc<dyn Store>> for Fixture {
    fn from(store: Arc<dyn Store>) -> Self {
        Fixture {
            store,
            _guard: None,
        }
    }
}

/// Sends `tracing` output to the test's stdout when `TEST_LOG` is set; silent otherwise.
pub fn init_test_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .init();
        }
    });
}

/// Expands to one `#[tokio::test]` per contract case. `$make` is an expression (typically an
/// `async` block) whose awaited value converts into a [`Fixture`]; it must yield a fresh,
/// empty store on every evaluation. The macro migrates it before running the case.
///
/// The cases are those of [`sequential_contract_tests!`] plus the races (concurrent
/// registrations, rotations, consumptions, mail claims and migrations).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::sequential_contract_tests!($make);
        $crate::__contract_cases! { $make;
            concurrent_registrations_of_one_email_have_exactly_one_winner,
            concurrent_registrations_of_one_username_have_exactly_one_winner,
            concurrent_rotations_of_one_token_have_exactly_one_winner,
            a_burst_of_rotations_over_many_sessions_rotates_each_token_once,
            concurrent_consumptions_of_one_token_have_exactly_one_winner,
            concurrent_claims_never_hand_out_one_mail_twice,
            concurrent_housekeeping_claims_have_exactly_one_winner,
            concurrent_migrations_all_succeed,
        }
    };
}

/// Like [`store_contract_tests!`] without the cases that race callers against each other:
/// for a store whose server runs transactions without isolating them (nx-27017 with
/// transactions forced on), where only answers, not isolation, can be checked.
#[macro_export]
macro_rules! sequential_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases! { $make;
            // users
            an_inserted_user_can_be_found_by_id_email_and_username,
            finding_an_unknown_user_returns_none,
            inserting_a_user_with_a_taken_email_in_other_case_is_a_conflict,
            inserting_a_user_with_a_taken_username_in_other_case_is_a_conflict,
            users_without_email_or_username_do_not_conflict,
            set_password_hash_replaces_the_hash,
            set_email_verified_marks_the_user_verified,
            set_disabled_disables_and_re_enables_the_user,
            updating_an_unknown_user_is_not_found,
            // bulk inserts
            a_bulk_insert_stores_every_user_with_its_sessions_and_first_tokens,
            a_bulk_insert_with_a_taken_email_is_a_conflict,
            // sessions
            create_session_records_the_login_time_on_the_user,
            create_session_for_an_unknown_user_is_not_found,
            find_refresh_token_returns_the_token_with_its_session_state,
            find_refresh_token_with_owner_returns_the_token_and_its_owner,
            rotating_the_current_token_succeeds_and_renews_the_session,
            rotation_is_refused_for_a_revoked_session,
            rotation_is_refused_for_an_expired_session,
            rotation_is_refused_when_the_token_belongs_to_another_session,
            live_session_owner_is_known_only_while_the_session_is_live,
            list_sessions_returns_only_the_users_live_sessions_newest_first,
            revoking_another_users_session_returns_false_and_leaves_it_live,
            revoking_a_session_works_once,
            revoke_all_sessions_revokes_every_live_session_of_the_user_only,
            revoke_other_sessions_leaves_only_the_kept_session_live,
            prune_sessions_deletes_dead_sessions_and_their_tokens_but_keeps_live_ones,
            // one-time tokens
            a_one_time_token_can_be_consumed_once,
            finding_a_one_time_token_does_not_use_it,
            an_unexpired_token_is_found_used_or_not_without_being_used,
            an_expired_superseded_or_unknown_token_is_not_found_unexpired,
            an_expired_one_time_token_cannot_be_consumed,
            a_one_time_token_cannot_be_consumed_for_another_purpose,
            a_superseding_token_invalidates_older_unused_tokens_of_that_purpose,
            tokens_created_without_supersede_stay_usable,
            invalidate_one_time_tokens_invalidates_unused_tokens_of_that_purpose,
            creating_a_one_time_token_queues_its_mail,
            // mail queue
            claimed_mail_is_not_claimed_again_before_its_lease_ends,
            claimed_mail_is_claimed_again_after_its_lease_ends_with_one_more_attempt,
            claim_due_mail_respects_the_limit_and_skips_mail_not_yet_due,
            mark_mail_sent_removes_the_mail_from_the_queue,
            mark_mail_failed_reschedules_the_mail,
            discard_mail_removes_a_mail_the_worker_gave_up_on,
            // signing keys
            signing_keys_are_listed_oldest_first,
            inserting_a_signing_key_with_a_taken_kid_is_a_conflict,
            retire_signing_keys_except_retires_only_older_unretired_keys,
            instances_starting_together_adopt_one_signing_key,
            // audit trail
            recorded_audit_events_are_listed_newest_first_for_that_user_only,
            audit_pages_with_before_have_no_overlap_and_no_gap,
            list_audit_respects_the_limit,
            audit_event_fields_round_trip,
            prune_audit_deletes_only_events_older_than_the_cutoff,
            an_audit_batch_stores_every_event,
            a_large_audit_batch_stores_every_event,
            // administration
            users_are_found_by_email_or_username_prefix_in_any_case,
            user_search_pages_by_id_with_no_overlap_and_no_gap,
            user_search_filters_by_role_and_disabled,
            count_live_sessions_counts_only_the_users_live_sessions,
            count_enabled_with_role_skips_disabled_accounts,
            update_user_writes_only_the_fields_it_names,
            update_user_can_change_the_email_address,
            update_user_to_a_taken_username_or_email_is_a_conflict,
            erasing_a_user_removes_sessions_tokens_and_mail_and_keeps_audit,
            erasing_an_unknown_user_returns_false_and_queues_nothing,
            audit_search_across_users_filters_and_pages,
            // housekeeping
            the_housekeeping_is_claimed_once_per_period,
            // schema and health
            migrating_twice_is_harmless,
            ping_succeeds_and_the_backend_has_a_name,
            // password replacement
            replace_password_changes_the_hash_revokes_sessions_kills_reset_links_and_queues_the_notice,
            replace_password_with_a_reset_token_spends_it_and_marks_the_email_verified,
            replace_password_with_a_dead_reset_token_writes_nothing,
            concurrent_replacements_with_one_reset_token_have_exactly_one_winner,
            replacing_the_password_of_an_unknown_user_is_not_found_and_queues_nothing,
        }
    };
}

/// The cases for a backend whose `Store::insert_in_bulk` is one transaction (SQLite and
/// PostgreSQL): a failing bulk insert leaves nothing behind.
#[macro_export]
macro_rules! bulk_transaction_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases! { $make;
            a_bulk_insert_that_conflicts_writes_none_of_its_batch,
        }
    };
}

/// Implementation detail of [`store_contract_tests!`]: one test function per case name.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                $crate::init_test_log();
                let fixture: $crate::Fixture = ($make).await.into();
                fixture.store.migrate().await.expect("migrating a fresh store");
                $crate::cases::$case(::std::sync::Arc::clone(&fixture.store)).await;
            }
        )*
    };
}
