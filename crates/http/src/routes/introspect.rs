//! Token introspection (RFC 7662): another service asks whether an access token is live.

use authgate_core::service::Identity;
use authgate_core::AuthError;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{bearer_token, FormOrJson};
use crate::AppState;

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(introspect))
}

/// `POST /introspect` body, as a form (`token=...`) or JSON (`{"token": "..."}`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct IntrospectBody {
    /// The access token to check.
    #[schema(required = true, value_type = String)]
    pub(crate) token: Option<String>,
    /// RFC 7662's hint; accepted and ignored (only access tokens can be active).
    #[allow(dead_code)]
    pub(crate) token_type_hint: Option<String>,
}

/// The answer: `{"active": false}` and nothing else for any token that is not a live access
/// token; the token's claims and the account's identifiers for one that is.
#[derive(Serialize, ToSchema, Default)]
pub(crate) struct IntrospectionResponse {
    /// Whether the token is a live access token (valid signature, not expired, its session
    /// not ended, the account not disabled).
    pub(crate) active: bool,
    /// User id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sub: Option<String>,
    /// Session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sid: Option<String>,
    /// The account's current role (what `/me` shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<String>,
    /// The account's email, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    /// The account's username, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<String>,
    /// Expiry (seconds since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exp: Option<i64>,
    /// Issued at (seconds since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iat: Option<i64>,
    /// Issuer (the public URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iss: Option<String>,
    /// Audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) aud: Option<String>,
    /// Always `access_token` when active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_type: Option<&'static str>,
}

impl From<Identity> for IntrospectionResponse {
    fn from(id: Identity) -> Self {
        IntrospectionResponse {
            active: true,
            sub: Some(id.principal.user_id.into_string()),
            sid: Some(id.principal.session_id.into_string()),
            role: Some(id.user.role),
            email: id.user.email,
            username: id.user.username,
            exp: Some(id.expires_at),
            iat: Some(id.issued_at),
            iss: Some(id.issuer),
            aud: Some(id.audience),
            token_type: Some("access_token"),
        }
    }
}

/// A caller holding one of `AUTHGATE_INTROSPECTION_SECRETS` as its bearer token. Checked
/// before the body is read, so a caller without the secret learns nothing from it.
pub(crate) struct IntrospectionCaller;

impl<S> FromRequestParts<S> for IntrospectionCaller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let Some(secrets) = &app.config.introspection_secrets else {
            return Err(ApiError::RouteNotFound);
        };
        let refused = AuthError::Unauthenticated(
            "Introspection needs Authorization: Bearer <one of AUTHGATE_INTROSPECTION_SECRETS>",
        );
        match bearer_token(&parts.headers) {
            Some(secret) if secrets.accepts(secret.as_bytes()) => Ok(IntrospectionCaller),
            Some(_) => Err(ApiError::TokenRefused(refused)),
            None => Err(refused.into()),
        }
    }
}

/// Whether an access token is live, and whose it is (RFC 7662). The caller authenticates with
/// `Authorization: Bearer <secret>`, a secret of `AUTHGATE_INTROSPECTION_SECRETS`; without
/// that setting the endpoint does not exist (404). Any token that is not a live access token
/// (expired, forged, a refresh token, its session ended by logout, revocation, a password
/// change or reset, or a disabled account) gets `{"active": false}` and nothing more. Answered
/// from the same caches as `GET /me`, and not rate limited.
#[utoipa::path(post, path = "/api/auth/introspect", tag = "protect",
    security(("introspectionSecret" = [])),
    request_body(description = "`token=...` as application/x-www-form-urlencoded (RFC 7662), or JSON",
        content((IntrospectBody = "application/x-www-form-urlencoded"), (IntrospectBody = "application/json"))),
    responses(
        (status = 200, description = "`{\"active\": true, ...}` for a live access token, `{\"active\": false}` for anything else", body = IntrospectionResponse),
        (status = 400, description = "validation_error: no `token`, or a body that does not parse", body = ErrorBody),
        (status = 401, description = "unauthenticated: the caller's secret is missing or wrong", body = ErrorBody),
        (status = 404, description = "not_found: AUTHGATE_INTROSPECTION_SECRETS is not set", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, description = "unsupported_media_type: neither a form nor JSON", body = ErrorBody),
        (status = 503, description = "service_unavailable: the store cannot be asked", body = ErrorBody)))]
async fn introspect(
    State(app): State<AppState>,
    _caller: IntrospectionCaller,
    FormOrJson(body): FormOrJson<IntrospectBody>,
) -> Result<Json<IntrospectionResponse>, ApiError> {
    let token = body
        .token
        .ok_or_else(|| AuthError::field("token", "is required"))?;
    match app.service.identify(&token).await {
        Ok(identity) => Ok(Json(identity.into())),
        Err(AuthError::Unauthenticated(_)) => Ok(Json(IntrospectionResponse::default())),
        Err(e) => Err(e.into()),
    }
}
