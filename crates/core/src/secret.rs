//! Opaque secrets (refresh tokens, one-time tokens): generation, hashing, derivation.
//!
//! Secrets are 256 random bits, sent as unpadded base64url. Stores keep only their SHA-256
//! ([`TokenHash`]): 256-bit random values need no slow hash, and a database leak yields
//! nothing a client could present.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A secret value handed to a client once. Its `Debug` never prints the value.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken(String);

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpaqueToken(<redacted>)")
    }
}

impl OpaqueToken {
    /// 256 fresh random bits from the OS generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        OpaqueToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a value a client presented. Returns `None` for anything that cannot be one of
    /// ours (wrong length or alphabet), so garbage never reaches the store.
    pub fn from_client(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| OpaqueToken(raw.to_owned()))
    }

    /// The successor of this token in a session's rotation chain: HMAC-SHA256 keyed with the
    /// session's rotation key. Deterministic, so concurrent refreshes with one token all
    /// compute the same successor; unpredictable without both the token and the key.
    pub fn successor(&self, rotation_key: &[u8]) -> Self {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(rotation_key).expect("HMAC accepts any key length");
        mac.update(self.0.as_bytes());
        OpaqueToken(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The hash under which the store keeps this token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The value to send to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of an [`OpaqueToken`]; what stores index and compare.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

impl TokenHash {
    /// Lower-case hex, for backends that store text.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses lower- or upper-case hex of 64 digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(TokenHash(out))
    }
}

/// 32 random bytes for a session's rotation key.
pub fn random_key() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_43_base64url_characters_and_distinct() {
        let a = OpaqueToken::generate();
        let b = OpaqueToken::generate();
        assert_ne!(a, b);
        assert!(OpaqueToken::from_client(a.expose()).is_some());
    }

    #[test]
    fn garbage_is_not_a_token() {
        assert!(OpaqueToken::from_client("short").is_none());
        assert!(OpaqueToken::from_client(&"!".repeat(43)).is_none());
    }

    #[test]
    fn successor_is_deterministic_per_key_and_differs_across_keys() {
        let t = OpaqueToken::generate();
        assert_eq!(t.successor(b"k1"), t.successor(b"k1"));
        assert_ne!(t.successor(b"k1"), t.successor(b"k2"));
        assert!(OpaqueToken::from_client(t.successor(b"k1").expose()).is_some());
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let h = OpaqueToken::generate().hash();
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(TokenHash::from_hex("zz"), None);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let t = OpaqueToken::generate();
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
