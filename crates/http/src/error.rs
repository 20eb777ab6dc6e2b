//! [`ApiError`]: the one error type of the HTTP layer. Every failure leaves as
//! `{"message", "code", "details"?}` with the contract's status.

use std::collections::BTreeMap;

use authgate_core::AuthError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A human sentence.
    pub message: String,
    /// A stable snake_case code.
    pub code: &'static str,
    /// Problems per field (validation errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, Vec<String>>>,
}

/// An error answered to the client.
#[derive(Debug)]
pub enum ApiError {
    /// A failure from the core.
    Auth(AuthError),
    /// A token the caller sent (bearer, access cookie) was refused: answered as the inner
    /// error, and a 401 says `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750
    /// §3.1) where a request that sent no token gets a bare `Bearer` challenge.
    TokenRefused(AuthError),
    /// The request has more than one `Authorization` header: refused, since a proxy that
    /// reads another one than we do would act for a different caller.
    RepeatedAuthorization,
    /// The body is not JSON.
    MalformedJson(String),
    /// The body is JSON of the wrong shape (a field of the wrong type).
    WrongShape {
        /// JSON path of the offending field.
        field: String,
        /// What was wrong.
        problem: String,
    },
    /// The request's content type is not JSON.
    UnsupportedMediaType,
    /// The request's content type is neither a form nor JSON (introspection).
    NotFormOrJson,
    /// The body is larger than allowed.
    PayloadTooLarge,
    /// A cookie-carried request from an origin that is not allowed.
    CsrfRejected {
        /// What the browser sent instead of an allowed origin, for the message, e.g.
        /// `Origin "https://evil.example"`.
        seen: String,
    },
    /// No such route.
    RouteNotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

impl ApiError {
    fn status_code_message(&self) -> (StatusCode, &'static str, String) {
        use StatusCode as S;
        match self {
            ApiError::Auth(e) | ApiError::TokenRefused(e) => auth_status(e),
            ApiError::RepeatedAuthorization => (
                S::BAD_REQUEST,
                "repeated_authorization",
                "The request has more than one Authorization header; send exactly one".into(),
            ),
            ApiError::MalformedJson(m) => (
                S::BAD_REQUEST,
                "malformed_json",
                format!("Malformed JSON body: {m}"),
            ),
            ApiError::WrongShape { .. } => (
                S::BAD_REQUEST,
                "validation_error",
                "Validation failed".into(),
            ),
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Request body must be application/json".into(),
            ),
            ApiError::NotFormOrJson => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Request body must be application/x-www-form-urlencoded or application/json".into(),
            ),
            ApiError::PayloadTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request body is too large".into(),
            ),
            ApiError::CsrfRejected { seen } => (
                S::FORBIDDEN,
                "csrf_rejected",
                format!(
                    "Request origin is not allowed to use the refresh cookie: the browser sent \
                     {seen}; list the page's origin in AUTHGATE_ALLOWED_ORIGINS (the origin of \
                     AUTHGATE_PUBLIC_URL is always allowed)"
                ),
            ),
            ApiError::RouteNotFound => (S::NOT_FOUND, "not_found", "Not found".into()),
            ApiError::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed".into(),
            ),
        }
    }
}

/// The status, code and message the API answers `e` with.
pub(crate) fn auth_status(e: &AuthError) -> (StatusCode, &'static str, String) {
    use StatusCode as S;
    let msg = e.to_string();
    match e {
        AuthError::Validation { .. } => (S::BAD_REQUEST, "validation_error", msg),
        AuthError::InvalidCredentials => (S::UNAUTHORIZED, "invalid_credentials", msg),
        AuthError::Conflict { field: "email" } => (
            S::CONFLICT,
            "email_taken",
            "Email is already registered".into(),
        ),
        AuthError::Conflict { field: "username" } => (
            S::CONFLICT,
            "username_taken",
            "Username is already taken".into(),
        ),
        AuthError::Conflict { .. } => (S::CONFLICT, "conflict", msg),
        AuthError::RoleNotAllowed(_) => (S::FORBIDDEN, "role_not_allowed", msg),
        AuthError::AccountDisabled => (S::FORBIDDEN, "account_disabled", msg),
        AuthError::Forbidden(_) => (S::FORBIDDEN, "forbidden", msg),
        AuthError::EmailNotVerified => (S::FORBIDDEN, "email_not_verified", msg),
        AuthError::Unauthenticated(_) => (S::UNAUTHORIZED, "unauthenticated", msg),
        AuthError::InvalidRefreshToken => (S::UNAUTHORIZED, "invalid_refresh_token", msg),
        AuthError::RefreshTokenReused => (S::UNAUTHORIZED, "refresh_token_reused", msg),
        AuthError::InvalidToken => (S::BAD_REQUEST, "invalid_token", msg),
        AuthError::WrongCurrentPassword => (S::UNAUTHORIZED, "invalid_current_password", msg),
        AuthError::AlreadyVerified => (S::BAD_REQUEST, "already_verified", msg),
        AuthError::LastAdmin => (S::CONFLICT, "last_admin", msg),
        AuthError::NotFound(_) => (S::NOT_FOUND, "not_found", msg),
        AuthError::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited", msg),
        AuthError::Overloaded => (S::SERVICE_UNAVAILABLE, "overloaded", msg),
        AuthError::StoreUnavailable(_) => (S::SERVICE_UNAVAILABLE, "service_unavailable", msg),
        AuthError::Internal(_) => (
            S::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error".into(),
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let challenge = match &self {
            ApiError::TokenRefused(_) => r#"Bearer error="invalid_token""#,
            _ => "Bearer",
        };
        let this = match self {
            ApiError::TokenRefused(e) => ApiError::Auth(e),
            other => other,
        };
        this.respond(challenge)
    }
}

impl ApiError {
    /// The response, with `challenge` as the `WWW-Authenticate` of a 401.
    fn respond(self, challenge: &'static str) -> Response {
        let (status, code, message) = self.status_code_message();
        match &self {
            ApiError::Auth(AuthError::Internal(cause)) => tracing::error!(%cause, "internal error"),
            ApiError::Auth(AuthError::StoreUnavailable(cause)) => {
                tracing::error!(%cause, "store unavailable")
            }
            _ => tracing::debug!(code, %status, "request refused"),
        }
        let retry_after = match (&self, status) {
            (
                ApiError::Auth(AuthError::RateLimited {
                    retry_after_secs, ..
                }),
                _,
            ) => Some((*retry_after_secs).max(1)),
            (ApiError::Auth(AuthError::Overloaded), _) => Some(1),
            (_, StatusCode::SERVICE_UNAVAILABLE) => Some(5),
            _ => None,
        };
        let rate_limit = match &self {
            ApiError::Auth(AuthError::RateLimited {
                retry_after_secs,
                limit,
            }) => Some((*limit, (*retry_after_secs).max(1))),
            _ => None,
        };
        let details = match self {
            ApiError::Auth(AuthError::Validation { details, .. }) => Some(details),
            ApiError::WrongShape { field, problem } => {
                Some(BTreeMap::from([(field, vec![problem])]))
            }
            _ => None,
        };
        let mut res = (
            status,
            Json(ErrorBody {
                message,
                code,
                details,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some((limit, reset)) = rate_limit {
            let h = res.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(limit));
            h.insert("ratelimit-remaining", HeaderValue::from(0));
            h.insert("ratelimit-reset", HeaderValue::from(reset));
        }
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
