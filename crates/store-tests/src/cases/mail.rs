//! The durable mail queue: leases, retries, delivery.

use std::collections::HashSet;
use std::sync::Arc;

use authgate_core::Store;
use chrono::Duration;

use crate::helpers::{mail_to, now, race};

/// While a claim's lease runs, no other claim sees the mail.
pub async fn claimed_mail_is_not_claimed_again_before_its_lease_ends(store: Arc<dyn Store>) {
    let t = now();
    store
        .enqueue_mail(&mail_to("a@example.com"), t)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_due_mail(t, t + Duration::minutes(1), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .claim_due_mail(t + Duration::seconds(30), t + Duration::minutes(2), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.mail_queue_depth().await.unwrap(),
        1,
        "a leased mail is still waiting"
    );
}

/// A lease that ends without a result releases the mail; the next claim counts an attempt.
pub async fn claimed_mail_is_claimed_again_after_its_lease_ends_with_one_more_attempt(
    store: Arc<dyn Store>,
) {
    let t = now();
    let mail = mail_to("a@example.com");
    store.enqueue_mail(&mail, t).await.unwrap();
    let first = store
        .claim_due_mail(t, t + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(first[0].attempts, 1);
    let later = t + Duration::minutes(1);
    let second = store
        .claim_due_mail(later, later + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!((second[0].mail.clone(), second[0].attempts), (mail, 2));
}

/// At most `limit` mails are claimed, and mail due later waits.
pub async fn claim_due_mail_respects_the_limit_and_skips_mail_not_yet_due(store: Arc<dyn Store>) {
    let t = now();
    for i in 0..3 {
        store
            .enqueue_mail(&mail_to(&format!("due{i}@example.com")), t)
            .await
            .unwrap();
    }
    store
        .enqueue_mail(&mail_to("later@example.com"), t + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(store.mail_queue_depth().await.unwrap(), 4);

    let lease = t + Duration::minutes(1);
    assert_eq!(store.claim_due_mail(t, lease, 2).await.unwrap().len(), 2);
    let rest = store.claim_due_mail(t, lease, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].mail.to.starts_with("due"));
    assert!(store.claim_due_mail(t, lease, 0).await.unwrap().is_empty());
}

/// Workers claiming at once split the queue: no mail is handed out twice.
pub async fn concurrent_claims_never_hand_out_one_mail_twice(store: Arc<dyn Store>) {
    let t = now();
    for i in 0..30 {
        store
            .enqueue_mail(&mail_to(&format!("m{i}@example.com")), t)
            .await
            .unwrap();
    }
    let claims = race(&store, 8, |store, _| async move {
        store
            .claim_due_mail(t, t + Duration::minutes(5), 5)
            .await
            .unwrap()
    })
    .await;
    let ids: Vec<String> = claims.into_iter().flatten().map(|q| q.mail.id).collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a mail was claimed twice");
    assert_eq!(ids.len(), 30);
}

/// A delivered mail leaves the queue for good.
pub async fn mark_mail_sent_removes_the_mail_from_the_queue(store: Arc<dyn Store>) {
    let t = now();
    let mail = mail_to("a@example.com");
    store.enqueue_mail(&mail, t).await.unwrap();
    store
        .enqueue_mail(&mail_to("b@example.com"), t)
        .await
        .unwrap();
    store
        .claim_due_mail(t, t + Duration::minutes(1), 10)
        .await
        .unwrap();
    store.mark_mail_sent(&mail.id, t).await.unwrap();

    assert_eq!(store.mail_queue_depth().await.unwrap(), 1);
    let later = t + Duration::hours(1);
    let again = store
        .claim_due_mail(later, later + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].mail.id, mail.id);
}

/// A failed attempt reschedules the mail at the given time.
pub async fn mark_mail_failed_reschedules_the_mail(store: Arc<dyn Store>) {
    let t = now();
    let mail = mail_to("a@example.com");
    store.enqueue_mail(&mail, t).await.unwrap();
    store
        .claim_due_mail(t, t + Duration::minutes(1), 10)
        .await
        .unwrap();
    store
        .mark_mail_failed(&mail.id, "421 try again later", t + Duration::minutes(10))
        .await
        .unwrap();

    assert_eq!(store.mail_queue_depth().await.unwrap(), 1);
    let before = t + Duration::minutes(5);
    assert!(store
        .claim_due_mail(before, before + Duration::minutes(1), 10)
        .await
        .unwrap()
        .is_empty());
    let after = t + Duration::minutes(10);
    let retried = store
        .claim_due_mail(after, after + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].mail.clone(), retried[0].attempts), (mail, 2));
}

/// A discarded mail is gone: never claimed again, not counted, and its queue time was known.
pub async fn discard_mail_removes_a_mail_the_worker_gave_up_on(store: Arc<dyn Store>) {
    let t = now();
    let mail = mail_to("a@example.com");
    store.enqueue_mail(&mail, t).await.unwrap();
    store
        .enqueue_mail(&mail_to("b@example.com"), t)
        .await
        .unwrap();
    let claimed = store
        .claim_due_mail(t, t + Duration::minutes(1), 10)
        .await
        .unwrap();
    let queued_at = claimed.iter().map(|q| q.queued_at).collect::<Vec<_>>();
    assert_eq!(queued_at, [t, t], "claims report when the mail was queued");

    store.discard_mail(&mail.id).await.unwrap();
    store.discard_mail("no-such-mail").await.unwrap();

    assert_eq!(store.mail_queue_depth().await.unwrap(), 1);
    let later = t + Duration::hours(1);
    let again = store
        .claim_due_mail(later, later + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].mail.id, mail.id);
}
