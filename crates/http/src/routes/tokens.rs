//! Refresh and logout.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::{LogoutBody, MessageResponse, RefreshBody, TokenResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, Client, OptionalJson};
use crate::{cookies, AppState};

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

/// Exchange a refresh token (body `refreshToken` or the cookie) for new tokens. The token
/// rotates: the old one stops working; presenting it again (after a 10 s grace window for
/// concurrent refreshes, which get the same successor) revokes the session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body(content = RefreshBody, description = "Optional when the cookie is sent"),
    responses(
        (status = 200, description = "New tokens; the cookie is rotated too", body = TokenResponse),
        (status = 401, description = "invalid_refresh_token or refresh_token_reused", body = ErrorBody),
        (status = 403, description = "csrf_rejected: cookie sent from a foreign origin; email_not_verified while AUTHGATE_REQUIRE_VERIFIED_EMAIL holds", body = ErrorBody)))]
async fn refresh(
    State(app): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RefreshBody>,
) -> Result<Response, ApiError> {
    let delivery = app.config.refresh_delivery;
    let from_body = body
        .and_then(|b| b.refresh_token)
        .filter(|_| delivery.in_body());
    let (raw, via_cookie) = match from_body {
        Some(token) => (Some(token), false),
        None => (
            cookies::refresh_cookie(&headers).filter(|_| delivery.in_cookie()),
            true,
        ),
    };
    if via_cookie && raw.is_some() {
        cookies::check_origin(&headers, &app.config)?;
    }
    let Some(raw) = raw else {
        return Err(authgate_core::AuthError::InvalidRefreshToken.into());
    };
    match app.service.refresh(&raw, &client).await {
        Ok(tokens) => {
            let mut res = Json(TokenResponse::new(&tokens, delivery.in_body())).into_response();
            if delivery.in_cookie() {
                let cookie = cookies::set_refresh_cookie(
                    &app.config,
                    tokens.refresh_token.expose(),
                    tokens.refresh_expires_in,
                );
                res.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(res)
        }
        Err(e) => {
            let mut res = ApiError::from(e).into_response();
            if via_cookie {
                res.headers_mut().append(
                    header::SET_COOKIE,
                    cookies::clear_refresh_cookie(&app.config),
                );
            }
            Ok(res)
        }
    }
}

/// End this session (or all of the user's sessions with `{"all": true}`) and clear the cookie.
/// The access token stops working at once.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    request_body(content = LogoutBody, description = "Optional"),
    responses((status = 200, body = MessageResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "Cookie sent from a foreign Origin", body = ErrorBody)))]
async fn logout(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<LogoutBody>,
) -> Result<Response, ApiError> {
    let (all, token) = body
        .map(|b| (b.all.unwrap_or(false), b.refresh_token))
        .unwrap_or((false, None));
    let token = match token {
        Some(token) => Some(token),
        None => {
            let cookie = cookies::refresh_cookie(&headers);
            if cookie.is_some() {
                cookies::check_origin(&headers, &app.config)?;
            }
            cookie
        }
    };
    app.service
        .logout(&who, all, token.as_deref(), &client)
        .await?;
    let mut res = Json(MessageResponse {
        message: "Logged out successfully",
    })
    .into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear_refresh_cookie(&app.config),
    );
    Ok(res)
}
