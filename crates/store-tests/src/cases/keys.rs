//! Signing keys.

use std::sync::Arc;

use authgate_core::keys::load_signer;
use authgate_core::{AuthConfig, Store, StoreError};
use chrono::Duration;

use crate::helpers::{now, signing_key};

/// Keys come back whole, oldest first.
pub async fn signing_keys_are_listed_oldest_first(store: Arc<dyn Store>) {
    let t = now();
    let newer = signing_key("k-newer", t);
    let mut older = signing_key("k-older", t - Duration::days(10));
    older.retired_at = Some(t - Duration::days(1));
    store.insert_signing_key(&newer).await.unwrap();
    store.insert_signing_key(&older).await.unwrap();

    let keys = store.signing_keys().await.unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["k-older", "k-newer"]);
    let k = &keys[0];
    assert_eq!(
        (&k.algorithm, &k.private_der, &k.public_key),
        (&older.algorithm, &older.private_der, &older.public_key)
    );
    assert_eq!(
        (k.created_at, k.retired_at),
        (older.created_at, older.retired_at)
    );
    assert_eq!(keys[1].retired_at, None);
}

/// Two keys cannot share a `kid`.
pub async fn inserting_a_signing_key_with_a_taken_kid_is_a_conflict(store: Arc<dyn Store>) {
    store
        .insert_signing_key(&signing_key("k1", now()))
        .await
        .unwrap();
    let err = store
        .insert_signing_key(&signing_key("k1", now()))
        .await
        .expect_err("kid is taken");
    assert!(
        matches!(err, StoreError::Conflict { field: "kid" }),
        "got {err:?}"
    );
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);
}

/// Retiring keeps the given key and newer ones signing, and leaves earlier retirements alone.
pub async fn retire_signing_keys_except_retires_only_older_unretired_keys(store: Arc<dyn Store>) {
    let t = now();
    let mut long_retired = signing_key("k0", t - Duration::days(30));
    long_retired.retired_at = Some(t - Duration::days(20));
    for key in [
        long_retired.clone(),
        signing_key("k1", t - Duration::days(10)),
        signing_key("k2", t - Duration::days(1)),
        signing_key("k3", t),
    ] {
        store.insert_signing_key(&key).await.unwrap();
    }
    store.retire_signing_keys_except("k2", t).await.unwrap();

    let retired: Vec<(String, Option<_>)> = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.retired_at))
        .collect();
    assert_eq!(
        retired,
        vec![
            ("k0".to_owned(), long_retired.retired_at),
            ("k1".to_owned(), Some(t)),
            ("k2".to_owned(), None),
            ("k3".to_owned(), None),
        ]
    );
}

/// Several instances starting at the same moment on an empty store end up signing with one
/// key, the same for all, so a token from any of them verifies on every other from the start.
pub async fn instances_starting_together_adopt_one_signing_key(store: Arc<dyn Store>) {
    let config = AuthConfig::default();
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let (store, config) = (store.clone(), config.clone());
            tokio::spawn(async move { load_signer(&*store, &config, None, now()).await })
        })
        .collect();
    let mut signers = Vec::new();
    for start in starts {
        signers.push(start.await.unwrap().expect("every instance starts"));
    }

    let kids: std::collections::BTreeSet<_> = signers.iter().map(|s| s.kid()).collect();
    assert_eq!(kids.len(), 1, "signing kids: {kids:?}");
    let active = store.signing_keys().await.unwrap();
    assert_eq!(active.len(), 1, "one key stored");
}
