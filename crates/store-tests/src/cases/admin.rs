//! Administration: user search and pagination, session counts, profile changes, erasure and
//! the audit trail across users.

use std::sync::Arc;

use authgate_core::domain::UserId;
use authgate_core::store::{
    AuditRecord, AuditSearch, Normalized, TokenPurpose, UserErasure, UserPatch, UserSearch,
};
use authgate_core::{Store, StoreError};
use chrono::Duration;

use crate::helpers::{issue_token, mail_to, now, open_session, unique, user_with};

/// Inserts a user with this email and username; returns its id.
async fn user(store: &dyn Store, email: Option<&str>, username: Option<&str>) -> UserId {
    let new = user_with(email, username);
    store.insert_user(&new).await.expect("inserting a user");
    new.user.id
}

/// Searches with `prefix` (lower-cased, as the core passes it) and no other filter.
async fn ids_with_prefix(store: &dyn Store, prefix: &str) -> Vec<UserId> {
    let search = UserSearch {
        prefix: Some(prefix.to_lowercase()),
        limit: 100,
        ..UserSearch::default()
    };
    let found = store.search_users(&search).await.expect("searching users");
    found.into_iter().map(|r| r.user.id).collect()
}

/// A prefix of the email or of the username finds the user, whatever the case it was typed
/// in; a string inside the address (not at its start) finds nothing.
pub async fn users_are_found_by_email_or_username_prefix_in_any_case(store: Arc<dyn Store>) {
    let tag = unique();
    let ada = user(&*store, Some(&format!("Ada.{tag}@Example.com")), None).await;
    let bob = user(&*store, None, Some(&format!("Bob_{tag}"))).await;
    let both = user(
        &*store,
        Some(&format!("carol.{tag}@example.com")),
        Some(&format!("ADA_{tag}_c")),
    )
    .await;
    let mut found = ids_with_prefix(&*store, &format!("ADA.{tag}")).await;
    found.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(found, std::slice::from_ref(&ada));
    assert_eq!(ids_with_prefix(&*store, &format!("bob_{tag}")).await, [bob]);
    // "ada" is a prefix of one email and of another user's username.
    let found = ids_with_prefix(&*store, "ada").await;
    assert!(found.contains(&ada) && found.contains(&both), "{found:?}");
    assert!(ids_with_prefix(&*store, &tag).await.is_empty());
}

/// Pages of a search follow each other by id with no overlap and no gap, and every page is
/// in ascending id order.
pub async fn user_search_pages_by_id_with_no_overlap_and_no_gap(store: Arc<dyn Store>) {
    let tag = unique();
    let mut all = Vec::new();
    for i in 0..7 {
        let email = format!("page{i}.{tag}@example.com");
        all.push(user(&*store, Some(&email), None).await);
    }
    all.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let search = UserSearch {
            prefix: Some("page".into()),
            after: after.clone(),
            limit: 3,
            ..UserSearch::default()
        };
        let page = store.search_users(&search).await.unwrap();
        assert!(page.len() <= 3);
        let ids: Vec<UserId> = page.into_iter().map(|r| r.user.id).collect();
        let Some(last) = ids.last().cloned() else {
            break;
        };
        seen.extend(ids);
        after = Some(last);
    }
    assert_eq!(seen, all);
}

/// The role and disabled filters narrow the search, alone or with a prefix.
pub async fn user_search_filters_by_role_and_disabled(store: Arc<dyn Store>) {
    let tag = unique();
    let mut admin = user_with(Some(&format!("boss.{tag}@example.com")), None);
    admin.user.role = "admin".into();
    store.insert_user(&admin).await.unwrap();
    let off = user(&*store, Some(&format!("off.{tag}@example.com")), None).await;
    store.set_disabled(&off, Some(now())).await.unwrap();
    let on = user(&*store, Some(&format!("on.{tag}@example.com")), None).await;
    let search = |role: Option<&str>, disabled: Option<bool>| UserSearch {
        role: role.map(str::to_owned),
        disabled,
        limit: 100,
        ..UserSearch::default()
    };
    let ids = |found: Vec<authgate_core::domain::UserRecord>| -> Vec<UserId> {
        found.into_iter().map(|r| r.user.id).collect()
    };
    let admins = store.search_users(&search(Some("admin"), None)).await;
    assert_eq!(ids(admins.unwrap()), [admin.user.id.clone()]);
    let disabled = store.search_users(&search(None, Some(true))).await;
    assert_eq!(ids(disabled.unwrap()), std::slice::from_ref(&off));
    let enabled = ids(store
        .search_users(&search(None, Some(false)))
        .await
        .unwrap());
    assert!(enabled.contains(&on) && enabled.contains(&admin.user.id) && !enabled.contains(&off));
    let mut with_prefix = search(Some("user"), Some(false));
    with_prefix.prefix = Some("on.".into());
    assert_eq!(ids(store.search_users(&with_prefix).await.unwrap()), [on]);
}

/// Only the user's live sessions count: not revoked, not expired, not another user's.
pub async fn count_live_sessions_counts_only_the_users_live_sessions(store: Arc<dyn Store>) {
    let (ada, bob) = (
        crate::helpers::insert_user(&*store).await,
        crate::helpers::insert_user(&*store).await,
    );
    let t = now();
    open_session(&*store, &ada, t, Duration::hours(1)).await;
    let (revoked, _) = open_session(&*store, &ada, t, Duration::hours(1)).await;
    store.revoke_session(&ada, &revoked, t).await.unwrap();
    open_session(&*store, &ada, t - Duration::hours(2), Duration::hours(1)).await;
    open_session(&*store, &bob, t, Duration::hours(1)).await;
    assert_eq!(store.count_live_sessions(&ada, t).await.unwrap(), 1);
    assert_eq!(
        store.count_live_sessions(&UserId::new(), t).await.unwrap(),
        0
    );
}

/// Disabled accounts do not count among the enabled holders of a role.
pub async fn count_enabled_with_role_skips_disabled_accounts(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut admin = crate::helpers::new_user();
        admin.user.role = "admin".into();
        store.insert_user(&admin).await.unwrap();
        ids.push(admin.user.id);
    }
    crate::helpers::insert_user(&*store).await;
    store.set_disabled(&ids[0], Some(now())).await.unwrap();
    assert_eq!(store.count_enabled_with_role("admin").await.unwrap(), 2);
    assert_eq!(store.count_enabled_with_role("user").await.unwrap(), 1);
    assert_eq!(store.count_enabled_with_role("editor").await.unwrap(), 0);
}

/// A patch writes what it names and leaves the rest: role, names, a new username (found by
/// its normalized form, the old one free again), the verified flag set and cleared.
pub async fn update_user_writes_only_the_fields_it_names(store: Arc<dyn Store>) {
    let new = crate::helpers::new_user();
    store.insert_user(&new).await.unwrap();
    let id = new.user.id.clone();
    let tag = unique();
    let patch = UserPatch {
        role: Some("editor".into()),
        name: Some(Some("Ada King".into())),
        last_name: Some(None),
        username: Some(Some(Normalized {
            display: format!("Countess_{tag}"),
            normalized: format!("countess_{tag}"),
        })),
        email_verified_at: Some(Some(now())),
        ..UserPatch::default()
    };
    store.update_user(&id, &patch).await.unwrap();
    let got = store
        .find_user_by_username(&format!("countess_{tag}"))
        .await
        .unwrap()
        .expect("found by the new username");
    assert_eq!(got.user.id, id);
    assert_eq!(got.user.role, "editor");
    assert_eq!(got.user.name.as_deref(), Some("Ada King"));
    assert_eq!(got.user.first_name, new.user.first_name);
    assert_eq!(got.user.last_name, None);
    assert_eq!(
        got.user.username.as_deref(),
        Some(&*format!("Countess_{tag}"))
    );
    assert_eq!(got.user.email, new.user.email);
    assert!(got.user.email_verified);
    let old = new.username_normalized.as_deref().unwrap();
    assert!(store.find_user_by_username(old).await.unwrap().is_none());
    let unverify = UserPatch {
        email_verified_at: Some(None),
        ..UserPatch::default()
    };
    store.update_user(&id, &unverify).await.unwrap();
    let got = store.find_user_by_id(&id).await.unwrap().unwrap();
    assert!(!got.user.email_verified);
    assert_eq!(got.user.role, "editor");
}

/// A new email address replaces the old one (found by it, not by the old one).
pub async fn update_user_can_change_the_email_address(store: Arc<dyn Store>) {
    let new = crate::helpers::new_user();
    store.insert_user(&new).await.unwrap();
    let address = format!("New.{}@Example.org", unique());
    let patch = UserPatch {
        email: Some(Normalized {
            display: address.clone(),
            normalized: address.to_lowercase(),
        }),
        email_verified_at: Some(Some(now())),
        ..UserPatch::default()
    };
    store.update_user(&new.user.id, &patch).await.unwrap();
    let got = store
        .find_user_by_email(&address.to_lowercase())
        .await
        .unwrap()
        .expect("found by the new address");
    assert_eq!(got.user.email.as_deref(), Some(address.as_str()));
    assert!(got.user.email_verified);
    let old = new.email_normalized.as_deref().unwrap();
    assert!(store.find_user_by_email(old).await.unwrap().is_none());
}

/// Taking another user's username or email (in other case) is a conflict naming the field,
/// and an unknown user is not found.
pub async fn update_user_to_a_taken_username_or_email_is_a_conflict(store: Arc<dyn Store>) {
    let (ada, bob) = (crate::helpers::new_user(), crate::helpers::new_user());
    store.insert_user(&ada).await.unwrap();
    store.insert_user(&bob).await.unwrap();
    let taken = ada.username_normalized.clone().unwrap();
    let patch = UserPatch {
        username: Some(Some(Normalized {
            display: taken.to_uppercase(),
            normalized: taken,
        })),
        ..UserPatch::default()
    };
    let err = store.update_user(&bob.user.id, &patch).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "username" }),
        "{err:?}"
    );
    let taken = ada.email_normalized.clone().unwrap();
    let patch = UserPatch {
        email: Some(Normalized {
            display: taken.to_uppercase(),
            normalized: taken,
        }),
        ..UserPatch::default()
    };
    let err = store.update_user(&bob.user.id, &patch).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "email" }),
        "{err:?}"
    );
    let unknown = store
        .update_user(&UserId::new(), &UserPatch::default())
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
}

/// An audit event of `user` of type `kind`, `ms` milliseconds from now.
fn event(user: Option<&UserId>, kind: &str, ms: i64) -> AuditRecord {
    AuditRecord {
        id: uuid::Uuid::now_v7().to_string(),
        at: now() + Duration::milliseconds(ms),
        kind: kind.into(),
        outcome: "success".into(),
        user_id: user.cloned(),
        session_id: None,
        ip: None,
        user_agent: None,
        request_id: None,
        detail: None,
    }
}

/// Erasing a user removes their sessions and refresh tokens, one-time tokens and the mail
/// to them, queues the confirmation, keeps their audit events, and leaves other users alone.
pub async fn erasing_a_user_removes_sessions_tokens_and_mail_and_keeps_audit(
    store: Arc<dyn Store>,
) {
    let (ada, bob) = (crate::helpers::new_user(), crate::helpers::new_user());
    store.insert_user(&ada).await.unwrap();
    store.insert_user(&bob).await.unwrap();
    let (id, t) = (ada.user.id.clone(), now());
    let (session, refresh) = open_session(&*store, &id, t, Duration::hours(1)).await;
    let (bob_session, _) = open_session(&*store, &bob.user.id, t, Duration::hours(1)).await;
    let reset = issue_token(&*store, &id, TokenPurpose::ResetPassword).await;
    let address = ada.user.email.clone().unwrap();
    store.enqueue_mail(&mail_to(&address), t).await.unwrap();
    store
        .enqueue_mail(&mail_to(&bob.user.email.clone().unwrap()), t)
        .await
        .unwrap();
    let kept = event(Some(&id), "login_succeeded", 0);
    store.record_audit(&kept).await.unwrap();
    // The reset token's mail (to its own address) and the two queued mails.
    assert_eq!(store.mail_queue_depth().await.unwrap(), 3);

    let erasure = UserErasure {
        user_id: id.clone(),
        mail_to: vec![address.clone(), reset.email.clone()],
        confirmation: Some(mail_to(&address)),
        at: t,
    };
    assert!(store.erase_user(&erasure).await.unwrap());
    assert!(store.find_user_by_id(&id).await.unwrap().is_none());
    assert!(store
        .live_session_owner(&session, t)
        .await
        .unwrap()
        .is_none());
    assert!(store.find_refresh_token(&refresh).await.unwrap().is_none());
    let token = store
        .find_unexpired_one_time_token(&reset.hash, TokenPurpose::ResetPassword, t)
        .await
        .unwrap();
    assert!(token.is_none());
    // Bob's mail and the confirmation are left.
    assert_eq!(store.mail_queue_depth().await.unwrap(), 2);
    assert_eq!(store.list_audit(&id, None, 10).await.unwrap(), [kept]);
    assert_eq!(
        store.live_session_owner(&bob_session, t).await.unwrap(),
        Some(bob.user.id.clone())
    );
    // The address is free again.
    let again = user_with(ada.user.email.as_deref(), None);
    store.insert_user(&again).await.unwrap();
}

/// Erasing an unknown user answers `false` and queues no confirmation.
pub async fn erasing_an_unknown_user_returns_false_and_queues_nothing(store: Arc<dyn Store>) {
    let erasure = UserErasure {
        user_id: UserId::new(),
        mail_to: vec!["nobody@example.com".into()],
        confirmation: Some(mail_to("nobody@example.com")),
        at: now(),
    };
    assert!(!store.erase_user(&erasure).await.unwrap());
    assert_eq!(store.mail_queue_depth().await.unwrap(), 0);
}

/// The trail across users comes newest first; the user, type and time filters narrow it,
/// and `before` pages it with no overlap and no gap.
pub async fn audit_search_across_users_filters_and_pages(store: Arc<dyn Store>) {
    let (ada, bob) = (UserId::new(), UserId::new());
    let mut events = Vec::new();
    for i in 0..6 {
        let who = if i % 2 == 0 { &ada } else { &bob };
        let kind = if i < 3 { "login_failed" } else { "logout" };
        events.push(event(Some(who), kind, i * 1000));
    }
    events.push(event(None, "rate_limited", 6000));
    events.sort_by(|a, b| a.id.cmp(&b.id));
    store.record_audit_batch(&events).await.unwrap();
    let newest_first: Vec<String> = events.iter().rev().map(|e| e.id.clone()).collect();
    let search = |f: &dyn Fn(&mut AuditSearch)| {
        let mut s = AuditSearch {
            limit: 100,
            ..AuditSearch::default()
        };
        f(&mut s);
        s
    };
    let ids =
        |found: Vec<AuditRecord>| -> Vec<String> { found.into_iter().map(|e| e.id).collect() };
    let all = store.search_audit(&search(&|_| {})).await.unwrap();
    assert_eq!(ids(all), newest_first);
    let of_ada = store
        .search_audit(&search(&|s| s.user = Some(ada.clone())))
        .await;
    assert!(of_ada
        .unwrap()
        .iter()
        .all(|e| e.user_id.as_ref() == Some(&ada)));
    let logouts = store
        .search_audit(&search(&|s| s.kind = Some("logout".into())))
        .await;
    assert_eq!(logouts.unwrap().len(), 3);
    let since = events[4].at;
    let recent = store
        .search_audit(&search(&|s| s.since = Some(since)))
        .await;
    assert_eq!(ids(recent.unwrap()), newest_first[..3]);
    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let b = before.clone();
        let page = store
            .search_audit(&search(&|s| {
                s.before = b.clone();
                s.limit = 3;
            }))
            .await
            .unwrap();
        let Some(last) = page.last().map(|e| e.id.clone()) else {
            break;
        };
        paged.extend(ids(page));
        before = Some(last);
    }
    assert_eq!(paged, newest_first);
}
