//! Email verification, forgot/reset password, change password.

use authgate_core::service::EmailVerification;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::MessageResponse;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthUser, Client};
use crate::params::ApiPath;
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_email, check_verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(change_password))
}

/// `POST /forgot-password` body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ForgotBody {
    /// The account's email address.
    #[schema(required = true, value_type = String)]
    pub email: Option<String>,
}

/// `POST /reset-password` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResetBody {
    /// The token from the reset link.
    #[schema(required = true, value_type = String)]
    pub token: Option<String>,
    /// The new password (policy applies).
    #[schema(required = true, value_type = String)]
    pub new_password: Option<String>,
}

/// `POST /change-password` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeBody {
    /// The password in use now.
    #[schema(required = true, value_type = String)]
    pub current_password: Option<String>,
    /// The new password (policy applies).
    #[schema(required = true, value_type = String)]
    pub new_password: Option<String>,
}

/// Confirm an email address with the token from the verification mail (24 h). The first use
/// verifies the address; opening the same link again, once the address it was sent to is
/// verified, answers 200 "Email is already verified" (a mail scanner may have opened it
/// first). Mails link to the `/verify-email?token=` page, which spends the token only when
/// its button is pressed.
#[utoipa::path(get, path = "/api/auth/verify-email/{token}", tag = "account",
    params(("token" = String, Path, description = "Token from the verification link")),
    responses((status = 200, body = MessageResponse), (status = 400, description = "invalid_token: unknown, expired, or used while the address is still unverified", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP)", body = ErrorBody)))]
async fn verify_email(
    State(app): State<AppState>,
    Client(client): Client,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<MessageResponse>, ApiError> {
    let message = match app.service.verify_email(&token, &client).await? {
        EmailVerification::Verified => "Email verified successfully",
        EmailVerification::AlreadyVerified => "Email is already verified",
    };
    Ok(Json(MessageResponse { message }))
}

/// What `GET` would answer (200 or 400), without spending the token: link checkers and mail
/// scanners send `HEAD`.
#[utoipa::path(head, path = "/api/auth/verify-email/{token}", tag = "account",
    params(("token" = String, Path, description = "Token from the verification link")),
    responses((status = 200, description = "The link is usable, or its address is verified"),
        (status = 400, description = "invalid_token"), (status = 429, description = "rate_limited")))]
async fn check_verify_email(
    State(app): State<AppState>,
    Client(client): Client,
    ApiPath(token): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.service.check_verification_link(&token, &client).await?;
    Ok(StatusCode::OK)
}

/// Send a fresh verification mail (earlier links stop working).
#[utoipa::path(post, path = "/api/auth/resend-verification", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = MessageResponse), (status = 400, description = "already_verified", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn resend_verification(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
) -> Result<Json<MessageResponse>, ApiError> {
    app.service.resend_verification(&who, &client).await?;
    Ok(Json(MessageResponse {
        message: "Verification email sent",
    }))
}

/// Ask for a password reset link. The answer is the same whether or not the address has an
/// account, and so is its timing (the mail is prepared in the background).
#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "account", request_body = ForgotBody,
    responses((status = 200, body = MessageResponse), (status = 400, description = "Malformed email", body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn forgot_password(
    State(app): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ForgotBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let email = body
        .email
        .ok_or_else(|| authgate_core::AuthError::field("email", "is required"))?;
    app.service.forgot_password(&email, &client).await?;
    Ok(Json(MessageResponse {
        message: "If the email exists, a reset link has been sent",
    }))
}

/// Set a new password with the token from the reset mail (single use, 1 h). Every session
/// of the user ends; the user is not logged in.
#[utoipa::path(post, path = "/api/auth/reset-password", tag = "account", request_body = ResetBody,
    responses((status = 200, body = MessageResponse), (status = 400, description = "invalid_token, or validation_error for the password policy", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP)", body = ErrorBody),
        (status = 503, description = "Password hashing is saturated; the link stays usable", body = ErrorBody)))]
async fn reset_password(
    State(app): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let token = body
        .token
        .ok_or_else(|| authgate_core::AuthError::field("token", "is required"))?;
    app.service
        .reset_password(&token, body.new_password.map(SecretString::from), &client)
        .await?;
    Ok(Json(MessageResponse {
        message: "Password reset successfully",
    }))
}

/// Change the password. Every session of the user ends, this one included: log in again.
#[utoipa::path(post, path = "/api/auth/change-password", tag = "account", security(("bearer" = [])), request_body = ChangeBody,
    responses((status = 200, body = MessageResponse), (status = 400, description = "Password policy", body = ErrorBody),
        (status = 401, description = "invalid_current_password, or not authenticated", body = ErrorBody),
        (status = 429, description = "rate_limited: too many wrong current passwords for this account (they count toward the login block) or from this IP (the login's rate)", body = ErrorBody)))]
async fn change_password(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let current = body.current_password.map(SecretString::from);
    let new = body.new_password.map(SecretString::from);
    app.service
        .change_password(&who, current, new, &client)
        .await?;
    Ok(Json(MessageResponse {
        message: "Password changed successfully",
    }))
}
