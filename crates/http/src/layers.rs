//! Middleware: request ids, tracing, metrics, security headers, CORS, panics as JSON 500s,
//! work that survives a client hanging up.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::completion::run_to_completion;
use crate::cors::ListedCorsLayer;
use crate::error::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the router in every cross-cutting layer. `https`: the public URL is https, so
/// browsers are told to use nothing else (HSTS). `cors`: the CORS layer of the allowed
/// origins, if any, innermost so that preflights get request ids, security headers,
/// metrics and a trace like every other answer.
///
/// One stack, applied with one [`Router::layer`]: axum boxes every route once per `layer`
/// call and clones that box on every request, so a dozen calls cost a dozen allocations
/// (and their futures) per request; here the layers compose without boxes in between.
pub(crate) fn apply(router: Router, https: bool, cors: Option<ListedCorsLayer>) -> Router {
    let security_header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    // Every answer depends on the Origin once some get CORS (tower-http adds its own Vary
    // to those, so this one goes on the others).
    let cors = cors.map(|cors| {
        ServiceBuilder::new()
            .layer(security_header(header::VARY, "origin"))
            .layer(cors)
            .into_inner()
    });
    let hsts = https.then(|| {
        security_header(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        )
    });
    let stack = ServiceBuilder::new()
        .map_request(drop_invalid_request_id)
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(security_header(header::PRAGMA, "no-cache"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .option_layer(hsts)
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn(around_the_handler))
        .option_layer(cors);
    router.layer(stack.into_inner())
}

/// Fresh request ids: random UUIDs (v4) from the thread's generator (rand's ChaCha, seeded
/// from the system), where tower-http's `MakeRequestUuid` asks the kernel for every id.
/// An id only names a request in logs; it guards nothing.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let bytes: [u8; 16] = rand::random();
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut text = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
            .ok()
            .map(RequestId::new)
    }
}

/// Times and counts the request ([`crate::metrics::RequestTimer`]), refuses a repeated
/// `Authorization` header, and runs the rest to completion ([`run_to_completion`]).
async fn around_the_handler(req: Request, next: Next) -> Response<Body> {
    let timer = crate::metrics::RequestTimer::start(&req);
    let response = if has_repeated_authorization(&req) {
        ApiError::RepeatedAuthorization.into_response()
    } else {
        run_to_completion(req, next).await
    };
    timer.finish(response.status());
    response
}

/// More than one `Authorization` header (RFC 9110 §11.6.2 allows one): which one counts is
/// up to each reader, and a proxy in front that reads another one than we do would
/// authorise a different caller. Answered 400 rather than 401: nothing was tried and
/// refused, the request is malformed, and a retry with the same headers cannot succeed.
fn has_repeated_authorization(req: &Request) -> bool {
    req.headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
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
fn drop_invalid_request_id(mut req: Request) -> Request {
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

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    ApiError::Auth(authgate_core::AuthError::Internal(
        "handler panicked".into(),
    ))
    .into_response()
}
