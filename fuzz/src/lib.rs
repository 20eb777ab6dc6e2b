//! What the fuzz targets share: the fixed test keys and signers, a raw JWT signer that does
//! not go through the code under test, and a way to run the extractors' futures.

use std::sync::LazyLock;

use authgate_core::store::StoredKey;
use authgate_core::tokens::TokenSigner;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};

/// The issuer every signer expects.
pub const ISSUER: &str = "https://auth.example.com";
/// The audience every signer expects.
pub const AUDIENCE: &str = "authgate";
/// "Now" for every verification (2027-01-15), so the corpora do not expire.
pub const NOW: i64 = 1_800_000_000;
/// The HS256 secret of [`hs256`] (fuzzing only).
pub const HS256_SECRET: &[u8; 32] = b"fuzzing-only-hs256-secret-32-byt";
/// Another HS256 secret: tokens it signs must never verify.
pub const FOREIGN_HS256_SECRET: &[u8; 32] = b"another-fuzzing-hs256-secret-32b";
/// The seed of [`ed25519`]'s key (fuzzing only).
pub const ED25519_SEED: [u8; 32] = [7; 32];
/// Another Ed25519 seed: tokens it signs must never verify.
pub const FOREIGN_ED25519_SEED: [u8; 32] = [8; 32];
/// The `kid` of [`ed25519`]'s key.
pub const KID: &str = "ed25519-fuzz0000000";

/// The HS256 signer with [`HS256_SECRET`].
pub fn hs256() -> &'static TokenSigner {
    static SIGNER: LazyLock<TokenSigner> =
        LazyLock::new(|| TokenSigner::hs256(HS256_SECRET, ISSUER, AUDIENCE));
    &SIGNER
}

/// The EdDSA signer with the key of [`ED25519_SEED`], named [`KID`].
pub fn ed25519() -> &'static TokenSigner {
    static SIGNER: LazyLock<TokenSigner> = LazyLock::new(|| {
        let key = SigningKey::from_bytes(&ED25519_SEED);
        let created_at = DateTime::<Utc>::from_timestamp(NOW - 86_400, 0).expect("a valid time");
        let stored = StoredKey {
            kid: KID.into(),
            algorithm: "EdDSA".into(),
            private_der: key.to_pkcs8_der().expect("pkcs8").as_bytes().to_vec(),
            public_key: key.verifying_key().to_bytes().to_vec(),
            created_at,
            retired_at: None,
        };
        let now = DateTime::<Utc>::from_timestamp(NOW, 0).expect("a valid time");
        TokenSigner::ed25519(
            &[stored],
            ISSUER,
            AUDIENCE,
            now,
            chrono::Duration::minutes(15),
        )
        .expect("an EdDSA signer")
    });
    &SIGNER
}

/// Which key signs a raw token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKey {
    /// HMAC-SHA256 with [`HS256_SECRET`].
    Hs256,
    /// HMAC-SHA256 with [`FOREIGN_HS256_SECRET`].
    ForeignHs256,
    /// Ed25519 with [`ED25519_SEED`].
    Ed25519,
    /// Ed25519 with [`FOREIGN_ED25519_SEED`].
    ForeignEd25519,
}

/// `header.payload.signature` over the given JSON texts, signed here with `hmac` and
/// `ed25519-dalek` directly (not through jsonwebtoken, the code under test).
pub fn sign_raw(key: RawKey, header: &[u8], payload: &[u8]) -> (String, Vec<u8>) {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = match key {
        RawKey::Hs256 | RawKey::ForeignHs256 => {
            let secret = if key == RawKey::Hs256 {
                HS256_SECRET
            } else {
                FOREIGN_HS256_SECRET
            };
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        RawKey::Ed25519 | RawKey::ForeignEd25519 => {
            let seed = if key == RawKey::Ed25519 {
                &ED25519_SEED
            } else {
                &FOREIGN_ED25519_SEED
            };
            SigningKey::from_bytes(seed)
                .sign(input.as_bytes())
                .to_bytes()
                .to_vec()
        }
    };
    (input, signature)
}

/// Joins a signing input and a signature into a compact JWT.
pub fn compact(input: &str, signature: &[u8]) -> String {
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Runs a future that needs no I/O (an extractor reading an in-memory body) to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}
