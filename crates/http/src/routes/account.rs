//! Register, login and "who am I".

use authgate_core::service::{LoginRequest, RegisterRequest};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::SecretString;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::{AuthResponse, LoginBody, MeResponse, RegisterBody, TokenResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Client, Identified};
use crate::{cookies, AppState};

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
}

/// Create an account and log in (a new session).
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered and logged in; also sets the refreshToken cookie", body = AuthResponse),
        (status = 400, description = "Validation failed", body = ErrorBody),
        (status = 403, description = "Role may not be self-assigned", body = ErrorBody),
        (status = 409, description = "Email or username taken", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP)", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn register(
    State(app): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let req = RegisterRequest {
        email: body.email,
        password: body.password.map(SecretString::from),
        name: body.name,
        first_name: body.first_name,
        last_name: body.last_name,
        username: body.username,
        role: body.role,
    };
    let done = app.service.register(req, &client).await?;
    Ok(auth_response(&app, StatusCode::CREATED, done))
}

/// Log in with a password and an email, a username, or an identifier (either).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in; also sets the refreshToken cookie", body = AuthResponse),
        (status = 400, description = "Validation failed", body = ErrorBody),
        (status = 401, description = "invalid_credentials: unknown account or wrong password (indistinguishable)", body = ErrorBody),
        (status = 403, description = "account_disabled, or email_not_verified when verification is required (a fresh verification mail is queued)", body = ErrorBody),
        (status = 429, description = "rate_limited: per client IP, or the account is blocked after repeated failures", body = ErrorBody)))]
async fn login(
    State(app): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let req = LoginRequest {
        email: body.email,
        username: body.username,
        identifier: body.identifier,
        password: body.password.map(SecretString::from),
    };
    let done = app.service.login(req, &client).await?;
    Ok(auth_response(&app, StatusCode::OK, done))
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
async fn me(Identified(who): Identified) -> Json<MeResponse> {
    Json(MeResponse {
        user: who.user.into(),
    })
}

fn auth_response(
    app: &AppState,
    status: StatusCode,
    done: authgate_core::service::AuthSuccess,
) -> Response {
    let delivery = app.config.refresh_delivery;
    let body = AuthResponse {
        tokens: TokenResponse::new(&done.tokens, delivery.in_body()),
        user: done.user.into(),
    };
    let mut res = (status, Json(body)).into_response();
    if delivery.in_cookie() {
        let cookie = cookies::set_refresh_cookie(
            &app.config,
            done.tokens.refresh_token.expose(),
            done.tokens.refresh_expires_in,
        );
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}
