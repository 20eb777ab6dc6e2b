//! Listing and ending the caller's sessions.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::{MessageResponse, SessionsResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, Client};
use crate::params::ApiPath;
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
}

/// The caller's live sessions (one per device), newest first; `current` marks this one.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = SessionsResponse), (status = 401, body = ErrorBody)))]
async fn list_sessions(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<SessionsResponse>, ApiError> {
    let sessions = app.service.list_sessions(&who).await?;
    Ok(Json(SessionsResponse {
        sessions: sessions.into_iter().map(Into::into).collect(),
    }))
}

/// End one of the caller's sessions: that device is logged out at once.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = MessageResponse), (status = 401, body = ErrorBody),
        (status = 404, description = "No such live session of the caller", body = ErrorBody)))]
async fn revoke_session(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageResponse>, ApiError> {
    app.service.revoke_session(&who, &id, &client).await?;
    Ok(Json(MessageResponse {
        message: "Session revoked",
    }))
}
