//! `Store::insert_in_bulk`: many users and sessions in one call, as the seeder writes them.

use std::sync::Arc;

use authgate_core::domain::NewUser;
use authgate_core::store::{NewSession, Rotation};
use authgate_core::{Store, StoreError};
use chrono::Duration;

use crate::helpers::{new_session, new_user, now, token_hash, user_with};

/// `users` fresh users with `per_user` sessions each, living 30 days from now.
fn accounts(users: usize, per_user: usize) -> (Vec<NewUser>, Vec<NewSession>) {
    let users: Vec<NewUser> = (0..users).map(|_| new_user()).collect();
    let sessions = users
        .iter()
        .flat_map(|u| (0..per_user).map(|_| new_session(&u.user.id, now(), Duration::days(30)).0))
        .collect();
    (users, sessions)
}

/// More users and sessions than one multi-row statement holds all arrive, each session
/// listed under its user with a first refresh token that rotates like any other.
pub async fn a_bulk_insert_stores_every_user_with_its_sessions_and_first_tokens(
    store: Arc<dyn Store>,
) {
    let (users, sessions) = accounts(1_200, 2);
    store.insert_in_bulk(&users, &sessions).await.unwrap();

    for user in &users {
        let email = user.email_normalized.as_deref().unwrap();
        let found = store.find_user_by_email(email).await.unwrap();
        assert_eq!(found.map(|r| r.user.id), Some(user.user.id.clone()));
        assert_eq!(
            store
                .list_sessions(&user.user.id, now())
                .await
                .unwrap()
                .len(),
            2
        );
    }
    let last = sessions.last().unwrap();
    let token = store.find_refresh_token(&last.refresh_hash).await.unwrap();
    assert_eq!(token.map(|t| t.session_id), Some(last.session.id.clone()));
    let rotation = store
        .rotate_refresh_token(
            &last.session.id,
            &last.refresh_hash,
            &token_hash(),
            now(),
            now() + Duration::days(30),
        )
        .await
        .unwrap();
    assert_eq!(rotation, Rotation::Rotated);
}

/// A bulk insert holding an email already taken (in another case) is a conflict on `email`.
pub async fn a_bulk_insert_with_a_taken_email_is_a_conflict(store: Arc<dyn Store>) {
    store
        .insert_user(&user_with(Some("Grace@Example.com"), None))
        .await
        .unwrap();
    let (mut users, _) = accounts(3, 0);
    users.push(user_with(Some("grace@example.COM"), None));

    let result = store.insert_in_bulk(&users, &[]).await;

    assert!(
        matches!(result, Err(StoreError::Conflict { field: "email" })),
        "got {result:?}"
    );
}

/// On a backend that writes a bulk insert in one transaction, a conflict in its last user
/// leaves none of its users or sessions behind.
pub async fn a_bulk_insert_that_conflicts_writes_none_of_its_batch(store: Arc<dyn Store>) {
    let taken = user_with(None, Some("Hopper"));
    store.insert_user(&taken).await.unwrap();
    let (mut users, sessions) = accounts(700, 1);
    users.push(user_with(None, Some("hopper")));

    let result = store.insert_in_bulk(&users, &sessions).await;

    assert!(
        matches!(result, Err(StoreError::Conflict { field: "username" })),
        "got {result:?}"
    );
    for user in &users[..700] {
        assert!(store
            .find_user_by_id(&user.user.id)
            .await
            .unwrap()
            .is_none());
    }
    for session in &sessions {
        assert!(store
            .find_refresh_token(&session.refresh_hash)
            .await
            .unwrap()
            .is_none());
    }
}
