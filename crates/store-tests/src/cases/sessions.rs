//! Sessions: creation, liveness, listing, revocation, pruning.

use std::sync::Arc;

use authgate_core::domain::{SessionId, UserId};
use authgate_core::{Store, StoreError};
use chrono::Duration;

use crate::helpers::{insert_user, new_session, now, open_session};

/// Opening a session stamps the user's `last_login_at` with the session's start.
pub async fn create_session_records_the_login_time_on_the_user(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let at = now() + Duration::seconds(3);
    let (new, _) = new_session(&user, at, Duration::days(30));
    store.create_session(&new).await.unwrap();
    let record = store.find_user_by_id(&user).await.unwrap().unwrap();
    assert_eq!(record.user.last_login_at, Some(at));
    assert_eq!(
        store.list_sessions(&user, at).await.unwrap(),
        vec![new.session]
    );
}

/// A session cannot be opened for a user that does not exist, and nothing of it is kept.
pub async fn create_session_for_an_unknown_user_is_not_found(store: Arc<dyn Store>) {
    let ghost = UserId::new();
    let t = now();
    let (new, hash) = new_session(&ghost, t, Duration::days(30));
    let result = store.create_session(&new).await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "got {result:?}"
    );
    assert!(store.find_refresh_token(&hash).await.unwrap().is_none());
    assert_eq!(
        store.live_session_owner(&new.session.id, t).await.unwrap(),
        None
    );
}

/// The owner is returned for a live session only.
pub async fn live_session_owner_is_known_only_while_the_session_is_live(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let t = now();
    let (live, _) = open_session(&*store, &user, t, Duration::hours(1)).await;
    let (revoked, _) = open_session(&*store, &user, t, Duration::hours(1)).await;
    assert!(store.revoke_session(&user, &revoked, t).await.unwrap());

    assert_eq!(
        store.live_session_owner(&live, t).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.live_session_owner(&revoked, t).await.unwrap(), None);
    assert_eq!(
        store
            .live_session_owner(&live, t + Duration::hours(1))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store
            .live_session_owner(&SessionId::new(), t)
            .await
            .unwrap(),
        None,
        "unknown"
    );
}

/// Listing shows the user's live sessions only, the newest first.
pub async fn list_sessions_returns_only_the_users_live_sessions_newest_first(
    store: Arc<dyn Store>,
) {
    let (user, other) = (insert_user(&*store).await, insert_user(&*store).await);
    let t = now();
    let (oldest, _) =
        open_session(&*store, &user, t - Duration::minutes(30), Duration::days(1)).await;
    let (newest, _) =
        open_session(&*store, &user, t - Duration::minutes(10), Duration::days(1)).await;
    let (middle, _) =
        open_session(&*store, &user, t - Duration::minutes(20), Duration::days(1)).await;
    let (revoked, _) =
        open_session(&*store, &user, t - Duration::minutes(5), Duration::days(1)).await;
    store.revoke_session(&user, &revoked, t).await.unwrap();
    open_session(&*store, &user, t - Duration::days(2), Duration::days(1)).await; // expired
    open_session(&*store, &other, t, Duration::days(1)).await;

    let ids: Vec<SessionId> = store
        .list_sessions(&user, t)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![newest, middle, oldest]);
}

/// A user cannot revoke someone else's session.
pub async fn revoking_another_users_session_returns_false_and_leaves_it_live(
    store: Arc<dyn Store>,
) {
    let (owner, intruder) = (insert_user(&*store).await, insert_user(&*store).await);
    let t = now();
    let (sid, _) = open_session(&*store, &owner, t, Duration::days(1)).await;
    assert!(!store.revoke_session(&intruder, &sid, t).await.unwrap());
    assert_eq!(
        store.live_session_owner(&sid, t).await.unwrap(),
        Some(owner)
    );
}

/// Revoking succeeds once; unknown sessions are `false`.
pub async fn revoking_a_session_works_once(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let t = now();
    let (sid, hash) = open_session(&*store, &user, t, Duration::days(1)).await;
    assert!(store.revoke_session(&user, &sid, t).await.unwrap());
    assert!(!store.revoke_session(&user, &sid, t).await.unwrap());
    assert!(!store
        .revoke_session(&user, &SessionId::new(), t)
        .await
        .unwrap());
    assert_eq!(
        store
            .find_refresh_token(&hash)
            .await
            .unwrap()
            .unwrap()
            .session_revoked_at,
        Some(t)
    );
}

/// Revoking all sessions counts and revokes the user's live sessions, nobody else's.
pub async fn revoke_all_sessions_revokes_every_live_session_of_the_user_only(
    store: Arc<dyn Store>,
) {
    let (user, other) = (insert_user(&*store).await, insert_user(&*store).await);
    let t = now();
    for _ in 0..3 {
        open_session(&*store, &user, t, Duration::days(1)).await;
    }
    let (already, _) = open_session(&*store, &user, t, Duration::days(1)).await;
    store.revoke_session(&user, &already, t).await.unwrap();
    let (others, _) = open_session(&*store, &other, t, Duration::days(1)).await;

    assert_eq!(store.revoke_all_sessions(&user, t).await.unwrap(), 3);
    assert!(store.list_sessions(&user, t).await.unwrap().is_empty());
    assert_eq!(
        store.live_session_owner(&others, t).await.unwrap(),
        Some(other.clone())
    );
    assert_eq!(store.revoke_all_sessions(&user, t).await.unwrap(), 0);
}

/// "Sign out everywhere else": every other live session of the user ends, the kept one and
/// other users' sessions stay live.
pub async fn revoke_other_sessions_leaves_only_the_kept_session_live(store: Arc<dyn Store>) {
    let (user, other) = (insert_user(&*store).await, insert_user(&*store).await);
    let t = now();
    let (keep, _) = open_session(&*store, &user, t, Duration::days(1)).await;
    for _ in 0..2 {
        open_session(&*store, &user, t, Duration::days(1)).await;
    }
    let (already, _) = open_session(&*store, &user, t, Duration::days(1)).await;
    store.revoke_session(&user, &already, t).await.unwrap();
    let (others, _) = open_session(&*store, &other, t, Duration::days(1)).await;

    assert_eq!(
        store.revoke_other_sessions(&user, &keep, t).await.unwrap(),
        2
    );
    let left: Vec<SessionId> = store
        .list_sessions(&user, t)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![keep.clone()]);
    assert_eq!(
        store.live_session_owner(&others, t).await.unwrap(),
        Some(other.clone())
    );
    assert_eq!(
        store.revoke_other_sessions(&user, &keep, t).await.unwrap(),
        0
    );
    // Another user's session id as `keep` spares nothing of this user.
    open_session(&*store, &user, t, Duration::days(1)).await;
    assert_eq!(
        store
            .revoke_other_sessions(&user, &others, t)
            .await
            .unwrap(),
        2
    );
}

/// Pruning removes sessions dead before the cut-off, with their tokens, and nothing live.
pub async fn prune_sessions_deletes_dead_sessions_and_their_tokens_but_keeps_live_ones(
    store: Arc<dyn Store>,
) {
    let user = insert_user(&*store).await;
    let t = now();
    let (_, expired_hash) =
        open_session(&*store, &user, t - Duration::days(3), Duration::days(1)).await;
    let (revoked, revoked_hash) =
        open_session(&*store, &user, t - Duration::days(3), Duration::days(30)).await;
    store
        .revoke_session(&user, &revoked, t - Duration::days(2))
        .await
        .unwrap();
    let (recently_revoked, recent_hash) = open_session(&*store, &user, t, Duration::days(30)).await;
    store
        .revoke_session(&user, &recently_revoked, t)
        .await
        .unwrap();
    let (live, live_hash) = open_session(&*store, &user, t, Duration::days(30)).await;

    assert_eq!(
        store.prune_sessions(t - Duration::days(1)).await.unwrap(),
        2
    );
    assert!(store
        .find_refresh_token(&expired_hash)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find_refresh_token(&revoked_hash)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .find_refresh_token(&recent_hash)
            .await
            .unwrap()
            .is_some(),
        "revoked after the cut-off"
    );
    assert!(store
        .find_refresh_token(&live_hash)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store.live_session_owner(&live, t).await.unwrap(),
        Some(user)
    );
}
