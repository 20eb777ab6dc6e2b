//! Health, readiness and the published signing keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(jwks))
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, description = "{\"status\":\"ok\"}")))]
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The store is reachable.
#[utoipa::path(get, path = "/ready", tag = "meta",
    responses((status = 200, description = "{\"status\":\"ready\"}"), (status = 503, description = "Store unreachable: `{\"status\":\"unavailable\", \"code\", \"message\"}`", body = ErrorBody)))]
async fn ready(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    match app.service.ready().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "store": app.service.store().backend_name() })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "unavailable", "code": "service_unavailable", "message": "The store is unreachable" }),
                ),
            )
        }
    }
}

/// The public keys that verify access tokens (empty with HS256).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, description = "JSON Web Key Set")))]
async fn jwks(State(app): State<AppState>) -> Json<Value> {
    Json(app.service.jwks())
}
