//! Loading the signing keys at start-up: generate and persist an Ed25519 key pair on first
//! start, or use the HS256 secret when one is configured.

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::error::{AuthError, StoreError};
use crate::store::{Store, StoredKey};
use crate::tokens::{generate_ed25519_key, TokenSigner};

/// Builds the token signer: HS256 when `hs256_secret` is given, else EdDSA with the stored
/// keys, creating the first key pair if there is none; `now` decides which retired keys are
/// still published.
///
/// Instances starting at once on an empty database all propose a key under the same kid
/// ([`next_kid_after`] what they found), so exactly one insert wins; the others get a
/// conflict, read the winner's key and sign with it, and a token from any of them verifies
/// on all of them from the first request.
pub async fn load_signer(
    store: &dyn Store,
    config: &AuthConfig,
    hs256_secret: Option<&SecretString>,
    now: DateTime<Utc>,
) -> Result<TokenSigner, AuthError> {
    if let Some(secret) = hs256_secret {
        return Ok(TokenSigner::hs256(
            secret.expose_secret().as_bytes(),
            &config.public_url,
            &config.audience,
        )
        .with_clock_skew(clock_skew(config)));
    }
    let mut keys = store.signing_keys().await?;
    if !keys
        .iter()
        .any(|k| k.algorithm == "EdDSA" && k.retired_at.is_none())
    {
        let mut key = generate_ed25519_key(now)?;
        key.kid = next_kid_after(&keys);
        match store.insert_signing_key(&key).await {
            Ok(()) => tracing::info!(kid = %key.kid, "generated a new Ed25519 signing key"),
            Err(StoreError::Conflict { .. }) => {
                tracing::info!(kid = %key.kid, "another instance created the signing key first; using it");
            }
            Err(e) => return Err(e.into()),
        }
        keys = store.signing_keys().await?;
    }
    TokenSigner::ed25519(
        &keys,
        &config.public_url,
        &config.audience,
        now,
        publish_window(config),
    )
    .map(|signer| signer.with_clock_skew(clock_skew(config)))
}

fn clock_skew(config: &AuthConfig) -> std::time::Duration {
    config.token_clock_skew.to_std().unwrap_or_default()
}

/// The kid of the key that follows `keys` when none of them is in force: the same on every
/// instance that sees the same keys, so concurrent creators collide on the key's unique kid.
fn next_kid_after(keys: &[StoredKey]) -> String {
    // Named after every kid seen (a set that only grows), so it never repeats an old one.
    let mut seen: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    seen.sort_unstable();
    let digest = Sha256::digest(format!("authgate signing key after [{}]", seen.join(",")));
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("ed25519-{hex}")
}

/// How often a running instance reads the signing keys again
/// ([`crate::AuthService::reload_signing_keys`]), so a rotation reaches it without a restart.
pub const KEY_RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Generates a new signing key and retires the others; they stay published until every
/// token they signed has expired. Running instances sign with the new key within
/// [`KEY_RELOAD_INTERVAL`], or at once on a store with an invalidation feed (the change is
/// published as [`crate::invalidation::SIGNING_KEYS_CHANGED`]).
pub async fn rotate_signing_key(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let key = generate_ed25519_key(now)?;
    store.insert_signing_key(&key).await?;
    store.retire_signing_keys_except(&key.kid, now).await?;
    if let Some(feed) = store.invalidations() {
        if let Err(e) = feed
            .publish(crate::invalidation::SIGNING_KEYS_CHANGED)
            .await
        {
            tracing::warn!(error = %e, "could not tell running instances of the new key; they read it within a minute");
        }
    }
    Ok(key.kid)
}

/// Retired keys stay published for one access-token life after the last instance can have
/// signed with them (one reload interval after the retirement), plus a minute of clock slack.
fn publish_window(config: &AuthConfig) -> Duration {
    let reload = Duration::from_std(KEY_RELOAD_INTERVAL).unwrap_or(Duration::minutes(1));
    config.access_token_ttl + reload + Duration::minutes(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retired_key_stays_published_for_a_token_life_after_the_last_reload_could_use_it() {
        let config = AuthConfig {
            access_token_ttl: Duration::minutes(15),
            ..AuthConfig::default()
        };
        let reload = Duration::from_std(KEY_RELOAD_INTERVAL).unwrap();

        let window = publish_window(&config);

        // An instance may sign with the key until its next reload, and that token lives
        // one access-token life.
        assert!(window > config.access_token_ttl + reload, "{window}");
        assert!(window <= config.access_token_ttl + reload + Duration::minutes(2));
    }
}
