//! Well-formed JWTs whose header and claims fields are mutated, signed with the right key,
//! the other algorithm's key, or a foreign key, and optionally with a damaged signature.
//!
//! Invariants: a token verifies only if it was signed by the signer's own key with its
//! algorithm (and, for EdDSA, names its `kid`), carries every claim with the right type,
//! the expected `iss` and `aud`, an `exp` not past at `NOW` (within the leeway), and its
//! signature is intact; the claims returned are the ones signed. Conversely a clean token
//! (only the standard header fields, no `nbf`) that meets all of that verifies.
#![no_main]

use authgate_core::tokens::TokenSigner;
use authgate_fuzz::{compact, ed25519, hs256, sign_raw, RawKey, AUDIENCE, ISSUER, KID, NOW};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

#[derive(Arbitrary, Debug)]
enum Verifier {
    Ed25519,
    Hs256,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Hs256,
    ForeignHs256,
    Ed25519,
    ForeignEd25519,
}

/// A string field: absent, the expected value, another string, or a value of another type.
#[derive(Arbitrary, Debug)]
enum Text {
    Expected,
    Absent,
    Other(String),
    Null,
    Number(i64),
    List(Vec<String>),
}

/// An integer field: absent, `NOW` plus an offset, or a value of another type.
#[derive(Arbitrary, Debug)]
enum Time {
    Offset(i32),
    Absent,
    Float(f64),
    Text(String),
    Null,
}

#[derive(Arbitrary, Debug)]
enum SignatureDamage {
    None,
    FlipBit(u16),
    ReplaceChar(u16, u8),
    Truncate(u8),
    Empty,
    AppendChar(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    verifier: Verifier,
    key: Key,
    alg: Text,
    kid: Text,
    typ: Text,
    crit: Option<Vec<String>>,
    extra_header: Option<(String, String)>,
    iss: Text,
    aud: Text,
    sub: Text,
    sid: Text,
    role: Text,
    jti: Text,
    iat: Time,
    exp: Time,
    nbf: Option<i32>,
    extra_claim: Option<(String, String)>,
    damage: SignatureDamage,
}

fn text(field: &Text, expected: &str) -> Option<Value> {
    match field {
        Text::Expected => Some(json!(expected)),
        Text::Absent => None,
        Text::Other(s) => Some(json!(s)),
        Text::Null => Some(Value::Null),
        Text::Number(n) => Some(json!(n)),
        Text::List(l) => Some(json!(l)),
    }
}

fn time(field: &Time) -> Option<Value> {
    match field {
        Time::Offset(o) => Some(json!(NOW + i64::from(*o))),
        Time::Absent => None,
        Time::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number),
        Time::Text(s) => Some(json!(s)),
        Time::Null => Some(Value::Null),
    }
}

fn put(map: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(name.into(), v);
    }
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn damage(token: String, signature: &[u8], input: &str, how: &SignatureDamage) -> String {
    let encoded_sig_start = input.len() + 1;
    match how {
        SignatureDamage::None => token,
        SignatureDamage::FlipBit(bit) => {
            let mut sig = signature.to_vec();
            let bit = usize::from(*bit) % (sig.len() * 8);
            sig[bit / 8] ^= 1 << (bit % 8);
            compact(input, &sig)
        }
        SignatureDamage::ReplaceChar(pos, c) => {
            let mut bytes = token.into_bytes();
            let sig_len = bytes.len() - encoded_sig_start;
            let at = encoded_sig_start + usize::from(*pos) % sig_len;
            let mut new = B64[usize::from(*c) % B64.len()];
            if new == bytes[at] {
                new = if new == b'A' { b'B' } else { b'A' };
            }
            bytes[at] = new;
            String::from_utf8(bytes).expect("base64 is ASCII")
        }
        SignatureDamage::Truncate(n) => {
            let keep = token.len() - 1 - usize::from(*n) % (token.len() - encoded_sig_start);
            token[..keep].to_owned()
        }
        SignatureDamage::Empty => format!("{input}."),
        SignatureDamage::AppendChar(c) => {
            format!("{token}{}", char::from(B64[usize::from(*c) % B64.len()]))
        }
    }
}

fn is_string(v: &Option<Value>, expected: &str) -> bool {
    v.as_ref().and_then(Value::as_str) == Some(expected)
}

fn is_any_string(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(Value::is_string)
}

fn as_i64(v: &Option<Value>) -> Option<i64> {
    v.as_ref().and_then(Value::as_i64)
}

fuzz_target!(|input: Input| {
    let (signer, own_key, alg_name): (&TokenSigner, Key, &str) = match input.verifier {
        Verifier::Ed25519 => (ed25519(), Key::Ed25519, "EdDSA"),
        Verifier::Hs256 => (hs256(), Key::Hs256, "HS256"),
    };
    let raw_key = match input.key {
        Key::Hs256 => RawKey::Hs256,
        Key::ForeignHs256 => RawKey::ForeignHs256,
        Key::Ed25519 => RawKey::Ed25519,
        Key::ForeignEd25519 => RawKey::ForeignEd25519,
    };

    let mut header = Map::new();
    put(&mut header, "alg", text(&input.alg, alg_name));
    put(&mut header, "kid", text(&input.kid, KID));
    put(&mut header, "typ", text(&input.typ, "JWT"));
    if let Some(crit) = &input.crit {
        header.insert("crit".into(), json!(crit));
    }
    if let Some((k, v)) = &input.extra_header {
        header.insert(k.clone(), json!(v));
    }

    let mut claims = Map::new();
    let fields = [
        ("iss", text(&input.iss, ISSUER)),
        ("aud", text(&input.aud, AUDIENCE)),
        (
            "sub",
            text(&input.sub, "0190d0c0-0000-7000-8000-000000000001"),
        ),
        (
            "sid",
            text(&input.sid, "0190d0c0-0000-7000-8000-000000000002"),
        ),
        ("role", text(&input.role, "user")),
        (
            "jti",
            text(&input.jti, "0190d0c0-0000-7000-8000-000000000003"),
        ),
    ];
    for (name, value) in &fields {
        put(&mut claims, name, value.clone());
    }
    put(&mut claims, "iat", time(&input.iat));
    put(&mut claims, "exp", time(&input.exp));
    if let Some(nbf) = input.nbf {
        claims.insert("nbf".into(), json!(NOW + i64::from(nbf)));
    }
    if let Some((k, v)) = &input.extra_claim {
        claims.insert(k.clone(), json!(v));
    }

    let header_json = serde_json::to_vec(&Value::Object(header.clone())).expect("json");
    let claims_json = serde_json::to_vec(&Value::Object(claims.clone())).expect("json");
    let (signing_input, signature) = sign_raw(raw_key, &header_json, &claims_json);
    let token = compact(&signing_input, &signature);
    let token = damage(token, &signature, &signing_input, &input.damage);
    let intact = matches!(input.damage, SignatureDamage::None);

    // What verification needs; claims the extra fields may overwrite are read back from
    // the maps actually signed.
    let signed_alg = header.get("alg").cloned();
    let signed_kid = header.get("kid").cloned();
    let get = |name: &str| claims.get(name).cloned();
    let own_signature = input.key == own_key && intact;
    let hs = matches!(input.verifier, Verifier::Hs256);
    let header_ok = is_string(&signed_alg, alg_name) && (hs || is_string(&signed_kid, KID));
    let claims_ok = is_string(&get("iss"), ISSUER)
        && is_string(&get("aud"), AUDIENCE)
        && ["sub", "sid", "role", "jti"]
            .into_iter()
            .all(|n| is_any_string(&get(n)))
        && as_i64(&get("iat")).is_some()
        && as_i64(&get("exp")).is_some_and(|e| e >= NOW - signer.clock_skew_secs());

    match signer.verify(&token, NOW) {
        Ok(verified) => {
            assert!(
                own_signature,
                "verified a token not signed intact with the signer's key"
            );
            assert!(
                header_ok,
                "verified a token with a wrong alg or kid: {header:?}"
            );
            assert!(
                claims_ok,
                "verified claims that must be refused: {claims:?}"
            );
            assert!(
                header.get("crit").is_none(),
                "verified a token naming critical extensions: {header:?}"
            );
            assert!(
                as_i64(&get("nbf")).is_none_or(|n| n <= NOW + signer.clock_skew_secs()),
                "verified a token not valid yet: {claims:?}"
            );
            assert_eq!(Some(json!(verified.sub)), get("sub"));
            assert_eq!(Some(json!(verified.sid)), get("sid"));
            assert_eq!(Some(json!(verified.role)), get("role"));
            assert_eq!(Some(json!(verified.jti)), get("jti"));
            assert_eq!(Some(json!(verified.exp)), get("exp"));
            assert_eq!(Some(json!(verified.iat)), get("iat"));
        }
        Err(_) => {
            let standard_header = header
                .keys()
                .all(|k| matches!(k.as_str(), "alg" | "kid" | "typ"))
                && header.get("typ").is_none_or(|t| t == "JWT")
                && header.get("kid").is_none_or(Value::is_string);
            let standard_claims = claims.keys().all(|k| {
                matches!(
                    k.as_str(),
                    "iss" | "aud" | "sub" | "sid" | "role" | "jti" | "iat" | "exp"
                )
            });
            assert!(
                !(own_signature && header_ok && claims_ok && standard_header && standard_claims),
                "refused a clean, valid token: {header:?} {claims:?}"
            );
        }
    }
});
