//! jsonwebtoken's crypto provider, with Ed25519 keys kept parsed between tokens.
//!
//! jsonwebtoken asks its provider for a fresh signer or verifier for every token, and the
//! stock RustCrypto provider rebuilds the key each time: it decodes PKCS#8 and derives the
//! public key per signature, and decompresses the public point per verification. That
//! roughly tripled the cost of signing and added half to verifying (see
//! `crates/core/benches/tokens.rs`). This provider keeps each Ed25519 key parsed once, and
//! hands every other algorithm to the stock provider. Everything else about decoding and
//! validation (algorithm allow-list, `exp`, `iss`, `aud`) stays jsonwebtoken's.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{OnceLock, RwLock};

use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use jsonwebtoken::crypto::{rust_crypto, CryptoProvider, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// Installs the caching provider for this process, if no provider was chosen yet (otherwise
/// tokens are still signed and verified correctly, only without the cache).
pub(crate) fn install() {
    static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();
    let provider = PROVIDER.get_or_init(|| CryptoProvider {
        signer_factory: signer,
        verifier_factory: verifier,
        key_utils: rust_crypto::DEFAULT_PROVIDER.key_utils.clone(),
    });
    let _ = provider.install_default();
}

/// Parsed keys by their encoded form. Only the service's own keys ever get here (the key
/// is chosen by `kid` among ours, never taken from a token), so the maps stay tiny.
static SIGNING: OnceLock<RwLock<HashMap<Vec<u8>, SigningKey>>> = OnceLock::new();
static VERIFYING: OnceLock<RwLock<HashMap<[u8; 32], VerifyingKey>>> = OnceLock::new();

fn signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *alg != Algorithm::EdDSA {
        return (rust_crypto::DEFAULT_PROVIDER.signer_factory)(alg, key);
    }
    let signing = parsed_once(
        SIGNING.get_or_init(Default::default),
        key.as_bytes(),
        |der| SigningKey::from_pkcs8_der(der).map_err(|_| ErrorKind::InvalidEddsaKey.into()),
    )?;
    Ok(Box::new(EdSigner(signing)))
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *alg != Algorithm::EdDSA {
        return (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(alg, key);
    }
    let bytes: [u8; 32] = key
        .try_get_as_bytes()?
        .get(..32)
        .and_then(|b| b.try_into().ok())
        .ok_or(ErrorKind::InvalidEddsaKey)?;
    let verifying = parsed_once(VERIFYING.get_or_init(Default::default), &bytes, |b| {
        VerifyingKey::from_bytes(b).map_err(|_| ErrorKind::InvalidEddsaKey.into())
    })?;
    Ok(Box::new(EdVerifier(verifying)))
}

/// The key cached under `encoded`, parsed and cached on first use.
fn parsed_once<K, Q, V>(
    cache: &RwLock<HashMap<K, V>>,
    encoded: &Q,
    parse: impl FnOnce(&Q) -> Result<V>,
) -> Result<V>
where
    K: Borrow<Q> + Eq + Hash,
    Q: ToOwned<Owned = K> + Eq + Hash + ?Sized,
    V: Clone,
{
    let cached = cache
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(encoded)
        .cloned();
    if let Some(key) = cached {
        return Ok(key);
    }
    let key = parse(encoded)?;
    cache
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(encoded.to_owned(), key.clone());
    Ok(key)
}

struct EdSigner(SigningKey);

impl Signer<Vec<u8>> for EdSigner {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, Error> {
        Ok(self.0.sign(msg).to_bytes().to_vec())
    }
}

impl JwtSigner for EdSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct EdVerifier(VerifyingKey);

impl Verifier<Vec<u8>> for EdVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
        // The same check as the stock provider. (`verify_strict` would also decompress R
        // to refuse malleable signatures, ~10 % more per request; a re-encoded signature of
        // the same claims grants nothing, and the key is ours, never small-order.)
        self.0.verify(msg, &Signature::from_slice(signature)?)
    }
}

impl JwtVerifier for EdVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}
