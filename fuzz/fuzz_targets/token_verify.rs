//! Arbitrary bytes as an access token, verified by the EdDSA and the HS256 signer.
//!
//! Invariants: verification never panics; a token that verifies is one the signer itself
//! would produce for those claims (no second encoding of a valid token, no forgery), is
//! unexpired at `NOW` within the leeway, and names the expected issuer and audience.
#![no_main]

use authgate_core::tokens::TokenSigner;
use authgate_fuzz::{ed25519, hs256, AUDIENCE, ISSUER, NOW};
use libfuzzer_sys::fuzz_target;

fn check(signer: &TokenSigner, token: &str) {
    let Ok(claims) = signer.verify(token, NOW) else {
        return;
    };
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    assert!(
        claims.exp >= NOW - signer.clock_skew_secs(),
        "expired token accepted"
    );
    let again = signer
        .sign(&claims)
        .expect("claims that verified can be signed");
    assert_eq!(
        again, token,
        "a token verified that the signer would not have produced"
    );
}

fuzz_target!(|data: &[u8]| {
    // A header value reaches verification only as text.
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    check(ed25519(), token);
    check(hs256(), token);
});
