//! Domain types, parsed once at the edge ("parse, don't validate").

use chrono::{DateTime, Utc};

/// Longest accepted email address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest accepted display name, first name or last name, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// A user's id: a UUIDv7 in its canonical text form (time-ordered, so indexes stay compact).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

/// A session's id: a UUIDv7 in its canonical text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl UserId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        UserId(uuid::Uuid::now_v7().to_string())
    }

    /// An id as a store or a client gave it. Ids are opaque: nothing is checked, and an id
    /// that names no user simply finds nothing.
    pub fn from_string(id: impl Into<String>) -> Self {
        UserId(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl SessionId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        SessionId(uuid::Uuid::now_v7().to_string())
    }

    /// An id as a store or a client gave it (opaque, like [`UserId::from_string`]).
    pub fn from_string(id: impl Into<String>) -> Self {
        SessionId(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A syntactically valid email address, trimmed, as the user typed it.
///
/// Uniqueness and look-ups use [`Email::normalized`] (lower-cased).
///
/// ```
/// use authgate_core::domain::Email;
/// let e = Email::parse("  Ada@Example.COM ").unwrap();
/// assert_eq!(e.as_str(), "Ada@Example.COM");
/// assert_eq!(e.normalized(), "ada@example.com");
/// assert!(Email::parse("not-an-email").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses and trims an email address, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required");
        }
        if s.chars().count() > MAX_EMAIL_LEN {
            return Err("must be at most 254 characters");
        }
        let (local, domain) = s.rsplit_once('@').ok_or("must be a valid email address")?;
        if !valid_local_part(local) || !valid_domain(domain) {
            return Err("must be a valid email address");
        }
        Ok(Email(s.to_owned()))
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased form used for uniqueness and look-ups.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the `@`, lower-cased (used by the password policy).
    pub fn local_part(&self) -> String {
        self.0
            .rsplit_once('@')
            .map(|(l, _)| l.to_lowercase())
            .unwrap_or_default()
    }
}

fn valid_local_part(local: &str) -> bool {
    const FORBIDDEN: &[char] = &['@', '<', '>', '(', ')', '[', ']', '\\', ',', ';', ':', '"'];
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !FORBIDDEN.contains(&c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| valid_domain_label(l))
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

fn valid_domain_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

/// A username: 3 to 32 characters of letters, digits, `_`, `.` and `-`, starting with a
/// letter or digit. Unique case-insensitively.
///
/// ```
/// use authgate_core::domain::Username;
/// assert_eq!(Username::parse("Shahroz769").unwrap().normalized(), "shahroz769");
/// assert!(Username::parse("a b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses and trims a username, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required");
        }
        let n = s.chars().count();
        if !(3..=32).contains(&n) {
            return Err("must be 3 to 32 characters");
        }
        let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let all_ok = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !first_ok || !all_ok {
            return Err("may contain only letters, digits, '_', '.' and '-', and must start with a letter or digit");
        }
        Ok(Username(s.to_owned()))
    }

    /// The username as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased form used for uniqueness and look-ups.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A person's name (full, first or last): 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parses and trims a name, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required");
        }
        if s.chars().count() > MAX_NAME_LEN {
            return Err("must be at most 100 characters");
        }
        if s.chars().any(|c| c.is_control() || is_invisible_format(c)) {
            return Err("must not contain control characters");
        }
        Ok(PersonName(s.to_owned()))
    }

    /// The name as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Unwraps into the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Bidirectional overrides and zero-width characters that can disguise text.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A role name: 1 to 32 of `a-z`, `0-9`, `_`, `-`. `user` is the default, `admin` exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Role(String);

impl Role {
    /// The default role of a new account.
    pub const USER: &'static str = "user";
    /// The administrator role.
    pub const ADMIN: &'static str = "admin";

    /// Parses a role name, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        let ok = (1..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if ok {
            Ok(Role(s.to_owned()))
        } else {
            Err("must be 1 to 32 characters of a-z, 0-9, '_' or '-'")
        }
    }

    /// The default `user` role.
    pub fn user() -> Self {
        Role(Self::USER.to_owned())
    }

    /// The role's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user as the API shows it (no secrets). Its JSON shape is the HTTP layer's `UserDto`.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// Email as given at registration (trimmed), if the account has one.
    pub email: Option<String>,
    /// Username, if the account has one.
    pub username: Option<String>,
    /// Full display name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Role name (`user` by default).
    pub role: String,
    /// Whether the email address has been verified.
    pub email_verified: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the user last logged in (or registered).
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A stored user: the public view plus what only the core may see.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The public view.
    pub user: User,
    /// PHC string (argon2id) or a bcrypt hash imported from another system.
    pub password_hash: String,
    /// When an administrator disabled the account, if they did.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// What a backend needs to insert a user. Normalized forms are precomputed here so every
/// backend enforces the same case-insensitive uniqueness.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The user as it will be shown.
    pub user: User,
    /// Lower-cased email for the unique index.
    pub email_normalized: Option<String>,
    /// Lower-cased username for the unique index.
    pub username_normalized: Option<String>,
    /// The password hash (PHC string).
    pub password_hash: String,
}

/// A session (one per device) as listed to its owner.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Session id (the `sid` claim of its access tokens).
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// When the session began (login or registration).
    pub created_at: DateTime<Utc>,
    /// When the session was last refreshed.
    pub last_used_at: DateTime<Utc>,
    /// When the session ends unless refreshed.
    pub expires_at: DateTime<Utc>,
    /// The device's User-Agent at login, truncated.
    pub user_agent: Option<String>,
    /// The client IP at login.
    pub ip: Option<String>,
}

/// Where a request came from; recorded on sessions and audit events.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Client IP address as text.
    pub ip: Option<String>,
    /// User-Agent header, truncated to 256 characters.
    pub user_agent: Option<String>,
    /// Request id, for correlating logs and audit events.
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_compared_lower_cased() {
        let e = Email::parse(" Bob.Smith+tag@Mail.Example.org\t").unwrap();
        assert_eq!(e.as_str(), "Bob.Smith+tag@Mail.Example.org");
        assert_eq!(e.normalized(), "bob.smith+tag@mail.example.org");
        assert_eq!(e.local_part(), "bob.smith+tag");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            ".a@b.com",
            "a@-b.com",
            "a@b.c",
            "a\u{0}@b.com",
            "a@b.123",
            "<a>@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn internationalized_emails_are_accepted() {
        assert!(Email::parse("jürgen@bücher.de").is_ok());
        assert!(Email::parse("用户@例子.广告").is_ok());
    }

    #[test]
    fn names_refuse_control_and_bidi_characters() {
        assert!(PersonName::parse("Ada\u{202E}ecalovl").is_err());
        assert!(PersonName::parse("Ada\nLovelace").is_err());
        assert_eq!(
            PersonName::parse("  Zoë O'Brien ").unwrap().as_str(),
            "Zoë O'Brien"
        );
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
    }

    proptest! {
        #[test]
        fn parsed_emails_have_one_at_and_no_whitespace(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(e.as_str().contains('@'));
                prop_assert!(!e.as_str().chars().any(char::is_whitespace));
                prop_assert!(e.as_str().chars().count() <= MAX_EMAIL_LEN);
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
            }
        }

        #[test]
        fn simple_addresses_always_parse(local in "[a-z0-9]{1,20}", host in "[a-z0-9]{1,20}", tld in "[a-z]{2,6}") {
            let raw = format!("{local}@{host}.{tld}");
            let e = Email::parse(&raw).unwrap();
            prop_assert_eq!(e.normalized(), raw);
        }

        #[test]
        fn usernames_round_trip_case_insensitively(u in "[A-Za-z0-9][A-Za-z0-9_.-]{2,31}") {
            let parsed = Username::parse(&u).unwrap();
            prop_assert_eq!(parsed.normalized(), u.to_lowercase());
        }
    }
}
