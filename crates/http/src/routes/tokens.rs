//! Refresh and logout.

use authgate_core::tokens::Principal;
use authgate_core::AuthError;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::{LogoutBody, MessageResponse, RefreshBody, TokenResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{bearer_token, token_refused, Client, OptionalJson};
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
        (status = 403, description = "csrf_rejected: cookie sent from a foreign origin; email_not_verified while AUTHGATE_REQUIRE_VERIFIED_EMAIL holds", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP)", body = ErrorBody)))]
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
            // Only a dead token is cleared: a refusal that says nothing about the token (429,
            // 403 email_not_verified, 503) leaves the browser's session to try again later.
            let token_is_dead = matches!(
                e,
                authgate_core::AuthError::InvalidRefreshToken
                    | authgate_core::AuthError::RefreshTokenReused
            );
            let mut res = ApiError::from(e).into_response();
            if via_cookie && token_is_dead {
                res.headers_mut().append(
                    header::SET_COOKIE,
                    cookies::clear_refresh_cookie(&app.config),
                );
            }
            Ok(res)
        }
    }
}

/// End this session (or all of the user's sessions with `{"all": true}`) and clear the
/// cookie. The access token stops working at once.
///
/// A valid bearer token always logs out its own session, whatever origin sent the request; a
/// refresh token (body or cookie) may name another session of the caller to end too, the
/// cookie only from an allowed origin. Without a valid bearer token, a refresh token alone
/// ends its session: from the cookie, only if the request passes the origin check.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = []), ()),
    request_body(content = LogoutBody, description = "Optional"),
    responses((status = 200, description = "Logged out; the refreshToken cookie is cleared", body = MessageResponse),
        (status = 401, description = "unauthenticated: no valid bearer token and no refresh token; invalid_refresh_token: the refresh token names no live session", body = ErrorBody),
        (status = 403, description = "csrf_rejected: the refresh cookie alone, sent from an origin that is not allowed", body = ErrorBody)))]
async fn logout(
    State(app): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<LogoutBody>,
) -> Result<Response, ApiError> {
    let (all, body_token) = body
        .map(|b| (b.all.unwrap_or(false), b.refresh_token))
        .unwrap_or((false, None));
    let cookie = cookies::refresh_cookie(&headers);
    let outcome = match bearer_caller(&app, &headers).await? {
        Ok(who) => {
            // The bearer proves who is asking; a cookie from a foreign origin may not widen it.
            let other = body_token.or_else(|| {
                cookie.filter(|_| cookies::check_origin(&headers, &app.config).is_ok())
            });
            app.service
                .logout(&who, all, other.as_deref(), &client)
                .await
        }
        Err(no_bearer) => {
            let (token, via_cookie) = match (body_token, cookie) {
                (Some(token), _) => (token, false),
                (None, Some(token)) => (token, true),
                (None, None) => return Err(no_bearer),
            };
            if via_cookie {
                cookies::check_origin(&headers, &app.config)?;
            }
            app.service
                .logout_with_refresh_token(&token, all, &client)
                .await
        }
    };
    let mut res = match outcome {
        Ok(()) => Json(MessageResponse {
            message: "Logged out successfully",
        })
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    };
    let set = res.headers_mut();
    set.append(
        header::SET_COOKIE,
        cookies::clear_refresh_cookie(&app.config),
    );
    if let Some(clear) = cookies::clear_access_cookie(&app.config) {
        set.append(header::SET_COOKIE, clear);
    }
    Ok(res)
}

/// The caller of a valid bearer token; `Ok(Err(_))` when there is none or it is not valid
/// (expired, forged, its session ended), so a refresh token may stand in.
async fn bearer_caller(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Principal, ApiError>, ApiError> {
    let Some(token) = bearer_token(headers) else {
        return Ok(Err(AuthError::Unauthenticated(
            "Missing or malformed bearer token",
        )
        .into()));
    };
    match app.service.authenticate(token).await {
        Err(e @ AuthError::Unauthenticated(_)) => Ok(Err(token_refused(e))),
        Err(e) => Err(e.into()),
        Ok(who) => Ok(Ok(who)),
    }
}
