//! Administration of accounts (role `admin`, or the operator through the admin socket):
//! finding, showing, changing, disabling, enabling and erasing them.

use authgate_core::domain::UserId;
use authgate_core::service::{AdminUserChange, ManagedUser, UserDetail, UserListQuery};
use authgate_core::AuthError;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::{MeResponse, MessageResponse, UserDto};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Admin, Client};
use crate::params::{ApiPath, ApiQuery};
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(show_user, update_user, delete_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// Filters and page of `GET /admin/users`. Every value is text here and parsed by the
/// handler, so a bad one is the contract's 400 naming the parameter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserListParams {
    /// Prefix of the email or username, any case.
    pub query: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// `true`: only disabled accounts; `false`: only enabled ones.
    pub disabled: Option<String>,
    /// The previous page's `nextCursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<String>,
}

/// A boolean query parameter: `true` or `false`.
pub(crate) fn bool_param(name: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(AuthError::field(name, "must be true or false").into()),
    }
}

/// The `limit` query parameter: a whole number (its range is the core's rule).
pub(crate) fn limit_param(value: Option<&str>) -> Result<Option<u32>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AuthError::field("limit", "must be between 1 and 100").into()),
    }
}

/// An account as an administrator sees it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminUserDto {
    /// The account as `/me` shows it.
    #[serde(flatten)]
    pub user: UserDto,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<ManagedUser> for AdminUserDto {
    fn from(m: ManagedUser) -> Self {
        AdminUserDto {
            user: m.user.into(),
            disabled: m.disabled_at.is_some(),
            disabled_at: m.disabled_at,
        }
    }
}

/// A page of accounts.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserListResponse {
    /// Accounts in creation order.
    pub users: Vec<AdminUserDto>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One account with its live session count (its last login is `user.lastLoginAt`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserDetailResponse {
    /// The account.
    pub user: AdminUserDto,
    /// Live sessions (devices signed in).
    pub session_count: u64,
}

impl From<UserDetail> for UserDetailResponse {
    fn from(d: UserDetail) -> Self {
        UserDetailResponse {
            user: d.user.into(),
            session_count: d.session_count,
        }
    }
}

/// `PATCH /admin/users/{id}`: every field optional.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UserPatchBody {
    /// A known role (`AUTHGATE_ROLES`).
    pub role: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Marks the email verified or not.
    pub email_verified: Option<bool>,
}

/// `PATCH /admin/users/{id}` response.
#[derive(Serialize, ToSchema)]
pub(crate) struct AdminUserResponse {
    /// The account after the change.
    pub user: AdminUserDto,
}

/// Search the accounts by email or username prefix (any case), role and state; keyset
/// pages in creation order.
#[utoipa::path(get, path = "/api/auth/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserListParams),
    responses((status = 200, body = UserListResponse),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody)))]
async fn list_users(
    State(app): State<AppState>,
    Admin(actor): Admin,
    ApiQuery(p): ApiQuery<UserListParams>,
) -> Result<Json<UserListResponse>, ApiError> {
    let query = UserListQuery {
        query: p.query,
        role: p.role.filter(|r| !r.is_empty()),
        disabled: bool_param("disabled", p.disabled.as_deref())?,
        cursor: p.cursor.filter(|c| !c.is_empty()),
        limit: limit_param(p.limit.as_deref())?,
    };
    let page = app.service.admin_list_users(&actor, &query).await?;
    Ok(Json(UserListResponse {
        users: page.users.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One account, with its live session count and last login.
#[utoipa::path(get, path = "/api/auth/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserDetailResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
async fn show_user(
    State(app): State<AppState>,
    Admin(actor): Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<UserDetailResponse>, ApiError> {
    let detail = app
        .service
        .admin_show_user(&actor, &UserId::from_string(id))
        .await?;
    Ok(Json(detail.into()))
}

/// Change an account's role, name or email-verified flag. A role change takes effect at
/// once: the next `/me`, introspection or forward-auth check sees the new role.
#[utoipa::path(patch, path = "/api/auth/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = UserPatchBody,
    responses((status = 200, body = AdminUserResponse),
        (status = 400, description = "Unknown role, bad name or body", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "`last_admin`: demoting the last administrator", body = ErrorBody)))]
async fn update_user(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<UserPatchBody>,
) -> Result<Json<AdminUserResponse>, ApiError> {
    let change = AdminUserChange {
        role: body.role,
        name: body.name,
        email_verified: body.email_verified,
    };
    let user = app
        .service
        .admin_update_user(&actor, &UserId::from_string(id), &change, &client)
        .await?;
    Ok(Json(AdminUserResponse { user: user.into() }))
}

/// Erase an account: its sessions, tokens and mail go with it in one transaction (its
/// access tokens die on the next request); its audit events stay, by user id only.
#[utoipa::path(delete, path = "/api/auth/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = MessageResponse),
        (status = 400, description = "The administrator's own account", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last administrator", body = ErrorBody)))]
async fn delete_user(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageResponse>, ApiError> {
    app.service
        .admin_delete_user(&actor, &UserId::from_string(id), &client)
        .await?;
    Ok(Json(MessageResponse {
        message: "User deleted",
    }))
}

/// Disable an account: every session of it ends at once (its access tokens stop working on
/// the next request) and its logins answer 403 `account_disabled` until it is enabled.
#[utoipa::path(post, path = "/api/auth/admin/users/{id}/disable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody),
        (status = 400, description = "An administrator's own account", body = ErrorBody),
        (status = 403, description = "The caller is not an administrator", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last administrator", body = ErrorBody)))]
async fn disable_user(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MeResponse>, ApiError> {
    set_disabled(&app, &actor, &client, id, true).await
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
    Admin(actor): Admin,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MeResponse>, ApiError> {
    set_disabled(&app, &actor, &client, id, false).await
}

/// The body both routes share: one service call, the account as `/me` shows it.
async fn set_disabled(
    app: &AppState,
    actor: &authgate_core::service::Actor,
    client: &authgate_core::domain::ClientInfo,
    id: String,
    disabled: bool,
) -> Result<Json<MeResponse>, ApiError> {
    let user = app
        .service
        .set_account_disabled(actor, &UserId::from_string(id), disabled, client)
        .await?;
    Ok(Json(MeResponse { user: user.into() }))
}
