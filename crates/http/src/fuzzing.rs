//! Entry points for the fuzz targets in `fuzz/`: request parsers that are private to this
//! crate otherwise. Not a stable API (hidden from the documentation).

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue};

use crate::dto::{LoginBody, LogoutBody, RefreshBody, RegisterBody};
use crate::error::ApiError;
use crate::extract::{ApiJson, FormOrJson, OptionalJson};
use crate::routes::introspect::IntrospectBody;
use crate::routes::recovery::{ChangeBody, ForgotBody, ResetBody};

/// How a route reads its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extractor {
    /// [`ApiJson`]: JSON required.
    Json,
    /// [`OptionalJson`]: JSON, or an empty body.
    OptionalJson,
    /// [`FormOrJson`]: a form or JSON.
    FormOrJson,
}

/// Every request body of the API, with the extractor its route reads it with; an index
/// into this list chooses the body for [`extract_body`].
pub const BODIES: [(&str, Extractor); 8] = [
    ("register", Extractor::Json),
    ("login", Extractor::Json),
    ("refresh", Extractor::OptionalJson),
    ("logout", Extractor::OptionalJson),
    ("forgot-password", Extractor::Json),
    ("reset-password", Extractor::Json),
    ("change-password", Extractor::Json),
    ("introspect", Extractor::FormOrJson),
];

/// Reads `body` (sent with `content_type`) as the body `BODIES[index % BODIES.len()]`, with
/// the extractor and type its route uses: `Ok` when the handler would be called.
pub async fn extract_body(
    index: usize,
    content_type: Option<HeaderValue>,
    body: Vec<u8>,
) -> Result<(), ApiError> {
    let mut req = Request::new(Body::from(body));
    if let Some(ct) = content_type {
        req.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    match index % BODIES.len() {
        0 => ApiJson::<RegisterBody>::from_request(req, &())
            .await
            .map(drop),
        1 => ApiJson::<LoginBody>::from_request(req, &()).await.map(drop),
        2 => OptionalJson::<RefreshBody>::from_request(req, &())
            .await
            .map(drop),
        3 => OptionalJson::<LogoutBody>::from_request(req, &())
            .await
            .map(drop),
        4 => ApiJson::<ForgotBody>::from_request(req, &())
            .await
            .map(drop),
        5 => ApiJson::<ResetBody>::from_request(req, &()).await.map(drop),
        6 => ApiJson::<ChangeBody>::from_request(req, &())
            .await
            .map(drop),
        _ => FormOrJson::<IntrospectBody>::from_request(req, &())
            .await
            .map(drop),
    }
}

/// The token of `Authorization: Bearer <token>`, as the authenticating extractors read it.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    crate::extract::bearer_token(headers)
}
