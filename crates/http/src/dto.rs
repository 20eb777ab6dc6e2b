//! Request and response bodies, as the contract names them (camelCase).
//!
//! Request bodies deliberately have no `Debug`: they carry passwords.

use authgate_core::domain::User;
use authgate_core::service::{IssuedTokens, SessionView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /register` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    /// Email address (required unless `AUTHGATE_REQUIRE_EMAIL=false`).
    #[schema(required = true, value_type = String, example = "ada@example.com")]
    pub email: Option<String>,
    /// Password: 8-128 characters with upper, lower and digit (default policy).
    #[schema(required = true, value_type = String, example = "Analytical7Engine")]
    pub password: Option<String>,
    /// Full name (or give firstName and lastName).
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Unique username (3-32 of letters, digits, `_.-`).
    pub username: Option<String>,
    /// Requested role; only roles in `AUTHGATE_SELF_ASSIGNABLE_ROLES` (and `user`) are accepted.
    pub role: Option<String>,
}

/// `POST /login` body: the password and one of email, username or identifier.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    /// Email address.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Email or username.
    pub identifier: Option<String>,
    /// Password.
    #[schema(required = true, value_type = String)]
    pub password: Option<String>,
}

/// `POST /refresh` body (optional when the cookie carries the token).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    /// The refresh token.
    pub refresh_token: Option<String>,
}

/// `POST /logout` body (optional).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutBody {
    /// A refresh token whose session should end too.
    pub refresh_token: Option<String>,
    /// End every session of the user.
    pub all: Option<bool>,
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    /// Stable id (UUIDv7).
    pub id: String,
    /// Email address.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Role.
    pub role: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last login time.
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id.into_string(),
            email: u.email,
            username: u.username,
            name: u.name,
            first_name: u.first_name,
            last_name: u.last_name,
            role: u.role,
            email_verified: u.email_verified,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// Tokens after a refresh.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// Signed JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque refresh token (absent when delivered only by cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl TokenResponse {
    /// Builds the body, including the refresh token only when `with_refresh`.
    pub fn new(t: &IssuedTokens, with_refresh: bool) -> Self {
        TokenResponse {
            access_token: t.access_token.clone(),
            refresh_token: with_refresh.then(|| t.refresh_token.expose().to_owned()),
            token_type: "Bearer",
            expires_in: t.expires_in,
        }
    }
}

/// Tokens and the user after register or login.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// The tokens.
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The user.
    pub user: UserDto,
}

/// `GET /me` response.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// The caller.
    pub user: UserDto,
}

/// One session as listed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    /// Session id.
    pub id: String,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Last refresh.
    pub last_used_at: DateTime<Utc>,
    /// End unless refreshed.
    pub expires_at: DateTime<Utc>,
    /// Device's User-Agent at login.
    pub user_agent: Option<String>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

impl From<SessionView> for SessionDto {
    fn from(v: SessionView) -> Self {
        let s = v.session;
        SessionDto {
            id: s.id.into_string(),
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            ip: s.ip,
            current: v.current,
        }
    }
}

/// `GET /sessions` response.
#[derive(Serialize, ToSchema)]
pub struct SessionsResponse {
    /// Live sessions, newest first.
    pub sessions: Vec<SessionDto>,
}

/// A confirmation message.
#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    /// The message.
    pub message: &'static str,
}
