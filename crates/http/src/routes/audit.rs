//! The caller's own audit trail.

use authgate_core::AuthError;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::extract::AuthUser;
use crate::params::ApiQuery;
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Paging of `GET /audit`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Return events older than this event id (the previous page's `nextBefore`).
    pub before: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, default = 50)]
    pub limit: Option<u32>,
}

/// One audit event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEventDto {
    /// Event id (time-ordered).
    pub id: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, e.g. `login_failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The session concerned.
    pub session_id: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client User-Agent.
    pub user_agent: Option<String>,
    /// Request id (matches the server's logs).
    pub request_id: Option<String>,
    /// Small JSON detail.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

impl From<authgate_core::store::AuditRecord> for AuditEventDto {
    fn from(r: authgate_core::store::AuditRecord) -> Self {
        AuditEventDto {
            id: r.id,
            at: r.at,
            kind: r.kind,
            outcome: r.outcome,
            session_id: r
                .session_id
                .map(authgate_core::domain::SessionId::into_string),
            ip: r.ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            detail: r.detail.and_then(|d| serde_json::from_str(&d).ok()),
        }
    }
}

/// A page of events.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditPage {
    /// Events, newest first.
    pub events: Vec<AuditEventDto>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<String>,
}

/// The caller's own security events (logins, refreshes, logouts, password changes...),
/// newest first, paginated.
#[utoipa::path(get, path = "/api/auth/audit", tag = "account", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 401, body = ErrorBody)))]
async fn list_audit(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = match q.limit {
        None => 50,
        Some(n @ 1..=100) => n,
        Some(_) => return Err(AuthError::field("limit", "must be between 1 and 100").into()),
    };
    let records = app
        .service
        .audit_events(&who, q.before.as_deref(), limit)
        .await?;
    let full = records.len() == limit as usize;
    let events: Vec<AuditEventDto> = records.into_iter().map(Into::into).collect();
    let next_before = full.then(|| events.last().map(|e| e.id.clone())).flatten();
    Ok(Json(AuditPage {
        events,
        next_before,
    }))
}
