//! Self-service account management: changing one's profile, erasing one's account,
//! downloading one's data.

use authgate_core::service::ProfileChange;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin_sessions::AdminAuditEventDto;
use crate::dto::{MeResponse, MessageResponse, SessionDto, UserDto};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthUser, Client};
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_me, delete_me))
        .routes(routes!(export_me))
}

/// `PATCH /me`: every field optional.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ProfileBody {
    /// Display name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Username (3 to 32 letters, digits, `_`, `.`, `-`).
    pub username: Option<String>,
}

/// `DELETE /me`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteBody {
    /// The account's password (re-authentication).
    pub current_password: Option<String>,
}

/// Change your name, first or last name, or username.
#[utoipa::path(patch, path = "/api/auth/me", tag = "account", security(("bearer" = [])),
    request_body = ProfileBody,
    responses((status = 200, body = MeResponse),
        (status = 400, description = "A bad name or username", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody)))]
async fn update_me(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Json<MeResponse>, ApiError> {
    let change = ProfileChange {
        name: body.name,
        first_name: body.first_name,
        last_name: body.last_name,
        username: body.username,
    };
    let user = app.service.update_profile(&who, &change, &client).await?;
    Ok(Json(MeResponse { user: user.into() }))
}

/// Erase your account with your password: the account, its sessions, tokens and mail go in
/// one transaction, your tokens stop working at once, and a confirmation is mailed.
#[utoipa::path(delete, path = "/api/auth/me", tag = "account", security(("bearer" = [])),
    request_body = DeleteBody,
    responses((status = 200, body = MessageResponse),
        (status = 400, description = "`currentPassword` missing", body = ErrorBody),
        (status = 401, description = "`invalid_current_password`, or not authenticated", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last administrator", body = ErrorBody),
        (status = 429, description = "rate_limited: wrong passwords count toward the login block", body = ErrorBody)))]
async fn delete_me(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiJson(body): ApiJson<DeleteBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let password = body.current_password.map(SecretString::from);
    app.service.delete_account(&who, password, &client).await?;
    Ok(Json(MessageResponse {
        message: "Account deleted",
    }))
}

/// Everything authgate holds about you.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportDto {
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The profile.
    pub user: UserDto,
    /// Live sessions, newest first.
    pub sessions: Vec<SessionDto>,
    /// Your audit events, newest first (at most 10 000).
    pub audit_events: Vec<AdminAuditEventDto>,
}

/// Download your data (profile, sessions, audit events) as a JSON file.
#[utoipa::path(get, path = "/api/auth/me/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = ExportDto,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"authgate-export.json\""))),
        (status = 401, body = ErrorBody)))]
async fn export_me(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<impl IntoResponse, ApiError> {
    let export = app.service.export_account(&who).await?;
    let body = ExportDto {
        exported_at: app.service.clock().now(),
        user: export.user.into(),
        sessions: export
            .sessions
            .into_iter()
            .map(|session| {
                authgate_core::service::SessionView {
                    current: session.id == who.session_id,
                    session,
                }
                .into()
            })
            .collect(),
        audit_events: export
            .audit
            .into_iter()
            .map(|r| AdminAuditEventDto {
                user_id: r
                    .user_id
                    .clone()
                    .map(authgate_core::domain::UserId::into_string),
                event: r.into(),
            })
            .collect(),
    };
    let disposition = (
        header::CONTENT_DISPOSITION,
        "attachment; filename=\"authgate-export.json\"",
    );
    Ok(([disposition], Json(body)))
}
