//! Registration and administrative user creation.

use secrecy::{ExposeSecret, SecretString};

use super::{AuthService, AuthSuccess};
use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Email, NewUser, PersonName, Role, User, UserId, Username};
use crate::error::{AuthError, ValidationDetails};

/// A registration as the client sent it (every field still unparsed).
#[derive(Debug, Default)]
pub struct RegisterRequest {
    /// Email address.
    pub email: Option<String>,
    /// Password.
    pub password: Option<SecretString>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Requested role.
    pub role: Option<String>,
}

/// A registration whose fields all parsed.
struct Valid {
    email: Option<Email>,
    username: Option<Username>,
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    password: SecretString,
    role: Role,
}

impl AuthService {
    /// Registers a user and logs them in (a new session).
    ///
    /// Errors: `Validation` (400), `RoleNotAllowed` (403), `Conflict` (409).
    pub async fn register(
        &self,
        req: RegisterRequest,
        client: &ClientInfo,
    ) -> Result<AuthSuccess, AuthError> {
        let valid = self.validate_registration(req)?;
        if valid.role.as_str() != Role::USER
            && !self
                .inner
                .config
                .self_assignable_roles
                .iter()
                .any(|r| r == valid.role.as_str())
        {
            return Err(AuthError::RoleNotAllowed(valid.role.as_str().to_owned()));
        }
        let user = self.insert_user(valid, false).await?;
        let tokens = self.open_session(&user, client).await?;
        let user = self
            .inner
            .store
            .find_user_by_id(&user.id)
            .await?
            .map_or(user, |r| r.user);
        if let Err(e) = self
            .send_one_time_link(&user, crate::store::TokenPurpose::VerifyEmail)
            .await
        {
            // The account exists and is logged in; the user can ask for the mail again.
            tracing::error!(error = %e, user_id = %user.id, "could not queue the verification mail");
        }
        self.audit(AuditKind::Register, client)
            .user(&user.id)
            .session(&tokens.session_id)
            .record();
        Ok(AuthSuccess { tokens, user })
    }

    /// Creates a user without the API (administrator bootstrap): any role, email marked
    /// verified, no session.
    pub async fn create_user(&self, req: RegisterRequest) -> Result<User, AuthError> {
        let valid = self.validate_registration(req)?;
        let user = self.insert_user(valid, true).await?;
        self.audit(AuditKind::UserCreated, &ClientInfo::default())
            .user(&user.id)
            .detail(&user.role)
            .record();
        Ok(user)
    }

    async fn insert_user(&self, v: Valid, verified: bool) -> Result<User, AuthError> {
        let password_hash = self.inner.hasher.hash(&v.password).await?;
        let now = self.now();
        let user = User {
            id: UserId::new(),
            email: v.email.as_ref().map(|e| e.as_str().to_owned()),
            username: v.username.as_ref().map(|u| u.as_str().to_owned()),
            name: v.name,
            first_name: v.first_name,
            last_name: v.last_name,
            role: v.role.as_str().to_owned(),
            email_verified: verified && v.email.is_some(),
            created_at: now,
            last_login_at: None,
        };
        let new = NewUser {
            user: user.clone(),
            email_normalized: v.email.as_ref().map(Email::normalized),
            username_normalized: v.username.as_ref().map(Username::normalized),
            password_hash,
        };
        self.inner.store.insert_user(&new).await?;
        Ok(user)
    }

    fn validate_registration(&self, req: RegisterRequest) -> Result<Valid, AuthError> {
        let mut details = ValidationDetails::new();
        let mut fail = |field: &str, problem: String| {
            details.entry(field.to_owned()).or_default().push(problem)
        };

        let email = parse_opt(req.email.as_deref(), Email::parse, "email", &mut fail);
        let username = parse_opt(
            req.username.as_deref(),
            Username::parse,
            "username",
            &mut fail,
        );
        if req.email.is_none() && self.inner.config.require_email {
            fail("email", "is required".into());
        } else if req.email.is_none() && req.username.is_none() {
            fail("username", "is required when no email is given".into());
        }
        let name = parse_opt(req.name.as_deref(), PersonName::parse, "name", &mut fail);
        let first_name = parse_opt(
            req.first_name.as_deref(),
            PersonName::parse,
            "firstName",
            &mut fail,
        );
        let last_name = parse_opt(
            req.last_name.as_deref(),
            PersonName::parse,
            "lastName",
            &mut fail,
        );
        if req.name.is_none() && (req.first_name.is_none() || req.last_name.is_none()) {
            fail(
                "name",
                "is required (or both firstName and lastName)".into(),
            );
        }
        let role = match req.role.as_deref() {
            None => Some(Role::user()),
            Some(r) => parse_opt(Some(r), Role::parse, "role", &mut fail),
        };
        let local = email.as_ref().map(Email::local_part);
        match req.password.as_ref() {
            None => fail("password", "is required".into()),
            Some(pw) => {
                if let Err(problems) = self
                    .inner
                    .config
                    .password_policy
                    .check(pw.expose_secret(), local.as_deref())
                {
                    problems.into_iter().for_each(|p| fail("password", p));
                }
            }
        }
        if !details.is_empty() {
            return Err(AuthError::Validation {
                message: "Validation failed".into(),
                details,
            });
        }
        let name = name
            .map(PersonName::into_inner)
            .or_else(|| match (&first_name, &last_name) {
                (Some(f), Some(l)) => Some(format!("{} {}", f.as_str(), l.as_str())),
                _ => None,
            });
        Ok(Valid {
            email,
            username,
            name,
            first_name: first_name.map(PersonName::into_inner),
            last_name: last_name.map(PersonName::into_inner),
            password: req.password.expect("checked above"),
            role: role.expect("checked above"),
        })
    }
}

fn parse_opt<T>(
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, &'static str>,
    field: &str,
    fail: &mut impl FnMut(&str, String),
) -> Option<T> {
    match raw.map(parse) {
        Some(Ok(v)) => Some(v),
        Some(Err(problem)) => {
            fail(field, problem.to_owned());
            None
        }
        None => None,
    }
}
