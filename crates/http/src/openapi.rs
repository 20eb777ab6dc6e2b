//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, Object, Ref, RefOr, Response, Type};
use utoipa::{Modify, OpenApi};

/// The document's fixed parts; paths are collected from the routers.
#[derive(OpenApi)]
#[openapi(
    info(title = "authgate", description = "Sign-up, login, sessions and account recovery over a JSON API. Errors are `{message, code, details?}`."),
    modifiers(&BearerAuth, &Servers),
    tags((name = "auth", description = "Register, login, tokens"), (name = "sessions", description = "One session per device"), (name = "account", description = "Verification and recovery"), (name = "meta", description = "Health and keys"), (name = "admin", description = "Account administration (role admin)"), (name = "protect", description = "Protecting other services: token introspection and forward-auth for reverse proxies"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let secret = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "One of the shared secrets of AUTHGATE_INTROSPECTION_SECRETS",
            ))
            .build();
        components.add_security_scheme("introspectionSecret", SecurityScheme::Http(secret));
        let cookie = ApiKey::Cookie(ApiKeyValue::with_description(
            "access_token",
            "An access token in the cookie named by AUTHGATE_ACCESS_COOKIE (the name shown is an example)",
        ));
        components.add_security_scheme("accessCookie", SecurityScheme::ApiKey(cookie));
    }
}

struct Servers;

impl Modify for Servers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut server = Server::new("/");
        server.description = Some(
            "This authgate (the served document names its AUTHGATE_PUBLIC_URL origin instead)"
                .into(),
        );
        openapi.servers = Some(vec![server]);
    }
}

/// Routes that answer without the store, so never 503.
const STORELESS: [&str; 4] = [
    "/health",
    "/.well-known/jwks.json",
    "/api/auth/openapi.json",
    "/metrics",
];

/// Adds the answers every operation of a kind can give, whatever its handler says: 400 for
/// a repeated `Authorization` header (any route), 401 where a token is needed, 413 and 415
/// where there is a body, 500, and 503 where the store is asked; and `Retry-After` on every
/// 429 and 503. Called on the whole document once the routers' paths are in.
pub(crate) fn add_common_answers(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let uses_store = !STORELESS.contains(&path.as_str());
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
        ];
        for op in operations.into_iter().flatten() {
            add_answers(op, uses_store);
        }
    }
}

fn add_answers(op: &mut Operation, uses_store: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let with_body = op.request_body.is_some();
    let mut wanted: Vec<(&str, &str)> = vec![
        (
            "400",
            "validation_error, or repeated_authorization: more than one Authorization header",
        ),
        (
            "500",
            "internal_error: unexpected, logged with the request id",
        ),
    ];
    if secured {
        wanted.push(("401", "unauthenticated: the token is missing, invalid, expired or its session ended (WWW-Authenticate: Bearer, with error=\"invalid_token\" when a token was sent)"));
    }
    if with_body {
        wanted.push(("413", "payload_too_large: the body is over the limit"));
        wanted.push(("415", "unsupported_media_type: the body is not JSON"));
    }
    if uses_store {
        wanted.push((
            "503",
            "service_unavailable or overloaded: try again after Retry-After seconds",
        ));
    }
    let responses = &mut op.responses.responses;
    for (status, description) in wanted {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(description)));
    }
    for (status, answer) in responses.iter_mut() {
        if let (RefOr::T(answer), "429" | "503") = (answer, status.as_str()) {
            answer
                .headers
                .entry("Retry-After".to_owned())
                .or_insert_with(retry_after);
        }
    }
}

/// An error answer: the contract's JSON body.
pub(crate) fn error_response(description: &str) -> Response {
    let mut answer = Response::new(description);
    answer.content.insert(
        "application/json".to_owned(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    );
    answer
}

fn retry_after() -> Header {
    let mut header = Header::new(Object::with_type(Type::Integer));
    header.description = Some("Seconds to wait before trying again".into());
    header
}
