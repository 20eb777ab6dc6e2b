//! Middleware: request ids, tracing, metrics, security headers, CORS, panics as JSON 500s.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::cors::ListedCorsLayer;
use crate::error::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the router in every cross-cutting layer (innermost first). `https`: the public URL
/// is https, so browsers are told to use nothing else (HSTS). `cors`: the CORS layer of the
/// allowed origins, if any, innermost so that preflights get request ids, security headers,
/// metrics and a trace like every other answer.
pub(crate) fn apply(router: Router, https: bool, cors: Option<ListedCorsLayer>) -> Router {
    let headers: [(HeaderName, &'static str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    let mut router = router;
    if let Some(cors) = cors {
        // Every answer depends on the Origin once some get CORS (tower-http adds its own Vary
        // to those, so this one goes on the others).
        router = router
            .layer(cors)
            .layer(SetResponseHeaderLayer::if_not_present(
                header::VARY,
                HeaderValue::from_static("origin"),
            ));
    }
    router = router
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(axum::middleware::from_fn(refuse_repeated_authorization))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(TraceLayer::new_for_http().make_span_with(request_span));
    if https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_invalid_request_id))
}

/// Runs the handler in a task of its own, so that a client who disconnects (or a proxy that
/// times out) cannot cancel a flow halfway: hyper drops the request's future on disconnect,
/// and a future dropped inside a store call can leave a transaction begun and never ended,
/// or a session created but never audited. The answer is discarded; the work completes.
async fn run_to_completion(req: Request, next: Next) -> Response<Body> {
    let span = tracing::Span::current();
    match tokio::spawn(next.run(req).instrument(span)).await {
        Ok(response) => response,
        // Answered here, inside the request's span, so the log line carries the request id
        // (CatchPanicLayer, further out, still catches panics in the layers themselves).
        Err(e) if e.is_panic() => ApiError::Auth(authgate_core::AuthError::Internal(format!(
            "handler panicked: {}",
            panic_message(e.into_panic().as_ref())
        )))
        .into_response(),
        Err(_) => ApiError::Auth(authgate_core::AuthError::Internal(
            "the request's task was cancelled".into(),
        ))
        .into_response(),
    }
}

/// 400 for a request with more than one `Authorization` header (RFC 9110 §11.6.2 allows
/// one): which one counts is up to each reader, and a proxy in front that reads another one
/// than we do would authorise a different caller. 400 rather than 401: nothing was tried
/// and refused, the request is malformed, and a retry with the same headers cannot succeed.
async fn refuse_repeated_authorization(req: Request, next: Next) -> Response<Body> {
    if req
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return ApiError::RepeatedAuthorization.into_response();
    }
    next.run(req).await
}

/// The span of one request: method, route template (never the raw path, which may hold a
/// one-time token) and request id.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), route, request_id = id)
}

/// A client-supplied request id is kept only if it is short and plain; otherwise a fresh
/// one is made, so ids in logs can be trusted not to inject text.
async fn drop_invalid_request_id(mut req: Request) -> Request {
    let valid = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if !valid {
        req.headers_mut().remove(REQUEST_ID);
    }
    req
}

/// The text a panic was raised with, when it was a string.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    ApiError::Auth(authgate_core::AuthError::Internal(
        "handler panicked".into(),
    ))
    .into_response()
}
