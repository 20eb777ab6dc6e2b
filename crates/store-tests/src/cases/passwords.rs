//! Replacing a password: the hash, the sessions, the reset links and the notice change
//! together, or (with a dead reset token) not at all.

use std::sync::Arc;

use authgate_core::domain::UserId;
use authgate_core::secret::TokenHash;
use authgate_core::store::{PasswordReplacement, TokenPurpose};
use authgate_core::{Store, StoreError};
use chrono::Duration;

use crate::helpers::{
    insert_user, issue_expired_token, issue_token, issue_token_superseding, mail_to, now,
    open_session, race,
};

const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaG5ld2hhc2huZXdoYXNo";

/// A replacement of `user`'s password with [`NEW_HASH`], with a notice, spending `reset`.
fn replacement(user: &UserId, reset: Option<TokenHash>) -> PasswordReplacement {
    PasswordReplacement {
        user_id: user.clone(),
        password_hash: NEW_HASH.into(),
        at: now(),
        mark_email_verified: reset.is_some(),
        reset_token: reset,
        notice: Some(mail_to("ada@example.com")),
    }
}

/// The stored password hash and verification state of `user`.
async fn hash_and_verified(store: &dyn Store, user: &UserId) -> (String, bool) {
    let record = store
        .find_user_by_id(user)
        .await
        .unwrap()
        .expect("the user");
    (record.password_hash, record.user.email_verified)
}

/// A change (no reset token) stores the hash, revokes every live session of the user only,
/// invalidates the user's reset links but not their verification link, and queues the notice.
pub async fn replace_password_changes_the_hash_revokes_sessions_kills_reset_links_and_queues_the_notice(
    store: Arc<dyn Store>,
) {
    let (user, other) = (insert_user(&*store).await, insert_user(&*store).await);
    let t = now();
    open_session(&*store, &user, t, Duration::days(1)).await;
    open_session(&*store, &user, t, Duration::days(1)).await;
    let (others, _) = open_session(&*store, &other, t, Duration::days(1)).await;
    let reset = issue_token_superseding(&*store, &user, TokenPurpose::ResetPassword).await;
    let verify = issue_token_superseding(&*store, &user, TokenPurpose::VerifyEmail).await;
    let queued = store.mail_queue_depth().await.unwrap();

    let replaced = store
        .replace_password(&replacement(&user, None))
        .await
        .unwrap();

    assert!(replaced);
    assert_eq!(
        hash_and_verified(&*store, &user).await,
        (NEW_HASH.to_owned(), false)
    );
    assert!(store.list_sessions(&user, now()).await.unwrap().is_empty());
    assert_eq!(
        store.live_session_owner(&others, now()).await.unwrap(),
        Some(other)
    );
    let reset_after = store
        .find_one_time_token(&reset.hash, TokenPurpose::ResetPassword, now())
        .await
        .unwrap();
    assert_eq!(reset_after, None, "a reset link outlived the change");
    let verify_after = store
        .find_one_time_token(&verify.hash, TokenPurpose::VerifyEmail, now())
        .await
        .unwrap();
    assert!(verify_after.is_some(), "the verification link died too");
    assert_eq!(store.mail_queue_depth().await.unwrap(), queued + 1);
}

/// A reset spends its token, marks the email verified and kills the user's other reset links.
pub async fn replace_password_with_a_reset_token_spends_it_and_marks_the_email_verified(
    store: Arc<dyn Store>,
) {
    let user = insert_user(&*store).await;
    let older = issue_token(&*store, &user, TokenPurpose::ResetPassword).await;
    let token = issue_token(&*store, &user, TokenPurpose::ResetPassword).await;

    let replaced = store
        .replace_password(&replacement(&user, Some(token.hash)))
        .await
        .unwrap();

    assert!(replaced);
    assert_eq!(
        hash_and_verified(&*store, &user).await,
        (NEW_HASH.to_owned(), true)
    );
    for hash in [&token.hash, &older.hash] {
        let left = store
            .consume_one_time_token(hash, TokenPurpose::ResetPassword, now())
            .await
            .unwrap();
        assert_eq!(left, None);
    }
}

/// A used, expired, foreign or wrong-purpose token makes the replacement write nothing.
pub async fn replace_password_with_a_dead_reset_token_writes_nothing(store: Arc<dyn Store>) {
    let (user, other) = (insert_user(&*store).await, insert_user(&*store).await);
    let (session, _) = open_session(&*store, &user, now(), Duration::days(1)).await;
    let used = issue_token(&*store, &user, TokenPurpose::ResetPassword).await;
    store
        .consume_one_time_token(&used.hash, TokenPurpose::ResetPassword, now())
        .await
        .unwrap();
    let expired = issue_expired_token(&*store, &user, TokenPurpose::ResetPassword).await;
    let foreign = issue_token(&*store, &other, TokenPurpose::ResetPassword).await;
    let verify = issue_token(&*store, &user, TokenPurpose::VerifyEmail).await;
    let live = issue_token(&*store, &user, TokenPurpose::ResetPassword).await;
    let before = hash_and_verified(&*store, &user).await;
    let queued = store.mail_queue_depth().await.unwrap();

    for dead in [&used, &expired, &foreign, &verify] {
        let replaced = store
            .replace_password(&replacement(&user, Some(dead.hash)))
            .await
            .unwrap();
        assert!(!replaced, "replaced with a dead token ({:?})", dead.purpose);
    }

    assert_eq!(hash_and_verified(&*store, &user).await, before);
    assert_eq!(
        store.live_session_owner(&session, now()).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.mail_queue_depth().await.unwrap(), queued);
    let still = store
        .find_one_time_token(&live.hash, TokenPurpose::ResetPassword, now())
        .await
        .unwrap();
    assert!(
        still.is_some(),
        "a refused replacement killed a live reset link"
    );
}

/// Of many concurrent resets with one token, exactly one replaces the password.
pub async fn concurrent_replacements_with_one_reset_token_have_exactly_one_winner(
    store: Arc<dyn Store>,
) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, TokenPurpose::ResetPassword).await;
    let queued = store.mail_queue_depth().await.unwrap();

    let outcomes = race(&store, 8, |store, _| {
        let change = replacement(&user, Some(token.hash));
        async move { store.replace_password(&change).await.unwrap() }
    })
    .await;

    assert_eq!(
        outcomes.iter().filter(|won| **won).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(store.mail_queue_depth().await.unwrap(), queued + 1);
}

/// Replacing the password of a user that does not exist is `NotFound` and queues nothing.
pub async fn replacing_the_password_of_an_unknown_user_is_not_found_and_queues_nothing(
    store: Arc<dyn Store>,
) {
    let queued = store.mail_queue_depth().await.unwrap();

    let result = store
        .replace_password(&replacement(&UserId::new(), None))
        .await;

    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(store.mail_queue_depth().await.unwrap(), queued);
}
