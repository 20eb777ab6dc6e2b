//! CORS for browser apps on other origins, with tower-http's [`CorsLayer`].
//!
//! Only the origins of `AUTHGATE_ALLOWED_ORIGINS` ([`crate::HttpConfig::cors_origins`]) get
//! CORS at all: for them, every answer carries `Access-Control-Allow-Origin` (that exact
//! origin, never `*`) with `Access-Control-Allow-Credentials: true`, and a preflight is
//! answered 204 with `Access-Control-Max-Age`. A request from any other origin, or with no
//! `Origin`, skips the CORS layer entirely: it gets no `Access-Control-*` header, and an
//! `OPTIONS` is answered by the router like any other unsupported method (405). Every answer
//! carries `Vary: Origin`, since it depends on the origin.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::future::{Either, MapOk};
use futures_util::TryFutureExt;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

/// How long a browser may reuse a preflight's answer (Chromium caps it at two hours).
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(7200);

/// Request headers a browser app may send.
const ALLOWED_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    HeaderName::from_static("x-request-id"),
];

/// Response headers a browser app may read: the rate-limit ones the API sends with a 429,
/// and the request id to quote in a bug report.
const EXPOSED_HEADERS: [HeaderName; 5] = [
    header::RETRY_AFTER,
    HeaderName::from_static("ratelimit-limit"),
    HeaderName::from_static("ratelimit-remaining"),
    HeaderName::from_static("ratelimit-reset"),
    HeaderName::from_static("x-request-id"),
];

/// The methods the API uses.
const ALLOWED_METHODS: [Method; 3] = [Method::GET, Method::POST, Method::DELETE];

/// Wraps a service so that requests from the listed origins go through CORS and all others
/// do not. `None` when no origin is listed: then nothing is added to any request.
#[derive(Clone)]
pub(crate) struct ListedCorsLayer {
    cors: CorsLayer,
    origins: Arc<[HeaderValue]>,
}

impl ListedCorsLayer {
    /// The layer for `origins` (serialized origins, e.g. `https://app.example.com`); origins
    /// that are not valid header values are left out.
    pub(crate) fn new(origins: &[String]) -> Option<Self> {
        let origins: Arc<[HeaderValue]> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        if origins.is_empty() {
            return None;
        }
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_credentials(true)
            .allow_methods(ALLOWED_METHODS)
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(PREFLIGHT_MAX_AGE);
        Some(ListedCorsLayer { cors, origins })
    }
}

impl<S: Clone> Layer<S> for ListedCorsLayer {
    type Service = ListedCors<S>;

    fn layer(&self, inner: S) -> ListedCors<S> {
        ListedCors {
            cors: self.cors.layer(inner.clone()),
            plain: inner,
            origins: self.origins.clone(),
        }
    }
}

/// The service of [`ListedCorsLayer`].
#[derive(Clone)]
pub(crate) struct ListedCors<S> {
    cors: Cors<S>,
    plain: S,
    origins: Arc<[HeaderValue]>,
}

type PreflightAs204 = fn(Response) -> Response;

impl<S> Service<Request> for ListedCors<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<MapOk<tower_http::cors::ResponseFuture<S::Future>, PreflightAs204>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both wrap clones of one service; each is asked, so either may be called next.
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.plain.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if self.is_cors_request(&req) {
            Either::Left(
                self.cors
                    .call(req)
                    .map_ok(preflight_as_204 as PreflightAs204),
            )
        } else {
            Either::Right(self.plain.call(req))
        }
    }
}

impl<S> ListedCors<S> {
    /// A request from a listed origin, and, if it is an `OPTIONS`, a real preflight.
    fn is_cors_request(&self, req: &Request) -> bool {
        let headers = req.headers();
        let listed = headers
            .get(header::ORIGIN)
            .is_some_and(|o| self.origins.iter().any(|a| a == o));
        listed
            && (req.method() != Method::OPTIONS
                || headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD))
    }
}

/// tower-http answers a preflight 200 with an empty body; 204 says "no content" plainly.
fn preflight_as_204(mut res: Response) -> Response {
    if res
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS)
    {
        *res.status_mut() = StatusCode::NO_CONTENT;
    }
    res
}
