//! Access tokens: signed JWTs carrying the session id, verified with an explicit algorithm
//! allow-list and required `exp`, `iss`, `aud`, `sub`.
//!
//! EdDSA (Ed25519) is the default: the public half can be published (JWKS) so other services
//! verify tokens without a shared secret; signatures are deterministic (no nonce to get
//! wrong, unlike ECDSA), keys are 32 bytes, and signing and verifying are fast. HS256 with a
//! configured secret of at least 32 bytes is the option for single-service setups.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{SessionId, UserId};
use crate::error::AuthError;
use crate::store::StoredKey;
use crate::verified_tokens::{VerifiedTokens, VERIFIED_TOKENS_CAPACITY};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer (the public URL).
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Session id: checked against the store on every request.
    pub sid: String,
    /// Role name.
    pub role: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

/// A verified access token: who is calling, and from which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The session the token belongs to.
    pub session_id: SessionId,
    /// The role the token was issued with.
    pub role: String,
}

/// Generates a fresh Ed25519 key pair for storage.
pub fn generate_ed25519_key(now: DateTime<Utc>) -> Result<StoredKey, AuthError> {
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| AuthError::Internal(format!("pkcs8: {e}")))?;
    let public_key = signing.verifying_key().to_bytes().to_vec();
    Ok(StoredKey {
        kid: format!(
            "ed25519-{}",
            &uuid::Uuid::now_v7().simple().to_string()[..16]
        ),
        algorithm: "EdDSA".into(),
        private_der: der.as_bytes().to_vec(),
        public_key,
        created_at: now,
        retired_at: None,
    })
}

/// Signs and verifies access tokens with the keys in force.
pub struct TokenSigner {
    algorithm: Algorithm,
    signing_kid: Option<String>,
    signing_key: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    hmac_key: Option<DecodingKey>,
    validation: Validation,
    jwks: serde_json::Value,
    leeway_secs: i64,
    /// Tokens this signer verified, so a token seen again skips the cryptography.
    verified: VerifiedTokens,
}

impl TokenSigner {
    /// HS256 with a shared secret (at least 32 bytes; checked at configuration).
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        crate::token_crypto::install();
        TokenSigner {
            algorithm: Algorithm::HS256,
            signing_kid: None,
            signing_key: EncodingKey::from_secret(secret),
            verifying: HashMap::new(),
            hmac_key: Some(DecodingKey::from_secret(secret)),
            validation: validation(Algorithm::HS256, issuer, audience),
            jwks: serde_json::json!({ "keys": [] }),
            leeway_secs: DEFAULT_CLOCK_SKEW_SECS,
            verified: VerifiedTokens::new(VERIFIED_TOKENS_CAPACITY),
        }
    }

    /// EdDSA with stored keys: the newest unretired key signs; every key retired less than
    /// `publish_for` ago still verifies and is published in the JWKS.
    pub fn ed25519(
        keys: &[StoredKey],
        issuer: &str,
        audience: &str,
        now: DateTime<Utc>,
        publish_for: chrono::Duration,
    ) -> Result<Self, AuthError> {
        crate::token_crypto::install();
        let active = keys
            .iter()
            .filter(|k| k.algorithm == "EdDSA" && k.retired_at.is_none())
            .max_by_key(|k| (k.created_at, k.kid.clone()))
            .ok_or_else(|| AuthError::Internal("no active signing key".into()))?;
        let published: Vec<&StoredKey> = keys
            .iter()
            .filter(|k| {
                k.algorithm == "EdDSA" && k.retired_at.is_none_or(|r| r + publish_for > now)
            })
            .collect();
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        for k in &published {
            let x = URL_SAFE_NO_PAD.encode(&k.public_key);
            let key = DecodingKey::from_ed_components(&x)
                .map_err(|e| AuthError::Internal(format!("key {}: {e}", k.kid)))?;
            verifying.insert(k.kid.clone(), key);
            jwks.push(serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": k.kid, "alg": "EdDSA", "use": "sig" }));
        }
        Ok(TokenSigner {
            algorithm: Algorithm::EdDSA,
            signing_kid: Some(active.kid.clone()),
            signing_key: EncodingKey::from_ed_der(&active.private_der),
            verifying,
            hmac_key: None,
            validation: validation(Algorithm::EdDSA, issuer, audience),
            jwks: serde_json::json!({ "keys": jwks }),
            leeway_secs: DEFAULT_CLOCK_SKEW_SECS,
            verified: VerifiedTokens::new(VERIFIED_TOKENS_CAPACITY),
        })
    }

    /// The JSON Web Key Set to publish (empty for HS256).
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The id of the key that signs (`None` for HS256).
    pub fn kid(&self) -> Option<&str> {
        self.signing_kid.as_deref()
    }

    /// The algorithm tokens are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Signs claims into a compact JWT.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        let mut header = Header::new(self.algorithm);
        header.kid = self.signing_kid.clone();
        jsonwebtoken::encode(&header, claims, &self.signing_key)
            .map_err(|e| AuthError::Internal(format!("sign: {e}")))
    }

    /// The clock skew tolerated when judging `exp` and `nbf` (whole seconds; default
    /// [`DEFAULT_CLOCK_SKEW_SECS`]).
    pub fn with_clock_skew(mut self, skew: std::time::Duration) -> Self {
        self.leeway_secs = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// The clock skew tolerated, in seconds.
    pub fn clock_skew_secs(&self) -> i64 {
        self.leeway_secs
    }

    /// Verifies signature, algorithm, `iss` and `aud`, that the header names no critical
    /// extension (`crit`, RFC 7515 §4.1.11: we understand none), that `exp` has not passed
    /// and `nbf` (when present) has come at `now` (seconds since the epoch, each with the
    /// configured clock skew); returns the claims.
    ///
    /// A token this signer verified before is answered from a bounded cache (at most
    /// [`VERIFIED_TOKENS_CAPACITY`] tokens, keyed by the whole token) while its `exp` holds:
    /// the same answer without the signature check.
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, AuthError> {
        let oldest_exp = now.saturating_sub(self.leeway_secs);
        if let Some(claims) = self.verified.get(token, oldest_exp) {
            return Ok(claims);
        }
        let claims = self.verify_uncached(token, now)?;
        self.verified.insert(token, &claims, oldest_exp);
        Ok(claims)
    }

    /// Whether this signer holds the key `token`'s header names: `false` only for a
    /// well-formed header whose `kid` it has not loaded (always `true` with HS256).
    pub fn knows_key_of(&self, token: &str) -> bool {
        if self.hmac_key.is_some() {
            return true;
        }
        match jsonwebtoken::decode_header(token) {
            Ok(header) => header
                .kid
                .is_none_or(|kid| self.verifying.contains_key(&kid)),
            Err(_) => true,
        }
    }

    /// [`Self::verify`] without the cache: every check, every time (benchmarks measure it).
    pub fn verify_uncached(&self, token: &str, now: i64) -> Result<AccessClaims, AuthError> {
        let invalid = || AuthError::Unauthenticated("Invalid or expired access token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        // We implement no JWS extension, so any `crit` (even an empty one, which RFC 7515
        // forbids) names one we do not understand.
        if header.crit.is_some() {
            return Err(invalid());
        }
        let key = match &self.hmac_key {
            Some(k) => k,
            None => {
                let kid = header.kid.ok_or_else(invalid)?;
                self.verifying.get(&kid).ok_or_else(invalid)?
            }
        };
        let checked = jsonwebtoken::decode::<CheckedClaims>(token, key, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| invalid())?;
        // jsonwebtoken would read the system clock; the service's clock decides instead.
        if checked.claims.exp < now.saturating_sub(self.leeway_secs) {
            return Err(invalid());
        }
        if checked
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway_secs))
        {
            return Err(invalid());
        }
        Ok(checked.claims)
    }
}

/// The claims as verification reads them: ours, and `nbf`, which we never issue but must
/// honour when present (RFC 7519 §4.1.5).
#[derive(Deserialize)]
struct CheckedClaims {
    #[serde(flatten)]
    claims: AccessClaims,
    #[serde(default)]
    nbf: Option<i64>,
}

/// Clock skew allowed by default when checking `exp` and `nbf`, in seconds
/// (`AUTHGATE_TOKEN_CLOCK_SKEW`).
pub const DEFAULT_CLOCK_SKEW_SECS: i64 = 5;

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.algorithms = vec![alg];
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // `exp` is required here and compared with the service's clock in `verify`.
    v.validate_exp = false;
    v.validate_nbf = false;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        Utc::now().timestamp()
    }

    fn claims(exp_offset: i64) -> AccessClaims {
        let now = now();
        AccessClaims {
            iss: "http://localhost:8080".into(),
            aud: "authgate".into(),
            sub: "u1".into(),
            sid: "s1".into(),
            role: "user".into(),
            iat: now,
            exp: now + exp_offset,
            jti: "j1".into(),
        }
    }

    fn ed_signer() -> TokenSigner {
        let key = generate_ed25519_key(Utc::now()).unwrap();
        TokenSigner::ed25519(
            &[key],
            "http://localhost:8080",
            "authgate",
            Utc::now(),
            chrono::Duration::minutes(15),
        )
        .unwrap()
    }

    #[test]
    fn an_ed25519_token_verifies_and_names_its_key() {
        let s = ed_signer();
        let t = s.sign(&claims(60)).unwrap();
        assert_eq!(s.verify(&t, now()).unwrap(), claims(60));
        let kid = jsonwebtoken::decode_header(&t).unwrap().kid.unwrap();
        assert_eq!(s.jwks()["keys"][0]["kid"], kid);
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let s = ed_signer();
        assert!(s.verify(&s.sign(&claims(-60)).unwrap(), now()).is_err());
        assert!(s
            .verify(&ed_signer().sign(&claims(60)).unwrap(), now())
            .is_err());
    }

    #[test]
    fn expiry_is_judged_by_the_time_given_with_the_leeway() {
        let s = ed_signer();
        let token = s.sign(&claims(60)).unwrap();
        let exp = claims(60).exp;
        assert!(s.verify(&token, exp + DEFAULT_CLOCK_SKEW_SECS).is_ok());
        assert!(s.verify(&token, exp + DEFAULT_CLOCK_SKEW_SECS + 1).is_err());
    }

    #[test]
    fn the_clock_skew_is_the_configured_one() {
        let s = ed_signer().with_clock_skew(std::time::Duration::from_secs(60));
        let token = s.sign(&claims(60)).unwrap();
        let exp = claims(60).exp;
        assert!(s.verify(&token, exp + 60).is_ok());
        assert!(s.verify(&token, exp + 61).is_err());
    }

    fn hs256_with(header: Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&[7u8; 32])).unwrap()
    }

    #[test]
    fn a_future_nbf_is_refused_beyond_the_clock_skew() {
        let s = TokenSigner::hs256(&[7u8; 32], "http://localhost:8080", "authgate");
        let mut c = serde_json::to_value(claims(600)).unwrap();
        c["nbf"] = serde_json::json!(now() + 60);
        let token = hs256_with(Header::new(Algorithm::HS256), &c);
        assert!(s.verify(&token, now()).is_err());
        assert!(s
            .verify(&token, now() + 60 - DEFAULT_CLOCK_SKEW_SECS)
            .is_ok());
        c["nbf"] = serde_json::json!(now() - 1);
        let token = hs256_with(Header::new(Algorithm::HS256), &c);
        assert!(s.verify(&token, now()).is_ok());
    }

    #[test]
    fn a_header_naming_critical_extensions_is_refused() {
        let s = TokenSigner::hs256(&[7u8; 32], "http://localhost:8080", "authgate");
        let c = serde_json::to_value(claims(600)).unwrap();
        for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], Vec::new()] {
            let mut header = Header::new(Algorithm::HS256);
            header.crit = Some(crit);
            assert!(s.verify(&hs256_with(header, &c), now()).is_err());
        }
        assert!(s
            .verify(&hs256_with(Header::new(Algorithm::HS256), &c), now())
            .is_ok());
    }

    #[test]
    fn wrong_issuer_or_audience_is_refused() {
        let s = ed_signer();
        let mut c = claims(60);
        c.iss = "https://evil.example".into();
        assert!(s.verify(&s.sign(&c).unwrap(), now()).is_err());
        let mut c = claims(60);
        c.aud = "other".into();
        assert!(s.verify(&s.sign(&c).unwrap(), now()).is_err());
    }

    #[test]
    fn hs256_tokens_do_not_verify_under_eddsa_and_vice_versa() {
        let hs = TokenSigner::hs256(&[7u8; 32], "http://localhost:8080", "authgate");
        let ed = ed_signer();
        assert!(ed.verify(&hs.sign(&claims(60)).unwrap(), now()).is_err());
        assert!(hs.verify(&ed.sign(&claims(60)).unwrap(), now()).is_err());
        assert!(hs.verify(&hs.sign(&claims(60)).unwrap(), now()).is_ok());
    }

    #[test]
    fn retired_keys_stay_published_only_for_the_grace_period() {
        let now = Utc::now();
        let mut old = generate_ed25519_key(now - chrono::Duration::hours(2)).unwrap();
        old.retired_at = Some(now - chrono::Duration::hours(1));
        let new = generate_ed25519_key(now).unwrap();
        let s = TokenSigner::ed25519(
            &[old.clone(), new.clone()],
            "i",
            "a",
            now,
            chrono::Duration::minutes(15),
        )
        .unwrap();
        assert_eq!(s.jwks()["keys"].as_array().unwrap().len(), 1);
        let s =
            TokenSigner::ed25519(&[old, new], "i", "a", now, chrono::Duration::hours(2)).unwrap();
        assert_eq!(s.jwks()["keys"].as_array().unwrap().len(), 2);
    }
}
