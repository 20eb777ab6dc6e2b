//! One-time tokens (email verification, password reset) and the mail that carries them.

use std::sync::Arc;

use authgate_core::store::{ConsumedToken, TokenPurpose, UnexpiredToken};
use authgate_core::Store;
use chrono::Duration;

use crate::helpers::{
    insert_user, issue_token, issue_token_superseding, mail_to, now, one_time_token, race,
    token_hash,
};

const VERIFY: TokenPurpose = TokenPurpose::VerifyEmail;
const RESET: TokenPurpose = TokenPurpose::ResetPassword;

/// A token is consumed once, naming its user and address; the second try is `None`.
pub async fn a_one_time_token_can_be_consumed_once(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, VERIFY).await;
    let consumed = store
        .consume_one_time_token(&token.hash, VERIFY, now())
        .await
        .unwrap();
    assert_eq!(
        consumed,
        Some(ConsumedToken {
            user_id: user,
            email: token.email.clone()
        })
    );
    assert_eq!(
        store
            .consume_one_time_token(&token.hash, VERIFY, now())
            .await
            .unwrap(),
        None
    );
}

/// Finding a token shows it without using it; a used or expired one is not found.
pub async fn finding_a_one_time_token_does_not_use_it(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, RESET).await;
    let expected = Some(ConsumedToken {
        user_id: user,
        email: token.email.clone(),
    });
    assert_eq!(
        store
            .find_one_time_token(&token.hash, RESET, now())
            .await
            .unwrap(),
        expected
    );
    assert_eq!(
        store
            .find_one_time_token(&token.hash, VERIFY, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_one_time_token(&token.hash, RESET, token.expires_at)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .consume_one_time_token(&token.hash, RESET, now())
            .await
            .unwrap(),
        expected
    );
    assert_eq!(
        store
            .find_one_time_token(&token.hash, RESET, now())
            .await
            .unwrap(),
        None
    );
}

/// Until it expires, a token is found whether used or not, and finding it changes nothing: a
/// link opened twice can be answered by what it did the first time.
pub async fn an_unexpired_token_is_found_used_or_not_without_being_used(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, VERIFY).await;
    let state = |used| {
        Some(UnexpiredToken {
            user_id: user.clone(),
            email: token.email.clone(),
            used,
        })
    };
    let find = || store.find_unexpired_one_time_token(&token.hash, VERIFY, now());

    assert_eq!(find().await.unwrap(), state(false));
    assert_eq!(find().await.unwrap(), state(false), "finding it used it");
    assert!(store
        .consume_one_time_token(&token.hash, VERIFY, now())
        .await
        .unwrap()
        .is_some());
    assert_eq!(find().await.unwrap(), state(true));
}

/// A superseded token counts as used; an expired, unknown or other-purpose one is not found.
pub async fn an_expired_superseded_or_unknown_token_is_not_found_unexpired(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let older = issue_token(&*store, &user, VERIFY).await;
    issue_token_superseding(&*store, &user, VERIFY).await;
    let found = store
        .find_unexpired_one_time_token(&older.hash, VERIFY, now())
        .await
        .unwrap();
    assert_eq!(found.map(|t| t.used), Some(true), "superseded is used");

    for (hash, purpose, at) in [
        (older.hash, VERIFY, older.expires_at),
        (older.hash, RESET, now()),
        (token_hash(), VERIFY, now()),
    ] {
        let found = store
            .find_unexpired_one_time_token(&hash, purpose, at)
            .await
            .unwrap();
        assert_eq!(found, None, "{purpose:?} at {at}");
    }
}

/// Of simultaneous consumptions of one token, exactly one gets it.
pub async fn concurrent_consumptions_of_one_token_have_exactly_one_winner(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, RESET).await;
    let t = now();
    let results = race(&store, 10, |store, _| {
        let hash = token.hash;
        async move { store.consume_one_time_token(&hash, RESET, t).await }
    })
    .await;
    let winners = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    let losers = results.iter().filter(|r| matches!(r, Ok(None))).count();
    assert_eq!((winners, losers), (1, 9), "results: {results:?}");
}

/// A token is dead from its expiry instant on.
pub async fn an_expired_one_time_token_cannot_be_consumed(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, VERIFY).await;
    assert_eq!(
        store
            .consume_one_time_token(&token.hash, VERIFY, token.expires_at)
            .await
            .unwrap(),
        None
    );
    let later = token.expires_at + Duration::minutes(1);
    assert_eq!(
        store
            .consume_one_time_token(&token.hash, VERIFY, later)
            .await
            .unwrap(),
        None
    );
}

/// A token works only for the purpose it was issued for, and the wrong one does not use it up.
pub async fn a_one_time_token_cannot_be_consumed_for_another_purpose(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let token = issue_token(&*store, &user, VERIFY).await;
    assert_eq!(
        store
            .consume_one_time_token(&token.hash, RESET, now())
            .await
            .unwrap(),
        None
    );
    assert!(store
        .consume_one_time_token(&token.hash, VERIFY, now())
        .await
        .unwrap()
        .is_some());
}

/// Superseding invalidates the user's older unused tokens of that purpose only.
pub async fn a_superseding_token_invalidates_older_unused_tokens_of_that_purpose(
    store: Arc<dyn Store>,
) {
    let (user, other) = (insert_user(&*store).await, insert_user(&*store).await);
    let older = issue_token(&*store, &user, RESET).await;
    let other_purpose = issue_token(&*store, &user, VERIFY).await;
    let other_user = issue_token(&*store, &other, RESET).await;
    let newer = issue_token_superseding(&*store, &user, RESET).await;

    let t = now();
    assert_eq!(
        store
            .consume_one_time_token(&older.hash, RESET, t)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .consume_one_time_token(&newer.hash, RESET, t)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .consume_one_time_token(&other_purpose.hash, VERIFY, t)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .consume_one_time_token(&other_user.hash, RESET, t)
        .await
        .unwrap()
        .is_some());
}

/// Without `supersede`, earlier tokens stay usable.
pub async fn tokens_created_without_supersede_stay_usable(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let first = issue_token(&*store, &user, VERIFY).await;
    let second = issue_token(&*store, &user, VERIFY).await;
    assert!(store
        .consume_one_time_token(&first.hash, VERIFY, now())
        .await
        .unwrap()
        .is_some());
    assert!(store
        .consume_one_time_token(&second.hash, VERIFY, now())
        .await
        .unwrap()
        .is_some());
}

/// Invalidation counts and kills the user's unused tokens of one purpose.
pub async fn invalidate_one_time_tokens_invalidates_unused_tokens_of_that_purpose(
    store: Arc<dyn Store>,
) {
    let user = insert_user(&*store).await;
    let used = issue_token(&*store, &user, RESET).await;
    store
        .consume_one_time_token(&used.hash, RESET, now())
        .await
        .unwrap()
        .unwrap();
    let a = issue_token(&*store, &user, RESET).await;
    let b = issue_token(&*store, &user, RESET).await;
    let verify = issue_token(&*store, &user, VERIFY).await;

    assert_eq!(
        store
            .invalidate_one_time_tokens(&user, RESET, now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .consume_one_time_token(&a.hash, RESET, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .consume_one_time_token(&b.hash, RESET, now())
            .await
            .unwrap(),
        None
    );
    assert!(store
        .consume_one_time_token(&verify.hash, VERIFY, now())
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .invalidate_one_time_tokens(&user, RESET, now())
            .await
            .unwrap(),
        0
    );
}

/// The token's mail is queued with it, due at once.
pub async fn creating_a_one_time_token_queues_its_mail(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let t = now();
    let token = one_time_token(&user, VERIFY, t, Duration::hours(1));
    let mail = mail_to(&token.email);
    store
        .create_one_time_token(&token, &mail, true)
        .await
        .unwrap();

    assert_eq!(store.mail_queue_depth().await.unwrap(), 1);
    let claimed = store
        .claim_due_mail(t, t + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].mail, mail);
    assert_eq!(claimed[0].attempts, 1);
}
