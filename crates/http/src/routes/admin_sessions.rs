//! Administration of a user's sessions, password resets on their behalf, and the audit
//! trail across users.

use authgate_core::domain::{SessionId, UserId};
use authgate_core::service::{AuditQuery, SessionView};
use authgate_core::AuthError;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::limit_param;
use super::audit::AuditEventDto;
use crate::dto::{MessageResponse, SessionsResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Admin, Client, OptionalJson};
use crate::params::{ApiPath, ApiQuery};
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user_sessions, revoke_user_sessions))
        .routes(routes!(revoke_user_session))
        .routes(routes!(send_reset))
        .routes(routes!(audit_trail))
}

/// The user's live sessions, newest first (at most 100).
#[utoipa::path(get, path = "/api/auth/admin/users/{id}/sessions", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = SessionsResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
async fn user_sessions(
    State(app): State<AppState>,
    Admin(actor): Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionsResponse>, ApiError> {
    let sessions = app
        .service
        .admin_user_sessions(&actor, &UserId::from_string(id))
        .await?;
    let sessions = sessions
        .into_iter()
        .map(|session| {
            SessionView {
                session,
                current: false,
            }
            .into()
        })
        .collect();
    Ok(Json(SessionsResponse { sessions }))
}

/// How many sessions ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct RevokedResponse {
    /// Sessions ended.
    pub revoked: u64,
}

/// End every session of the user: their access tokens stop working on the next request.
#[utoipa::path(delete, path = "/api/auth/admin/users/{id}/sessions", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = RevokedResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
async fn revoke_user_sessions(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RevokedResponse>, ApiError> {
    let revoked = app
        .service
        .admin_revoke_sessions(&actor, &UserId::from_string(id), &client)
        .await?;
    Ok(Json(RevokedResponse { revoked }))
}

/// End one session of the user.
#[utoipa::path(delete, path = "/api/auth/admin/users/{id}/sessions/{sid}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("sid" = String, Path, description = "Session id")),
    responses((status = 200, body = MessageResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user, or no such live session of theirs", body = ErrorBody)))]
async fn revoke_user_session(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath((id, sid)): ApiPath<(String, String)>,
) -> Result<Json<MessageResponse>, ApiError> {
    app.service
        .admin_revoke_session(
            &actor,
            &UserId::from_string(id),
            &SessionId::from_string(sid),
            &client,
        )
        .await?;
    Ok(Json(MessageResponse {
        message: "Session revoked",
    }))
}

/// `POST /admin/users/{id}/send-reset` (the body is optional).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SendResetBody {
    /// Also end every session of the user (default false).
    pub end_sessions: Option<bool>,
}

/// Mail the user a password reset link (older links die) and, if asked, end all their
/// sessions.
#[utoipa::path(post, path = "/api/auth/admin/users/{id}/send-reset", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body(content = Option<SendResetBody>, description = "Optional"),
    responses((status = 200, body = MessageResponse),
        (status = 400, description = "The account has no email address", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
async fn send_reset(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<SendResetBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let end = body.and_then(|b| b.end_sessions).unwrap_or(false);
    app.service
        .admin_send_reset(&actor, &UserId::from_string(id), end, &client)
        .await?;
    Ok(Json(MessageResponse {
        message: "Password reset link sent",
    }))
}

/// Filters and page of `GET /admin/audit`, parsed by the handler (bad values are 400).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Only events concerning this user id.
    pub user: Option<String>,
    /// Only events of this type, e.g. `login_failed`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<String>,
    /// The previous page's `nextCursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<String>,
}

/// One event of the trail across users.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminAuditEventDto {
    /// The user concerned (their id only: the trail outlives erased accounts).
    pub user_id: Option<String>,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEventDto,
}

/// A page of the trail.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminAuditPage {
    /// Events, newest first.
    pub events: Vec<AdminAuditEventDto>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The audit trail across users, newest first, filtered by user, type and time.
#[utoipa::path(get, path = "/api/auth/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, body = AdminAuditPage),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody)))]
async fn audit_trail(
    State(app): State<AppState>,
    Admin(actor): Admin,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AdminAuditPage>, ApiError> {
    let since = match p.since.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| AuthError::field("since", "must be an RFC 3339 time"))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let query = AuditQuery {
        user: p.user.filter(|u| !u.is_empty()),
        kind: p.kind,
        since,
        cursor: p.cursor.filter(|c| !c.is_empty()),
        limit: limit_param(p.limit.as_deref())?,
    };
    let page = app.service.admin_audit(&actor, &query).await?;
    let events = page
        .events
        .into_iter()
        .map(|r| AdminAuditEventDto {
            user_id: r.user_id.clone().map(UserId::into_string),
            event: r.into(),
        })
        .collect();
    Ok(Json(AdminAuditPage {
        events,
        next_cursor: page.next_cursor,
    }))
}
