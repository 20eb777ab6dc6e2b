//! Importing users from another system with their existing password hashes.
//!
//! bcrypt hashes are kept as they are: they verify at login, which then stores a fresh
//! argon2id hash (see [`crate::hashing::Verified::needs_rehash`]).

use argon2::password_hash::PasswordHash;
use chrono::{DateTime, Utc};

use super::AuthService;
use crate::audit::AuditKind;
use crate::config::AuthConfig;
use crate::domain::{ClientInfo, Email, NewUser, PersonName, Role, User, UserId, Username};
use crate::error::{AuthError, ValidationDetails};

/// Never quotes the value: it may be a password.
const UNSUPPORTED_HASH: &str = "must be a bcrypt ($2a$, $2b$, $2y$) or argon2 ($argon2id$, \
     $argon2i$) hash; plain-text passwords are not imported";

/// One user exported from another system, every field still unparsed.
///
/// `Debug` never shows the password hash.
#[derive(Clone, Default)]
pub struct ImportRecord {
    /// Email address (required unless [`AuthConfig::require_email`] is false).
    pub email: Option<String>,
    /// Username (required when there is no email).
    pub username: Option<String>,
    /// Full name (optional; `first_name last_name` when only those are given).
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Any valid role name; `user` when absent.
    pub role: Option<String>,
    /// A bcrypt (`$2a$`, `$2b$`, `$2y$`) or argon2 (`$argon2id$`, `$argon2i$`) hash.
    pub password_hash: Option<String>,
    /// When the account was created; now when absent.
    pub created_at: Option<DateTime<Utc>>,
    /// Whether the email address was verified; false when absent.
    pub email_verified: Option<bool>,
}

impl std::fmt::Debug for ImportRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportRecord")
            .field("email", &self.email)
            .field("username", &self.username)
            .field("role", &self.role)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl ImportRecord {
    /// Checks every field with the parsers registration uses and builds the user to insert
    /// (with a new id; created `now` unless the record says when), or names each field's
    /// problems in [`AuthError::Validation`]. A problem never quotes the password hash.
    pub fn validate(&self, config: &AuthConfig, now: DateTime<Utc>) -> Result<NewUser, AuthError> {
        let mut details = ValidationDetails::new();
        let d = &mut details;
        let email = parse_field(d, "email", &self.email, Email::parse);
        let username = parse_field(d, "username", &self.username, Username::parse);
        let name = parse_field(d, "name", &self.name, PersonName::parse);
        let first_name = parse_field(d, "firstName", &self.first_name, PersonName::parse);
        let last_name = parse_field(d, "lastName", &self.last_name, PersonName::parse);
        let role = match &self.role {
            None => Some(Role::user()),
            raw => parse_field(d, "role", raw, Role::parse),
        };
        if self.email.is_none() && config.require_email {
            fail(d, "email", "is required");
        } else if self.email.is_none() && self.username.is_none() {
            fail(d, "username", "is required when no email is given");
        }
        match self.password_hash.as_deref() {
            None => fail(d, "password", "is required"),
            Some(h) if !is_supported_hash(h) => fail(d, "password", UNSUPPORTED_HASH),
            Some(_) => {}
        }
        if !details.is_empty() {
            return Err(AuthError::Validation {
                message: "Validation failed".into(),
                details,
            });
        }
        let (first_name, last_name) = (
            first_name.map(PersonName::into_inner),
            last_name.map(PersonName::into_inner),
        );
        let name = name
            .map(PersonName::into_inner)
            .or_else(|| Some(format!("{} {}", first_name.as_ref()?, last_name.as_ref()?)));
        let created_at = self.created_at.unwrap_or(now);
        let created_at =
            DateTime::from_timestamp_millis(created_at.timestamp_millis()).unwrap_or(created_at);
        Ok(NewUser {
            user: User {
                id: UserId::new(),
                email: email.as_ref().map(|e| e.as_str().to_owned()),
                username: username.as_ref().map(|u| u.as_str().to_owned()),
                name,
                first_name,
                last_name,
                role: role.expect("checked above").as_str().to_owned(),
                email_verified: self.email_verified.unwrap_or(false) && email.is_some(),
                created_at,
                last_login_at: None,
            },
            email_normalized: email.as_ref().map(Email::normalized),
            username_normalized: username.as_ref().map(Username::normalized),
            password_hash: self.password_hash.clone().expect("checked above"),
        })
    }
}

impl AuthService {
    /// Imports one user with the password hash of their old system, in a single store
    /// insert, so a user is never half-imported.
    ///
    /// Errors: `Validation` (see [`ImportRecord::validate`]), `Conflict` when the email or
    /// username is taken.
    pub async fn import_user(&self, record: ImportRecord) -> Result<User, AuthError> {
        let new = record.validate(&self.inner.config, self.now())?;
        self.inner.store.insert_user(&new).await?;
        self.audit(AuditKind::UserCreated, &ClientInfo::default())
            .user(&new.user.id)
            .detail("imported")
            .record();
        Ok(new.user)
    }
}

fn parse_field<T>(
    details: &mut ValidationDetails,
    field: &str,
    raw: &Option<String>,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Option<T> {
    match parse(raw.as_deref()?) {
        Ok(v) => Some(v),
        Err(problem) => {
            fail(details, field, problem);
            None
        }
    }
}

fn fail(details: &mut ValidationDetails, field: &str, problem: &str) {
    details.insert(field.to_owned(), vec![problem.to_owned()]);
}

/// A bcrypt hash of the usual 60-character shape, or an argon2i/argon2id PHC string.
fn is_supported_hash(h: &str) -> bool {
    let bcrypt_alphabet = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'/';
    let bcrypt = |b: &[u8]| {
        b.len() == 60
            && matches!(&b[..4], b"$2a$" | b"$2b$" | b"$2y$")
            && std::str::from_utf8(&b[4..6])
                .ok()
                .filter(|c| c.bytes().all(|d| d.is_ascii_digit()))
                .and_then(|c| c.parse::<u32>().ok())
                .is_some_and(|cost| (4..=31).contains(&cost))
            && b[6] == b'$'
            && b[7..].iter().all(|&c| bcrypt_alphabet(c))
    };
    let argon2 = |h: &str| {
        PasswordHash::new(h).is_ok_and(|p| {
            matches!(p.algorithm.as_str(), "argon2id" | "argon2i")
                && p.salt.is_some()
                && p.hash.is_some()
                && argon2::Params::try_from(&p).is_ok()
        })
    };
    bcrypt(h.as_bytes()) || argon2(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::{HashParams, PasswordHasher};
    use argon2::password_hash::{PasswordHasher as _, SaltString};

    const BCRYPT: &str = "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

    fn record(email: &str, hash: &str) -> ImportRecord {
        let (email, hash) = (Some(email.into()), Some(hash.into()));
        ImportRecord {
            email,
            password_hash: hash,
            ..ImportRecord::default()
        }
    }

    fn problems(r: &ImportRecord, config: &AuthConfig) -> ValidationDetails {
        match r.validate(config, Utc::now()) {
            Err(AuthError::Validation { details, .. }) => details,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn plain_text_and_malformed_hashes_are_refused_without_being_echoed() {
        let argon2d = "$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$mUEe6ivfI1Z8cUqKoPzmYhJBRdeNxXsaJnj/ODDwnMk";
        let bad_cost = BCRYPT.replace("$10$", "$03$");
        for bad in [
            "Hunter2Hunter2",
            &BCRYPT[..59],
            &bad_cost,
            &BCRYPT.replace("$2y$", "$2x$"),
            argon2d,
        ] {
            let r = record("a@example.com", bad);
            let details = problems(&r, &AuthConfig::default());
            assert!(details.contains_key("password"), "{bad} was accepted");
            assert!(
                !format!("{details:?} {r:?}").contains(bad),
                "{bad} was echoed"
            );
        }
    }

    #[tokio::test]
    async fn bcrypt_and_argon2i_hashes_are_kept_and_still_verify() {
        let params = argon2::Params::new(4096, 3, 1, None).unwrap();
        let argon2i =
            argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params)
                .hash_password(
                    b"Correct7Horse",
                    &SaltString::generate(&mut rand::rngs::OsRng),
                )
                .unwrap()
                .to_string();
        let hasher = PasswordHasher::new(HashParams::default(), 1, 8).unwrap();
        for good in [BCRYPT, &BCRYPT.replace("$2y$", "$2b$"), &argon2i] {
            let new = record("Ada@Example.com", good)
                .validate(&AuthConfig::default(), Utc::now())
                .unwrap();
            assert_eq!(new.password_hash, good);
            assert_eq!(new.email_normalized.as_deref(), Some("ada@example.com"));
            assert_eq!((new.user.role.as_str(), new.user.name), ("user", None));
        }
        let pw = secrecy::SecretString::from("Correct7Horse");
        assert!(hasher.verify(&pw, &argon2i).await.unwrap().needs_rehash);
    }

    #[test]
    fn names_are_optional_and_every_field_is_checked() {
        let mut r = record("a@example.com", BCRYPT);
        (r.first_name, r.last_name) = (Some("Ada".into()), Some("Lovelace".into()));
        let user = r.validate(&AuthConfig::default(), Utc::now()).unwrap().user;
        assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
        (r.role, r.email) = (Some("Admin!".into()), Some("not-an-email".into()));
        let details = problems(&r, &AuthConfig::default());
        assert_eq!(details.keys().collect::<Vec<_>>(), ["email", "role"]);
    }

    #[test]
    fn without_required_email_a_username_is_needed() {
        let config = AuthConfig {
            require_email: false,
            ..AuthConfig::default()
        };
        let mut r = ImportRecord {
            email_verified: Some(true),
            ..record("x@example.com", BCRYPT)
        };
        r.email = None;
        assert!(problems(&r, &config).contains_key("username"));
        assert!(problems(&r, &AuthConfig::default()).contains_key("email"));
        r.username = Some("ada_l".into());
        assert!(
            !r.validate(&config, Utc::now()).unwrap().user.email_verified,
            "no email, nothing verified"
        );
    }
}
