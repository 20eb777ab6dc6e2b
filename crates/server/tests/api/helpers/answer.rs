//! Reading responses: [`Answer`] (status, headers, JSON body) with the contract's error
//! assertions, `Set-Cookie` parsing and JWT segments.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// A response read whole: status, headers and the body as JSON.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Reads the response; panics if the body is not JSON.
    pub(crate) async fn of(res: Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("a readable body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text:?}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The string at a JSON pointer; panics if absent or not a string.
    pub(crate) fn str(&self, pointer: &str) -> &str {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {}", self.body))
    }

    /// A header's value as text, if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the contract's error shape: this status, this code, a non-empty message, and
    /// no field besides `message`, `code` and `details`.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        let message = self.body["message"].as_str().unwrap_or("");
        assert!(!message.trim().is_empty(), "no message: {}", self.body);
        let lower = message.to_lowercase();
        for leak in [
            "sql",
            "argon2",
            "$2b$",
            "panicked",
            "backtrace",
            "src/",
            ".rs:",
        ] {
            assert!(
                !lower.contains(leak),
                "the message leaks {leak:?}: {message}"
            );
        }
        let object = self.body.as_object().expect("an error is a JSON object");
        for key in object.keys() {
            assert!(
                ["message", "code", "details"].contains(&key.as_str()),
                "unexpected field {key:?} in {}",
                self.body
            );
        }
        let json = self.header("content-type").unwrap_or("");
        assert!(
            json.starts_with("application/json"),
            "content type {json:?}"
        );
    }

    /// Asserts a 400 `validation_error` whose `details` name `field` with a problem.
    #[track_caller]
    pub(crate) fn assert_invalid_field(&self, field: &str) {
        self.assert_error(StatusCode::BAD_REQUEST, "validation_error");
        let problems = self.body["details"][field].as_array();
        assert!(
            problems.is_some_and(|p| !p.is_empty() && p.iter().all(Value::is_string)),
            "details do not name {field:?}: {}",
            self.body
        );
    }

    /// Every `Set-Cookie` header.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The `Set-Cookie` header of the `refreshToken` cookie, if there is exactly one.
    pub(crate) fn refresh_set_cookie(&self) -> Option<String> {
        let all: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with("refreshToken="))
            .collect();
        assert!(all.len() <= 1, "several refreshToken cookies: {all:?}");
        all.into_iter().next()
    }
}

/// The value of a `Set-Cookie` header (`name=value; ...` -> `value`).
pub(crate) fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or("");
    pair.split_once('=').map_or("", |(_, v)| v)
}

/// The attributes of a `Set-Cookie` header, lower-cased (`max-age=0`, `samesite=lax`...).
pub(crate) fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// A JWT segment (0 header, 1 claims) decoded as JSON.
pub(crate) fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url segment");
    serde_json::from_slice(&bytes).expect("a JSON segment")
}

/// Encodes JSON as an unpadded base64url JWT segment.
pub(crate) fn jwt_segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}
