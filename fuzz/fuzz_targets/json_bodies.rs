//! Arbitrary bytes as the body of each API request, with one of several content types,
//! through the extractor and body type of its route (`authgate_http::fuzzing::extract_body`).
//!
//! Invariants: extraction never panics; a refused body is answered 400, 413 or 415 with the
//! contract's JSON error `{"message", "code"}`; an accepted body is a JSON object sent as
//! JSON (or, for introspection, a valid form sent as a form), or an empty optional body.
#![no_main]

use authgate_fuzz::block_on;
use authgate_http::fuzzing::{extract_body, Extractor, BODIES};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 9] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("Application/JSON"),
    Some("application/problem+json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("application/jsonx"),
    Some("multipart/form-data; boundary=x"),
];

fn is_json(ct: Option<&str>) -> bool {
    let Some(ct) = ct else { return false };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// A JSON object by the grammar (RFC 8259): `IgnoredAny`, unlike `Value`, also takes escaped
/// lone surrogates (`"\ud800"`), which the grammar allows and serde skips in unknown fields.
fn is_json_object(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

fuzz_target!(|data: &[u8]| {
    let [which, ct, body @ ..] = data else { return };
    let (name, extractor) = BODIES[usize::from(*which) % BODIES.len()];
    let ct = CONTENT_TYPES[usize::from(*ct) % CONTENT_TYPES.len()];
    let header = ct.map(HeaderValue::from_static);
    let result = block_on(extract_body(usize::from(*which), header, body.to_vec()));
    match result {
        Ok(()) => {
            let empty = body.iter().all(u8::is_ascii_whitespace);
            let ok = match extractor {
                Extractor::Json => is_json(ct) && is_json_object(body),
                Extractor::OptionalJson => empty || (is_json(ct) && is_json_object(body)),
                Extractor::FormOrJson => {
                    (is_json(ct) && is_json_object(body))
                        || (ct == Some("application/x-www-form-urlencoded")
                            && serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).is_ok())
                }
            };
            assert!(
                ok,
                "{name} accepted {ct:?} {:?}",
                String::from_utf8_lossy(body)
            );
        }
        Err(err) => {
            let response = err.into_response();
            let status = response.status();
            assert!(
                [
                    StatusCode::BAD_REQUEST,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                ]
                .contains(&status),
                "{name}: status {status}"
            );
            let bytes = block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
                .expect("an in-memory body");
            let json: serde_json::Value =
                serde_json::from_slice(&bytes).expect("the error body is JSON");
            assert!(json["message"].is_string(), "{json}");
            assert!(json["code"].is_string(), "{json}");
        }
    }
});
