//! Administration of accounts (role `admin` only): disabling and enabling them.

use authgate_core::domain::{ClientInfo, UserId};
use authgate_core::tokens::Principal;
use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::MeResponse;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, Client};
use crate::params::ApiPath;
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// Disable an account: every session of it ends at once (its access tokens stop working on
/// the next request) and its logins answer 403 `account_disabled` until it is enabled.
#[utoipa::path(post, path = "/api/auth/admin/users/{id}/disable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody),
        (status = 400, description = "An administrator's own account", body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
async fn disable_user(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MeResponse>, ApiError> {
    set_disabled(&app, &who, &client, id, true).await
}

/// Enable a disabled account again; its owner can log in.
#[utoipa::path(post, path = "/api/auth/admin/users/{id}/enable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
async fn enable_user(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MeResponse>, ApiError> {
    set_disabled(&app, &who, &client, id, false).await
}

/// The body both routes share: one service call, the account as `/me` shows it.
async fn set_disabled(
    app: &AppState,
    who: &Principal,
    client: &ClientInfo,
    id: String,
    disabled: bool,
) -> Result<Json<MeResponse>, ApiError> {
    let user = app
        .service
        .set_account_disabled(who, &UserId::from_string(id), disabled, client)
        .await?;
    Ok(Json(MeResponse { user: user.into() }))
}
