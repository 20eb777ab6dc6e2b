//! authgate-http: the JSON API over HTTP, as an axum [`Router`] that can be served alone
//! (the `authgate` binary) or nested into another axum application.
//!
//! Handlers parse requests, call [`AuthService`], and map [`authgate_core::AuthError`] to
//! the contract's statuses through [`error::ApiError`]. Serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()` so client IPs are known.

pub mod caller_secrets;
mod completion;
pub mod config;
pub mod cookies;
mod cors;
pub mod dto;
pub mod error;
pub mod extract;
#[doc(hidden)]
pub mod fuzzing;
mod layers;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod params;
pub mod redirect;
mod routes;

use std::sync::Arc;

pub use config::{CookieSameSite, HttpConfig, RefreshDelivery};

use authgate_core::AuthService;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The flows.
    pub service: AuthService,
    /// HTTP settings.
    pub config: Arc<HttpConfig>,
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router().split_for_parts().1;
    openapi::add_common_answers(&mut doc);
    doc
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(routes::account::router())
        .merge(routes::tokens::router())
        .merge(routes::sessions::router())
        .merge(routes::recovery::router())
        .merge(routes::audit::router())
        .merge(routes::admin::router())
        .merge(routes::admin_sessions::router())
        .merge(routes::me::router())
        .merge(routes::email_change::router())
        .merge(routes::introspect::router())
        .merge(routes::forward_auth::router())
        .merge(routes::meta::router())
}

/// Only `GET /metrics`, for a listener of its own (`AUTHGATE_METRICS_BIND`), so the metrics
/// need not be reachable on the public port.
pub fn metrics_router(
    service: AuthService,
    handle: metrics_exporter_prometheus::PrometheusHandle,
) -> Router {
    let config = HttpConfig {
        metrics: Some(handle),
        ..HttpConfig::default()
    };
    let state = AppState {
        service,
        config: Arc::new(config),
    };
    Router::new()
        .route("/metrics", get(metrics::render))
        .fallback(|| async { ApiError::RouteNotFound })
        .with_state(state)
}

/// The administrative routes alone (`/api/auth/admin/...`), for the admin socket the `authgate`
/// CLI talks to: every request on it acts as the operator ([`authgate_core::service::Actor`]),
/// so the socket's file permissions are its only credential. The server serves it on a
/// Unix socket only, never on TCP.
pub fn admin_socket_router(service: AuthService, config: HttpConfig) -> Router {
    let state = AppState {
        service,
        config: Arc::new(config),
    };
    let (routes, _) = OpenApiRouter::new()
        .merge(routes::admin::router())
        .merge(routes::admin_sessions::router())
        .split_for_parts();
    routes
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::Extension(extract::OperatorAccess))
        .with_state(state)
}

/// The whole API (`/api/auth/...`, `/.well-known/jwks.json`, `/health`, `/ready`,
/// `/api/auth/openapi.json`) with its middleware (request ids, body limit, security
/// headers, CORS for [`HttpConfig::cors_origins`], tracing), when [`HttpConfig::metrics`]
/// is set `GET /metrics`, and when [`HttpConfig::pages`] is set the hosted pages
/// ([`pages`]).
pub fn router(service: AuthService, config: HttpConfig) -> Router {
    let max_body = config.max_body_bytes;
    let https = config.cookie_secure;
    let cors = cors::ListedCorsLayer::new(&config.cors_origins);
    let with_metrics = config.metrics.is_some();
    let with_pages = config.pages.is_some();
    let state = AppState {
        service,
        config: Arc::new(config),
    };
    let (routes, mut api) = api_router().split_for_parts();
    openapi::add_common_answers(&mut api);
    api.servers = Some(vec![utoipa::openapi::server::Server::new(
        state.config.public_origin.clone(),
    )]);
    let api = Arc::new(api);
    let mut routes = routes.route(
        "/api/auth/openapi.json",
        get(move || async move { Json(api.as_ref().clone()) }),
    );
    if with_metrics {
        routes = routes.route("/metrics", get(metrics::render));
    }
    if with_pages {
        routes = routes.merge(pages::router());
    }
    let routes = routes
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state);
    layers::apply(routes, https, cors)
}
