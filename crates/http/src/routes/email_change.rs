//! Changing one's email address: the request (bearer, with the password), the link to the
//! new address that makes the change, and the link to the old address that undoes it. The
//! mails link to the hosted `/confirm-email-change` and `/undo-email-change` pages, which
//! post here only when their button is pressed.

use authgate_core::service::EmailChange;
use authgate_core::AuthError;
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
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change_email))
        .routes(routes!(confirm_email_change))
        .routes(routes!(undo_email_change))
}

/// `POST /change-email` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeEmailBody {
    /// The account's password (re-authentication).
    #[schema(required = true, value_type = String)]
    pub current_password: Option<String>,
    /// The address to change to.
    #[schema(required = true, value_type = String)]
    pub new_email: Option<String>,
}

/// The body of the confirm and undo calls.
#[derive(Deserialize, ToSchema)]
pub(crate) struct EmailChangeTokenBody {
    /// The token from the mailed link.
    #[schema(required = true, value_type = String)]
    pub token: Option<String>,
}

/// Ask to change your email address, with your password. A confirmation link (valid as long
/// as a verification link, 24 h by default) goes to the new address; nothing changes until it
/// is followed. Every other session of yours ends now.
#[utoipa::path(post, path = "/api/auth/change-email", tag = "account", security(("bearer" = [])),
    request_body = ChangeEmailBody,
    responses((status = 202, description = "The confirmation link is on its way to the new address", body = MessageResponse),
        (status = 400, description = "`newEmail` or `currentPassword` missing or malformed, or the address is the account's already", body = ErrorBody),
        (status = 401, description = "`invalid_current_password`, or not authenticated", body = ErrorBody),
        (status = 409, description = "`email_taken`: another account has the address", body = ErrorBody),
        (status = 429, description = "rate_limited: wrong passwords count toward the login block; links per account are limited like resending a verification", body = ErrorBody)))]
async fn change_email(
    State(app): State<AppState>,
    AuthUser(who): AuthUser,
    Client(client): Client,
    ApiJson(body): ApiJson<ChangeEmailBody>,
) -> Result<(StatusCode, Json<MessageResponse>), ApiError> {
    let password = body.current_password.map(SecretString::from);
    app.service
        .request_email_change(&who, password, body.new_email.as_deref(), &client)
        .await?;
    let message = "Check the new address for a confirmation link";
    Ok((StatusCode::ACCEPTED, Json(MessageResponse { message })))
}

/// Confirm an email change with the token from the link mailed to the new address: the
/// account's address becomes the new one, verified, and the old address is mailed a link
/// that undoes the change for 72 hours. A second call with the same token, once the change
/// is made, says so (200).
#[utoipa::path(post, path = "/api/auth/confirm-email-change", tag = "account",
    request_body = EmailChangeTokenBody,
    responses((status = 200, body = MessageResponse),
        (status = 400, description = "`invalid_token`: unknown, expired, or superseded by a newer request", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 409, description = "`email_taken`: another account took the address meanwhile", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP)", body = ErrorBody)))]
async fn confirm_email_change(
    State(app): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<EmailChangeTokenBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let token = body
        .token
        .ok_or_else(|| AuthError::field("token", "is required"))?;
    let message = match app.service.confirm_email_change(&token, &client).await? {
        EmailChange::Changed => "Email address changed",
        EmailChange::AlreadyChanged => "Email address was already changed",
    };
    Ok(Json(MessageResponse { message }))
}

/// Undo an email change with the token from the notice mailed to the old address (72 h):
/// the old address is the account's again, every session ends, and pending change links die.
#[utoipa::path(post, path = "/api/auth/undo-email-change", tag = "account",
    request_body = EmailChangeTokenBody,
    responses((status = 200, body = MessageResponse),
        (status = 400, description = "`invalid_token`: unknown or expired", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 409, description = "`email_taken`: another account has the old address now", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP)", body = ErrorBody)))]
async fn undo_email_change(
    State(app): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<EmailChangeTokenBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    let token = body
        .token
        .ok_or_else(|| AuthError::field("token", "is required"))?;
    let message = match app.service.undo_email_change(&token, &client).await? {
        EmailChange::Changed => "Email address restored; every session was signed out",
        EmailChange::AlreadyChanged => "Email address was already restored",
    };
    Ok(Json(MessageResponse { message }))
}
