//! Users: look-ups, case-insensitive uniqueness, updates.

use std::sync::Arc;

use authgate_core::domain::UserId;
use authgate_core::{Store, StoreError};
use chrono::Duration;

use crate::helpers::{insert_user, new_user, now, race, unique, user_with};

/// Every field written is read back, through each of the three look-ups.
pub async fn an_inserted_user_can_be_found_by_id_email_and_username(store: Arc<dyn Store>) {
    let mut new = new_user();
    new.user.last_login_at = Some(now() - Duration::minutes(5));
    store.insert_user(&new).await.unwrap();

    let by_id = store
        .find_user_by_id(&new.user.id)
        .await
        .unwrap()
        .expect("found by id");
    assert_eq!(by_id.user, new.user);
    assert_eq!(by_id.password_hash, new.password_hash);
    assert_eq!(by_id.disabled_at, None);

    let email = new.email_normalized.as_deref().unwrap();
    let by_email = store
        .find_user_by_email(email)
        .await
        .unwrap()
        .expect("found by email");
    assert_eq!(by_email.user, new.user);

    let username = new.username_normalized.as_deref().unwrap();
    let by_username = store
        .find_user_by_username(username)
        .await
        .unwrap()
        .expect("found by username");
    assert_eq!(by_username.user, new.user);
}

/// Unknown ids, emails and usernames are `None`, not errors.
pub async fn finding_an_unknown_user_returns_none(store: Arc<dyn Store>) {
    insert_user(&*store).await;
    assert!(store
        .find_user_by_id(&UserId::new())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find_user_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find_user_by_username("nobody")
        .await
        .unwrap()
        .is_none());
}

/// Uniqueness is on the normalized email: another spelling of a taken address conflicts.
pub async fn inserting_a_user_with_a_taken_email_in_other_case_is_a_conflict(
    store: Arc<dyn Store>,
) {
    let tag = unique();
    let first = user_with(Some(&format!("ada.{tag}@example.com")), None);
    store.insert_user(&first).await.unwrap();
    let second = user_with(
        Some(&format!("ADA.{tag}@Example.COM")),
        Some(&format!("other_{tag}")),
    );
    let err = store
        .insert_user(&second)
        .await
        .expect_err("the email is taken");
    assert!(
        matches!(err, StoreError::Conflict { field: "email" }),
        "got {err:?}"
    );
    assert!(
        store
            .find_user_by_id(&second.user.id)
            .await
            .unwrap()
            .is_none(),
        "nothing was inserted"
    );
}

/// Uniqueness is on the normalized username.
pub async fn inserting_a_user_with_a_taken_username_in_other_case_is_a_conflict(
    store: Arc<dyn Store>,
) {
    let tag = unique();
    let first = user_with(None, Some(&format!("ada_{tag}")));
    store.insert_user(&first).await.unwrap();
    let second = user_with(
        Some(&format!("b.{tag}@example.com")),
        Some(&format!("ADA_{tag}")),
    );
    let err = store
        .insert_user(&second)
        .await
        .expect_err("the username is taken");
    assert!(
        matches!(err, StoreError::Conflict { field: "username" }),
        "got {err:?}"
    );
    assert!(
        store
            .find_user_by_id(&second.user.id)
            .await
            .unwrap()
            .is_none(),
        "nothing was inserted"
    );
}

/// Missing emails and usernames are not values: many users may lack them.
pub async fn users_without_email_or_username_do_not_conflict(store: Arc<dyn Store>) {
    for _ in 0..2 {
        store
            .insert_user(&user_with(Some(&format!("{}@example.com", unique())), None))
            .await
            .unwrap();
        store
            .insert_user(&user_with(None, Some(&format!("user_{}", unique()))))
            .await
            .unwrap();
    }
}

/// Of 20 simultaneous registrations of one address, one succeeds and 19 conflict.
pub async fn concurrent_registrations_of_one_email_have_exactly_one_winner(store: Arc<dyn Store>) {
    let email = format!("race.{}@example.com", unique());
    let results = race(&store, 20, |store, i| {
        let user = user_with(Some(&email), Some(&format!("racer_{i}_{}", unique())));
        async move { store.insert_user(&user).await }
    })
    .await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { field: "email" })))
        .count();
    assert_eq!((wins, conflicts), (1, 19), "results: {results:?}");
    assert!(store.find_user_by_email(&email).await.unwrap().is_some());
}

/// Of 20 simultaneous registrations of one username (in different cases), one succeeds and
/// 19 conflict on the username.
pub async fn concurrent_registrations_of_one_username_have_exactly_one_winner(
    store: Arc<dyn Store>,
) {
    let username = format!("Racer_{}", unique());
    let results = race(&store, 20, |store, i| {
        let typed = if i % 2 == 0 {
            username.to_uppercase()
        } else {
            username.to_lowercase()
        };
        let email = format!("racer.{i}.{}@example.com", unique());
        let user = user_with(Some(&email), Some(&typed));
        async move { store.insert_user(&user).await }
    })
    .await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { field: "username" })))
        .count();
    assert_eq!((wins, conflicts), (1, 19), "results: {results:?}");
    let normalized = username.to_lowercase();
    assert!(store
        .find_user_by_username(&normalized)
        .await
        .unwrap()
        .is_some());
}

/// A new password hash replaces the old one.
pub async fn set_password_hash_replaces_the_hash(store: Arc<dyn Store>) {
    let id = insert_user(&*store).await;
    store.set_password_hash(&id, "$argon2id$new").await.unwrap();
    assert_eq!(
        store
            .find_user_by_id(&id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
}

/// Verifying the email shows on the user.
pub async fn set_email_verified_marks_the_user_verified(store: Arc<dyn Store>) {
    let id = insert_user(&*store).await;
    assert!(
        !store
            .find_user_by_id(&id)
            .await
            .unwrap()
            .unwrap()
            .user
            .email_verified
    );
    store.set_email_verified(&id, now()).await.unwrap();
    assert!(
        store
            .find_user_by_id(&id)
            .await
            .unwrap()
            .unwrap()
            .user
            .email_verified
    );
}

/// Disabling records the time; re-enabling clears it.
pub async fn set_disabled_disables_and_re_enables_the_user(store: Arc<dyn Store>) {
    let id = insert_user(&*store).await;
    let at = now();
    store.set_disabled(&id, Some(at)).await.unwrap();
    assert_eq!(
        store
            .find_user_by_id(&id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        Some(at)
    );
    store.set_disabled(&id, None).await.unwrap();
    assert_eq!(
        store
            .find_user_by_id(&id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        None
    );
}

/// Every user update names a missing user `NotFound`.
pub async fn updating_an_unknown_user_is_not_found(store: Arc<dyn Store>) {
    insert_user(&*store).await;
    let ghost = UserId::new();
    let results = [
        store.set_password_hash(&ghost, "$argon2id$x").await,
        store.set_email_verified(&ghost, now()).await,
        store.set_disabled(&ghost, Some(now())).await,
        store.set_disabled(&ghost, None).await,
    ];
    for r in results {
        assert!(matches!(r, Err(StoreError::NotFound)), "got {r:?}");
    }
}
