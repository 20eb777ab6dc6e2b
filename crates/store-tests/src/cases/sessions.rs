//! Sessions and refresh-token rotation.

use std::sync::Arc;

use authgate_core::domain::SessionId;
use authgate_core::store::Rotation;
use authgate_core::Store;
use chrono::Duration;

use crate::helpers::{insert_user, new_session, now, open_session, race, token_hash};

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

/// A refresh token is found by its hash with its session's owner, key and state.
pub async fn find_refresh_token_returns_the_token_with_its_session_state(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let (new, hash) = new_session(&user, now(), Duration::days(30));
    store.create_session(&new).await.unwrap();

    let found = store
        .find_refresh_token(&hash)
        .await
        .unwrap()
        .expect("token found");
    assert_eq!(found.session_id, new.session.id);
    assert_eq!(found.user_id, user);
    assert_eq!(found.rotated_at, None);
    assert_eq!(found.rotation_key, new.rotation_key);
    assert_eq!(found.session_revoked_at, None);
    assert_eq!(found.session_expires_at, new.session.expires_at);

    assert!(store
        .find_refresh_token(&token_hash())
        .await
        .unwrap()
        .is_none());
}

/// Rotation retires the old token, makes the new one current and renews the session.
pub async fn rotating_the_current_token_succeeds_and_renews_the_session(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let start = now();
    let (sid, old) = open_session(&*store, &user, start, Duration::days(1)).await;
    let (at, new_expiry, new) = (
        start + Duration::hours(1),
        start + Duration::days(2),
        token_hash(),
    );

    let outcome = store
        .rotate_refresh_token(&sid, &old, &new, at, new_expiry)
        .await
        .unwrap();
    assert_eq!(outcome, Rotation::Rotated);

    let old_record = store.find_refresh_token(&old).await.unwrap().unwrap();
    assert_eq!(old_record.rotated_at, Some(at));
    let new_record = store
        .find_refresh_token(&new)
        .await
        .unwrap()
        .expect("successor stored");
    assert_eq!(
        (new_record.session_id.clone(), new_record.rotated_at),
        (sid.clone(), None)
    );
    assert_eq!(new_record.session_expires_at, new_expiry);

    let session = store.list_sessions(&user, at).await.unwrap().pop().unwrap();
    assert_eq!(
        (session.last_used_at, session.expires_at, session.created_at),
        (at, new_expiry, start)
    );

    let again = store
        .rotate_refresh_token(&sid, &old, &token_hash(), at, new_expiry)
        .await
        .unwrap();
    assert_eq!(
        again,
        Rotation::NotCurrent,
        "a rotated token cannot rotate again"
    );
    let next = store
        .rotate_refresh_token(&sid, &new, &token_hash(), at, new_expiry)
        .await
        .unwrap();
    assert_eq!(next, Rotation::Rotated, "the successor is current");
}

/// Of 20 simultaneous rotations of one token (all computing the same successor), one wins.
pub async fn concurrent_rotations_of_one_token_have_exactly_one_winner(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let start = now();
    let (sid, old) = open_session(&*store, &user, start, Duration::days(1)).await;
    let new = token_hash();
    let results = race(&store, 20, |store, _| {
        let sid = sid.clone();
        async move {
            store
                .rotate_refresh_token(&sid, &old, &new, start, start + Duration::days(2))
                .await
        }
    })
    .await;
    let rotated = results
        .iter()
        .filter(|r| matches!(r, Ok(Rotation::Rotated)))
        .count();
    let not_current = results
        .iter()
        .filter(|r| matches!(r, Ok(Rotation::NotCurrent)))
        .count();
    assert_eq!((rotated, not_current), (1, 19), "results: {results:?}");
    assert_eq!(
        store
            .find_refresh_token(&new)
            .await
            .unwrap()
            .unwrap()
            .rotated_at,
        None
    );
}

/// A revoked session's current token does not rotate.
pub async fn rotation_is_refused_for_a_revoked_session(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let start = now();
    let (sid, old) = open_session(&*store, &user, start, Duration::days(1)).await;
    assert!(store.revoke_session(&user, &sid, start).await.unwrap());
    let new = token_hash();
    let outcome = store
        .rotate_refresh_token(&sid, &old, &new, start, start + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(outcome, Rotation::NotCurrent);
    assert!(store.find_refresh_token(&new).await.unwrap().is_none());
    assert_eq!(
        store
            .find_refresh_token(&old)
            .await
            .unwrap()
            .unwrap()
            .rotated_at,
        None
    );
}

/// An expired session's current token does not rotate, even with a later expiry offered.
pub async fn rotation_is_refused_for_an_expired_session(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let start = now() - Duration::days(2);
    let (sid, old) = open_session(&*store, &user, start, Duration::days(1)).await;
    let at = now();
    let outcome = store
        .rotate_refresh_token(&sid, &old, &token_hash(), at, at + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(outcome, Rotation::NotCurrent);
    let exactly_at_expiry = start + Duration::days(1);
    let outcome = store
        .rotate_refresh_token(
            &sid,
            &old,
            &token_hash(),
            exactly_at_expiry,
            at + Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Rotation::NotCurrent,
        "a session is dead at its expiry instant"
    );
}

/// A token rotates only within its own session.
pub async fn rotation_is_refused_when_the_token_belongs_to_another_session(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let start = now();
    let (_, token_of_a) = open_session(&*store, &user, start, Duration::days(1)).await;
    let (b, _) = open_session(&*store, &user, start, Duration::days(1)).await;
    let outcome = store
        .rotate_refresh_token(
            &b,
            &token_of_a,
            &token_hash(),
            start,
            start + Duration::days(2),
        )
        .await;
    assert_eq!(outcome.unwrap(), Rotation::NotCurrent);
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
