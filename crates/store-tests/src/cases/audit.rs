//! The audit trail.

use std::sync::Arc;

use authgate_core::domain::{SessionId, UserId};
use authgate_core::store::AuditRecord;
use authgate_core::Store;
use chrono::{DateTime, Duration, Utc};

use crate::helpers::now;

/// `n` fresh UUIDv7 ids, in increasing order (sorted, so even ids minted within one
/// millisecond are strictly increasing as text).
fn increasing_ids(n: usize) -> Vec<String> {
    let mut ids: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    ids.sort();
    ids
}

/// A minimal event of `user_id` with id `id` at `at`.
fn event(id: &str, at: DateTime<Utc>, user_id: Option<&UserId>) -> AuditRecord {
    AuditRecord {
        id: id.to_owned(),
        at,
        kind: "login_succeeded".into(),
        outcome: "success".into(),
        user_id: user_id.cloned(),
        session_id: None,
        ip: None,
        user_agent: None,
        request_id: None,
        detail: None,
    }
}

/// Records one event per id (each a millisecond after the previous one).
async fn record_all(store: &dyn Store, ids: &[String], user_id: &UserId, start: DateTime<Utc>) {
    for (i, id) in ids.iter().enumerate() {
        let at = start + Duration::milliseconds(i as i64);
        store
            .record_audit(&event(id, at, Some(user_id)))
            .await
            .expect("recording an audit event");
    }
}

fn ids_of(events: &[AuditRecord]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

/// A user's events come back newest first, and only theirs.
pub async fn recorded_audit_events_are_listed_newest_first_for_that_user_only(
    store: Arc<dyn Store>,
) {
    let (ada, bob) = (UserId::new(), UserId::new());
    let ids = increasing_ids(6);
    let t = now();
    // Interleave the two users' events.
    for (i, id) in ids.iter().enumerate() {
        let owner = if i % 2 == 0 { &ada } else { &bob };
        let at = t + Duration::milliseconds(i as i64);
        store
            .record_audit(&event(id, at, Some(owner)))
            .await
            .unwrap();
    }
    // An event concerning no user belongs to nobody's list.
    let anonymous = increasing_ids(1).remove(0);
    store
        .record_audit(&event(&anonymous, t, None))
        .await
        .unwrap();

    let listed = store.list_audit(&ada, None, 100).await.unwrap();
    assert_eq!(ids_of(&listed), [&ids[4], &ids[2], &ids[0]]);
    assert!(listed.iter().all(|e| e.user_id.as_ref() == Some(&ada)));
    let listed = store.list_audit(&bob, None, 100).await.unwrap();
    assert_eq!(ids_of(&listed), [&ids[5], &ids[3], &ids[1]]);
    assert!(store
        .list_audit(&UserId::new(), None, 100)
        .await
        .unwrap()
        .is_empty());
}

/// Paging with `before` walks backwards through every event exactly once.
pub async fn audit_pages_with_before_have_no_overlap_and_no_gap(store: Arc<dyn Store>) {
    let user = UserId::new();
    let ids = increasing_ids(5);
    record_all(&*store, &ids, &user, now()).await;

    let mut seen: Vec<String> = Vec::new();
    let mut pages: Vec<usize> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.list_audit(&user, before.as_deref(), 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        pages.push(page.len());
        before = Some(page.last().unwrap().id.clone());
        seen.extend(page.into_iter().map(|e| e.id));
        assert!(pages.len() <= 5, "paging does not end");
    }
    assert_eq!(pages, [2, 2, 1]);
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
}

/// At most `limit` events come back: the newest ones.
pub async fn list_audit_respects_the_limit(store: Arc<dyn Store>) {
    let user = UserId::new();
    let ids = increasing_ids(5);
    record_all(&*store, &ids, &user, now()).await;

    let listed = store.list_audit(&user, None, 3).await.unwrap();
    assert_eq!(ids_of(&listed), [&ids[4], &ids[3], &ids[2]]);
    let listed = store.list_audit(&user, None, 1).await.unwrap();
    assert_eq!(ids_of(&listed), [&ids[4]]);
    assert!(store.list_audit(&user, None, 0).await.unwrap().is_empty());
    let listed = store.list_audit(&user, Some(&ids[3]), 2).await.unwrap();
    assert_eq!(ids_of(&listed), [&ids[2], &ids[1]]);
}

/// Every field comes back as recorded, absent ones as `None`.
pub async fn audit_event_fields_round_trip(store: Arc<dyn Store>) {
    let user = UserId::new();
    let ids = increasing_ids(2);
    let t = now();
    let full = AuditRecord {
        id: ids[1].clone(),
        at: t,
        kind: "login_failed".into(),
        outcome: "failure".into(),
        user_id: Some(user.clone()),
        session_id: Some(SessionId::new()),
        ip: Some("2001:db8::7".into()),
        user_agent: Some("contract-tests/1.0 (é)".into()),
        request_id: Some("req-123".into()),
        detail: Some(r#"{"reason":"bad_password","attempts":3}"#.into()),
    };
    let bare = event(&ids[0], t - Duration::minutes(5), Some(&user));
    store.record_audit(&full).await.unwrap();
    store.record_audit(&bare).await.unwrap();

    let listed = store.list_audit(&user, None, 10).await.unwrap();
    assert_eq!(listed, vec![full, bare]);
}

/// Pruning deletes the events older than the cutoff, counts them, and keeps the rest.
pub async fn prune_audit_deletes_only_events_older_than_the_cutoff(store: Arc<dyn Store>) {
    let user = UserId::new();
    let ids = increasing_ids(5);
    let cutoff = now();
    let ats = [
        cutoff - Duration::days(30),
        cutoff - Duration::days(1),
        cutoff - Duration::milliseconds(1),
        cutoff,
        cutoff + Duration::days(1),
    ];
    for (id, at) in ids.iter().zip(ats) {
        store
            .record_audit(&event(id, at, Some(&user)))
            .await
            .unwrap();
    }
    // An event of no user is pruned too.
    let anonymous = increasing_ids(1).remove(0);
    store
        .record_audit(&event(&anonymous, cutoff - Duration::days(2), None))
        .await
        .unwrap();

    assert_eq!(store.prune_audit(cutoff).await.unwrap(), 4);
    let left = store.list_audit(&user, None, 10).await.unwrap();
    assert_eq!(ids_of(&left), [&ids[4], &ids[3]]);
    assert_eq!(store.prune_audit(cutoff).await.unwrap(), 0);
}

/// A batch is stored whole, each event as if recorded alone.
pub async fn an_audit_batch_stores_every_event(store: Arc<dyn Store>) {
    let ada = UserId::new();
    let ids = increasing_ids(5);
    let t = now();
    let batch: Vec<AuditRecord> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| event(id, t + Duration::milliseconds(i as i64), Some(&ada)))
        .collect();
    store
        .record_audit_batch(&batch)
        .await
        .expect("recording a batch");
    let listed = store.list_audit(&ada, None, 10).await.unwrap();
    let mut newest_first: Vec<&str> = ids.iter().map(String::as_str).collect();
    newest_first.reverse();
    assert_eq!(ids_of(&listed), newest_first);
    assert_eq!(listed[0], batch[4]);
}

/// A batch bigger than a backend writes in one statement (1,234 events) is stored whole,
/// in order.
pub async fn a_large_audit_batch_stores_every_event(store: Arc<dyn Store>) {
    let ada = UserId::new();
    let ids = increasing_ids(1_234);
    let t = now();
    let batch: Vec<AuditRecord> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| event(id, t + Duration::milliseconds(i as i64), Some(&ada)))
        .collect();
    store
        .record_audit_batch(&batch)
        .await
        .expect("recording a large batch");
    let listed = store.list_audit(&ada, None, 2_000).await.unwrap();
    let mut newest_first: Vec<&str> = ids.iter().map(String::as_str).collect();
    newest_first.reverse();
    assert_eq!(ids_of(&listed), newest_first);
    assert_eq!(listed[1_233], batch[0]);
}
