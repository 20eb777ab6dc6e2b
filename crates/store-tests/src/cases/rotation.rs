//! Refresh tokens: look-up and atomic rotation.

use std::sync::Arc;

use authgate_core::store::Rotation;
use authgate_core::Store;
use chrono::Duration;

use crate::helpers::{insert_user, new_session, now, open_session, race, token_hash};

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

/// The joined read a refresh starts with gives the token as `find_refresh_token` does and
/// its owner as `find_user_by_id` does, disabled or not; an unknown hash gives `None`.
pub async fn find_refresh_token_with_owner_returns_the_token_and_its_owner(store: Arc<dyn Store>) {
    let user = insert_user(&*store).await;
    let (new, hash) = new_session(&user, now(), Duration::days(30));
    store.create_session(&new).await.unwrap();
    let disabled_at = now();
    store.set_disabled(&user, Some(disabled_at)).await.unwrap();

    let found = store
        .find_refresh_token_with_owner(&hash)
        .await
        .unwrap()
        .expect("token found with its owner");
    let token = store.find_refresh_token(&hash).await.unwrap().unwrap();
    let owner = store.find_user_by_id(&user).await.unwrap().unwrap();
    assert_eq!(
        (
            found.token.session_id,
            found.token.user_id,
            found.token.rotation_key
        ),
        (token.session_id, token.user_id, token.rotation_key)
    );
    assert_eq!(
        (found.token.session_expires_at, found.token.rotated_at),
        (token.session_expires_at, None)
    );
    assert_eq!(found.owner.user, owner.user);
    assert_eq!(found.owner.password_hash, owner.password_hash);
    assert_eq!(found.owner.disabled_at, Some(disabled_at));

    assert!(store
        .find_refresh_token_with_owner(&token_hash())
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

/// 40 sessions, each raced by 5 callers with successors of their own, all at once (a burst
/// that a store may commit together): every session gets exactly one successor, the
/// losers' successors are never stored, and every session is renewed.
pub async fn a_burst_of_rotations_over_many_sessions_rotates_each_token_once(
    store: Arc<dyn Store>,
) {
    const SESSIONS: usize = 40;
    const RACERS: usize = 5;
    let user = insert_user(&*store).await;
    let start = now();
    let renewed = start + Duration::days(2);
    let mut chains = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        chains.push(open_session(&*store, &user, start, Duration::days(1)).await);
    }
    let successors: Vec<_> = (0..SESSIONS * RACERS).map(|_| token_hash()).collect();
    let chains = Arc::new(chains);
    let tried = Arc::new(successors.clone());
    let results = race(&store, SESSIONS * RACERS, |store, i| {
        let (chains, tried) = (Arc::clone(&chains), Arc::clone(&tried));
        async move {
            let (sid, old) = &chains[i / RACERS];
            store
                .rotate_refresh_token(sid, old, &tried[i], start, renewed)
                .await
        }
    })
    .await;

    for (s, (sid, _)) in chains.iter().enumerate() {
        let outcomes = &results[s * RACERS..(s + 1) * RACERS];
        let winners: Vec<usize> = (0..RACERS)
            .filter(|r| matches!(outcomes[*r], Ok(Rotation::Rotated)))
            .collect();
        assert_eq!(winners.len(), 1, "session {s}: {outcomes:?}");
        for r in 0..RACERS {
            let stored = store
                .find_refresh_token(&successors[s * RACERS + r])
                .await
                .unwrap();
            assert_eq!(
                stored.is_some(),
                r == winners[0],
                "session {s}: only the winner's successor is stored"
            );
        }
        let winner = store
            .find_refresh_token(&successors[s * RACERS + winners[0]])
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&winner.session_id, winner.rotated_at), (sid, None));
        assert_eq!(winner.session_expires_at, renewed);
    }
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
