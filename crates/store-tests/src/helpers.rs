//! Builders for the contract cases: unique users, sessions, tokens and mails.

use std::future::Future;
use std::sync::Arc;

use authgate_core::domain::{NewUser, Session, SessionId, User, UserId};
use authgate_core::secret::{random_key, OpaqueToken, TokenHash};
use authgate_core::store::{NewOneTimeToken, NewSession, OutgoingMail, StoredKey, TokenPurpose};
use authgate_core::Store;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use tokio::sync::Barrier;

/// The current time in whole milliseconds, the precision every backend keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A short random string (12 hex digits).
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A user with a unique mixed-case email and username, created at `now()`.
pub fn new_user() -> NewUser {
    let tag = unique();
    user_with(
        Some(&format!("Ada.{tag}@Example.com")),
        Some(&format!("Ada_{tag}")),
    )
}

/// A user with the given email and username (as typed; normalized by lower-casing).
pub fn user_with(email: Option<&str>, username: Option<&str>) -> NewUser {
    NewUser {
        user: User {
            id: UserId::new(),
            email: email.map(str::to_owned),
            username: username.map(str::to_owned),
            name: Some("Ada Lovelace".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            role: "user".into(),
            email_verified: false,
            created_at: now(),
            last_login_at: None,
        },
        email_normalized: email.map(str::to_lowercase),
        username_normalized: username.map(str::to_lowercase),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
    }
}

/// Inserts a fresh user and returns its id.
pub async fn insert_user(store: &dyn Store) -> UserId {
    let user = new_user();
    store
        .insert_user(&user)
        .await
        .expect("inserting a fresh user");
    user.user.id
}

/// A fresh refresh token's hash (or any one-time token's).
pub fn token_hash() -> TokenHash {
    OpaqueToken::generate().hash()
}

/// A session of `user_id` created at `created_at`, expiring `ttl` later, and its first
/// refresh token's hash.
pub fn new_session(
    user_id: &UserId,
    created_at: DateTime<Utc>,
    ttl: Duration,
) -> (NewSession, TokenHash) {
    let refresh_hash = token_hash();
    let session = Session {
        id: SessionId::new(),
        user_id: user_id.clone(),
        created_at,
        last_used_at: created_at,
        expires_at: created_at + ttl,
        user_agent: Some("contract-tests/1.0".into()),
        ip: Some("192.0.2.7".into()),
    };
    (
        NewSession {
            session,
            refresh_hash,
            rotation_key: random_key(),
        },
        refresh_hash,
    )
}

/// Opens a session of `user_id` created at `created_at` and living `ttl`; returns its id and
/// refresh token hash.
pub async fn open_session(
    store: &dyn Store,
    user_id: &UserId,
    created_at: DateTime<Utc>,
    ttl: Duration,
) -> (SessionId, TokenHash) {
    let (new, hash) = new_session(user_id, created_at, ttl);
    store
        .create_session(&new)
        .await
        .expect("creating a session");
    (new.session.id, hash)
}

/// A mail to `to` with a unique id.
pub fn mail_to(to: &str) -> OutgoingMail {
    OutgoingMail {
        id: uuid::Uuid::now_v7().to_string(),
        to: to.to_owned(),
        subject: "Verify your email".into(),
        text_body: "Open https://example.com/verify?token=abc".into(),
        html_body: "<p><a href=\"https://example.com/verify?token=abc\">Verify</a></p>".into(),
    }
}

/// A one-time token for `user_id`, created at `created_at` and valid for `ttl`.
pub fn one_time_token(
    user_id: &UserId,
    purpose: TokenPurpose,
    created_at: DateTime<Utc>,
    ttl: Duration,
) -> NewOneTimeToken {
    NewOneTimeToken {
        hash: token_hash(),
        user_id: user_id.clone(),
        purpose,
        email: format!("ada.{}@example.com", unique()),
        created_at,
        expires_at: created_at + ttl,
    }
}

/// Stores a live one-time token (valid for an hour, with its mail) beside the user's
/// earlier ones, and returns it.
pub async fn issue_token(
    store: &dyn Store,
    user_id: &UserId,
    purpose: TokenPurpose,
) -> NewOneTimeToken {
    store_token(
        store,
        one_time_token(user_id, purpose, now(), Duration::hours(1)),
        false,
    )
    .await
}

/// Like [`issue_token`], but the user's earlier unused tokens of that purpose die.
pub async fn issue_token_superseding(
    store: &dyn Store,
    user_id: &UserId,
    purpose: TokenPurpose,
) -> NewOneTimeToken {
    store_token(
        store,
        one_time_token(user_id, purpose, now(), Duration::hours(1)),
        true,
    )
    .await
}

/// Like [`issue_token`], valid for `ttl` from now.
pub async fn issue_token_lasting(
    store: &dyn Store,
    user_id: &UserId,
    purpose: TokenPurpose,
    ttl: Duration,
) -> NewOneTimeToken {
    store_token(store, one_time_token(user_id, purpose, now(), ttl), false).await
}

/// A token that expired a minute ago (issued an hour and a minute ago, valid for an hour).
pub async fn issue_expired_token(
    store: &dyn Store,
    user_id: &UserId,
    purpose: TokenPurpose,
) -> NewOneTimeToken {
    let issued = now() - Duration::minutes(61);
    store_token(
        store,
        one_time_token(user_id, purpose, issued, Duration::hours(1)),
        false,
    )
    .await
}

async fn store_token(
    store: &dyn Store,
    token: NewOneTimeToken,
    supersede: bool,
) -> NewOneTimeToken {
    let mail = mail_to(&token.email);
    store
        .create_one_time_token(&token, &mail, supersede)
        .await
        .expect("creating a one-time token");
    token
}

/// A signing key with id `kid`, created at `created_at`.
pub fn signing_key(kid: &str, created_at: DateTime<Utc>) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        algorithm: "EdDSA".into(),
        private_der: vec![0x30, 0x2e, 0x02, 0x01, 0x00, 7, 7, 7],
        public_key: vec![42; 32],
        created_at,
        retired_at: None,
    }
}

/// Runs `n` copies of `task` (given its index) at once on the runtime's worker threads,
/// released together by a barrier, and returns their outputs.
pub async fn race<T, F, Fut>(store: &Arc<dyn Store>, n: usize, task: F) -> Vec<T>
where
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let fut = task(Arc::clone(store), i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("a racing task panicked"));
    }
    out
}
