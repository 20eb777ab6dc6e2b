//! Prometheus metrics: a middleware counting and timing requests by route template, and the
//! `GET /metrics` endpoint rendering the process-wide recorder's handle.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// Requests answered, by method, route template and status.
pub const HTTP_REQUESTS_TOTAL: &str = "authgate_http_requests_total";
/// Time to answer, by method and route template.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "authgate_http_request_duration_seconds";
/// Passwords waiting for a hashing slot (read at scrape time).
pub const PASSWORD_HASH_QUEUE_DEPTH: &str = "authgate_password_hash_queue_depth";
/// Mails waiting in the outbox table (read at scrape time).
pub const MAIL_QUEUE_DEPTH: &str = "authgate_mail_queue_depth";
/// Database connections by `state` (`in_use`, `idle`), read at scrape time.
pub const DB_POOL_CONNECTIONS: &str = "authgate_db_pool_connections";
/// The most connections the database pool will open.
pub const DB_POOL_MAX_CONNECTIONS: &str = "authgate_db_pool_max_connections";

/// Records [`HTTP_REQUESTS_TOTAL`] and [`HTTP_REQUEST_DURATION_SECONDS`] for one request,
/// started before the request is handled and finished with its answer's status. The route
/// label is the matched template (`/api/auth/verify-email/{token}`), never the raw path,
/// which may carry a one-time token; requests matching no route share `<unmatched>`.
pub(crate) struct RequestTimer {
    method: &'static str,
    route: String,
    started: Instant,
}

impl RequestTimer {
    /// Starts timing `req`.
    pub(crate) fn start(req: &Request) -> RequestTimer {
        RequestTimer {
            method: method_label(req.method()),
            route: req
                .extensions()
                .get::<MatchedPath>()
                .map_or("<unmatched>", MatchedPath::as_str)
                .to_owned(),
            started: Instant::now(),
        }
    }

    /// Records the request as answered with `status`.
    pub(crate) fn finish(self, status: StatusCode) {
        metrics::histogram!(
            HTTP_REQUEST_DURATION_SECONDS,
            "method" => self.method,
            "route" => self.route.clone()
        )
        .record(self.started.elapsed().as_secs_f64());
        metrics::counter!(
            HTTP_REQUESTS_TOTAL,
            "method" => self.method,
            "route" => self.route,
            "status" => status_label(status)
        )
        .increment(1);
    }
}

/// The status as a label value, without an allocation for the common ones.
fn status_label(status: StatusCode) -> metrics::SharedString {
    match status.as_u16() {
        200 => "200".into(),
        201 => "201".into(),
        202 => "202".into(),
        204 => "204".into(),
        302 => "302".into(),
        400 => "400".into(),
        401 => "401".into(),
        403 => "403".into(),
        404 => "404".into(),
        409 => "409".into(),
        429 => "429".into(),
        _ => status.as_str().to_owned().into(),
    }
}

/// Standard methods by name; anything else is one label value, so clients cannot mint
/// unbounded label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// `GET /metrics`: refreshes the queue gauges, then renders the text exposition format.
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = state.config.metrics.as_ref() else {
        return ApiError::RouteNotFound.into_response();
    };
    metrics::gauge!(PASSWORD_HASH_QUEUE_DEPTH).set(state.service.hasher().queue_depth() as f64);
    if let Ok(depth) = state.service.store().mail_queue_depth().await {
        metrics::gauge!(MAIL_QUEUE_DEPTH).set(depth as f64);
    }
    if let Some(pool) = state.service.store().pool_usage() {
        let idle = pool.idle.min(pool.open);
        metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(pool.open - idle));
        metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
        metrics::gauge!(DB_POOL_MAX_CONNECTIONS).set(f64::from(pool.max));
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
