//! Extractors: JSON bodies with contract errors, the caller's identity, client metadata.

use std::net::{IpAddr, SocketAddr};

use authgate_core::domain::ClientInfo;
use authgate_core::service::{Actor, Identity};
use authgate_core::tokens::Principal;
use authgate_core::AuthError;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::AppState;

/// A JSON body: 415 unless the content type is JSON, 413 past the body limit, 400 with
/// `malformed_json` for invalid JSON and `validation_error` naming the field for a value of
/// the wrong type.
pub struct ApiJson<T>(pub T);

/// Like [`ApiJson`], but an empty body is `None` (for endpoints whose body is optional).
pub struct OptionalJson<T>(pub Option<T>);

/// A body that is either `application/x-www-form-urlencoded` (as RFC 7662 introspection
/// sends it) or JSON: 415 for any other content type, 413 past the body limit, 400 with
/// `validation_error` for a form that does not parse.
pub struct FormOrJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json_content_type(req.headers());
        let bytes = read_body(req, state).await?;
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(ApiJson)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json_content_type(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json_content_type(req.headers());
        let is_form =
            mime_of(req.headers()).as_deref() == Some("application/x-www-form-urlencoded");
        let bytes = read_body(req, state).await?;
        if is_json {
            return parse_json(&bytes).map(FormOrJson);
        }
        if !is_form {
            return Err(ApiError::NotFormOrJson);
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(FormOrJson)
            .map_err(|e| ApiError::WrongShape {
                field: "body".into(),
                problem: format!("is not a valid form ({e})"),
            })
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedJson("the body could not be read".into())
        }
    })
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(mime) = mime_of(headers) else {
        return false;
    };
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The media type of the body, lower-cased, without parameters.
fn mime_of(headers: &HeaderMap) -> Option<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())?;
    Some(
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde fills a struct from an array too, field by field in order (`["a@b.co", "pw"]`);
    // the contract's bodies are objects, with named fields.
    if bytes.trim_ascii_start().first() == Some(&b'[') {
        return Err(ApiError::MalformedJson("expected a JSON object".into()));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if field != "." => ApiError::WrongShape {
                field,
                problem: data_problem(&inner),
            },
            serde_json::error::Category::Data => {
                ApiError::MalformedJson("expected a JSON object".into())
            }
            _ => {
                ApiError::MalformedJson(format!("line {} column {}", inner.line(), inner.column()))
            }
        }
    })?;
    // Only whitespace may follow the value: `{...}}` or `{...}garbage` is not JSON.
    de.end().map_err(|e| {
        ApiError::MalformedJson(format!(
            "unexpected characters at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    Ok(value)
}

/// serde's message without its position suffix, e.g. "invalid type: map, expected a string".
fn data_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The caller, authenticated by `Authorization: Bearer <accessToken>` with a live session.
pub struct AuthUser(pub Principal);

impl<S> FromRequestParts<S> for AuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or(AuthError::Unauthenticated(
            "Missing or malformed bearer token",
        ))?;
        app.service
            .authenticate(token)
            .await
            .map(AuthUser)
            .map_err(token_refused)
    }
}

/// Marks a request that came through the admin socket ([`crate::admin_socket_router`]):
/// only that router inserts it, so no request over TCP can carry it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperatorAccess;

/// Who calls an administrative route: the operator through the admin socket, else the user
/// of `Authorization: Bearer <accessToken>` (whether they may administer is the core's
/// decision).
pub struct Admin(pub Actor);

impl<S> FromRequestParts<S> for Admin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.extensions.get::<OperatorAccess>().is_some() {
            return Ok(Admin(Actor::Operator));
        }
        let AuthUser(who) = AuthUser::from_request_parts(parts, state).await?;
        Ok(Admin(Actor::User(who)))
    }
}

/// The caller's [`Identity`] from `Authorization: Bearer <accessToken>`: a live session and
/// the account as it is now, from one [`authgate_core::AuthService::identify`] call.
pub struct Identified(pub Identity);

impl<S> FromRequestParts<S> for Identified
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or(AuthError::Unauthenticated(
            "Missing or malformed bearer token",
        ))?;
        app.service
            .identify(token)
            .await
            .map(Identified)
            .map_err(token_refused)
    }
}

/// The error for a token the caller sent: a 401 names the token as the culprit
/// ([`ApiError::TokenRefused`]); anything else (503, 429...) is answered as it is.
pub(crate) fn token_refused(e: AuthError) -> ApiError {
    match e {
        e @ AuthError::Unauthenticated(_) => ApiError::TokenRefused(e),
        other => other.into(),
    }
}

/// The token of `Authorization: Bearer <token>`, if the header has that form.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Who is calling from where: IP (through trusted proxies only), User-Agent, request id.
pub struct Client(pub ClientInfo);

impl<S> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = peer.map(|p| client_ip(p, &parts.headers, &app.config.trusted_proxies));
        let header_text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let user_agent = header_text("user-agent").map(|ua| ua.chars().take(256).collect());
        Ok(Client(ClientInfo {
            ip: ip.map(|i| i.to_string()),
            user_agent,
            request_id: header_text("x-request-id"),
        }))
    }
}

/// The client's IP: the socket peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let hops: Vec<IpAddr> = forwarded
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4".parse().unwrap());
        let peer: IpAddr = "9.9.9.9".parse().unwrap();
        assert_eq!(client_ip(peer, &h, &[]), peer);
    }

    #[test]
    fn a_trusted_proxy_passes_on_the_right_most_untrusted_hop() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 1.2.3.4, 10.0.0.2".parse().unwrap(),
        );
        let proxies: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        assert_eq!(
            client_ip("10.0.0.1".parse().unwrap(), &h, &proxies),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_json_array_is_refused_as_a_body_even_when_its_items_fit_the_fields() {
        // Found by the json_bodies fuzz target: `["aw"]` was read as `{"refreshToken":"aw"}`.
        let refused = parse_json::<crate::dto::RefreshBody>(b"[\"aw\"]");
        assert!(
            matches!(&refused, Err(ApiError::MalformedJson(m)) if m == "expected a JSON object"),
            "{:?}",
            refused.err()
        );
        let body = br#" ["ada@example.com", null, null, "Analytical7Engine"]"#;
        let refused = parse_json::<crate::dto::LoginBody>(body);
        assert!(
            matches!(&refused, Err(ApiError::MalformedJson(m)) if m == "expected a JSON object"),
            "{:?}",
            refused.err()
        );
        assert!(parse_json::<crate::dto::RefreshBody>(br#"{"refreshToken":"aw"}"#).is_ok());
    }

    #[test]
    fn bearer_tokens_need_the_scheme_and_a_value() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }
}
