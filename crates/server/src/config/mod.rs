//! The binary's configuration: one typed [`Config`] built from defaults, then an optional
//! TOML file, then `AUTHGATE_*` environment variables (the environment wins), validated once
//! at start-up with messages that name the variable.
//!
//! ```
//! use std::collections::HashMap;
//! use authgate_server::Config;
//! let env = HashMap::from([("AUTHGATE_ACCESS_TOKEN_TTL".to_string(), "1h".to_string())]);
//! let config = Config::from_sources(Some(r#"bind = "0.0.0.0:9000""#), &env).unwrap();
//! assert_eq!(config.bind.port(), 9000);
//! assert_eq!(config.access_token_ttl.as_secs(), 3600);
//! ```

mod build;
mod net;
mod pages;
mod scale;
pub mod settings;
mod sources;
mod summary;
mod urls;
mod values;
mod web_values;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use authgate_core::hashing::HashParams;
use authgate_core::policy::PolicyMode;
use authgate_http::RefreshDelivery;
use secrecy::SecretString;

pub use net::{NetSettings, TlsFiles};
pub use pages::PagesSettings;
pub use scale::{ScaleSettings, SharedLimitsMode};
pub use urls::{DatabaseKind, DatabaseUrl, SecretUrl};

/// How SQLite syncs commits to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// Survives a crash of the process (the default).
    Normal,
    /// Also survives power loss, at an fsync per commit.
    Full,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Why the configuration was refused: every problem found, each naming its variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// One sentence per problem, e.g. `AUTHGATE_ACCESS_TOKEN_TTL: "abc" is not a duration ...`.
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// The validated settings of an authgate instance. See [`settings::SETTINGS`] for the
/// variables, their defaults and meaning. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`AUTHGATE_BIND`).
    pub bind: SocketAddr,
    /// Where `GET /metrics` is served instead of the API port (`AUTHGATE_METRICS_BIND`).
    pub metrics_bind: Option<SocketAddr>,
    /// Explicit public base URL without trailing slash (`AUTHGATE_PUBLIC_URL`); `None` means
    /// `http://{bind}`, see [`Config::public_url`].
    pub public_url: Option<String>,
    /// The database (`AUTHGATE_DATABASE_URL`).
    pub database_url: DatabaseUrl,
    /// Pool size (`AUTHGATE_DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// SQLite durability (`AUTHGATE_SQLITE_SYNCHRONOUS`).
    pub sqlite_synchronous: SqliteSynchronous,
    /// The admin socket (`AUTHGATE_ADMIN_SOCKET`): `None` is the default place, see
    /// [`Config::admin_socket_path`]; `Some(None)` is `off`.
    pub admin_socket: Option<Option<std::path::PathBuf>>,
    /// Outgoing mail server (`AUTHGATE_SMTP_URL`); `None`: mails go to a local outbox.
    pub smtp_url: Option<SecretUrl>,
    /// Sender of mails (`AUTHGATE_MAIL_FROM`).
    pub mail_from: Option<String>,
    /// SMTP user name, overriding one in the URL.
    pub smtp_username: Option<String>,
    /// SMTP password, overriding one in the URL.
    pub smtp_password: Option<secrecy::SecretString>,
    /// PEM file of extra CA certificates trusted for the SMTP server (`AUTHGATE_SMTP_CA_FILE`).
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// Folder of the `.eml` outbox used when no SMTP URL is set.
    pub mail_outbox: std::path::PathBuf,
    /// Folder whose files override the built-in mail templates (and, in its `pages/`
    /// subfolder, the pages' templates).
    pub templates_dir: Option<std::path::PathBuf>,
    /// The hosted pages and where mail links lead (`AUTHGATE_PAGES`, `AUTHGATE_APP_URL`,
    /// `AUTHGATE_VERIFY_URL`, `AUTHGATE_RESET_URL`, `AUTHGATE_BRAND_*`).
    pub pages: PagesSettings,
    /// The listener: header timeout, connection cap, HTTPS (`AUTHGATE_HEADER_READ_TIMEOUT`,
    /// `AUTHGATE_MAX_CONNECTIONS`, `AUTHGATE_TLS_*`, `AUTHGATE_HTTP_REDIRECT_ADDR`).
    pub net: NetSettings,
    /// Several instances on one database (`AUTHGATE_SHARED_LIMITS`).
    pub scale: ScaleSettings,
    /// Life of an access token (`AUTHGATE_ACCESS_TOKEN_TTL`).
    pub access_token_ttl: Duration,
    /// Clock skew tolerated on access tokens' `exp` and `nbf` (`AUTHGATE_TOKEN_CLOCK_SKEW`).
    pub token_clock_skew: Duration,
    /// Life of a refresh token (`AUTHGATE_REFRESH_TOKEN_TTL`).
    pub refresh_token_ttl: Duration,
    /// Grace window for concurrent refreshes (`AUTHGATE_REFRESH_GRACE`; may be zero).
    pub refresh_grace: Duration,
    /// HS256 secret (`AUTHGATE_JWT_SECRET`); `None`: EdDSA keys from the store.
    pub jwt_secret: Option<SecretString>,
    /// `aud` claim (`AUTHGATE_JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// Where refresh tokens go (`AUTHGATE_REFRESH_TOKEN_DELIVERY`).
    pub refresh_token_delivery: RefreshDelivery,
    /// Accounts need an email (`AUTHGATE_REQUIRE_EMAIL`).
    pub require_email: bool,
    /// Login needs a verified email (`AUTHGATE_REQUIRE_VERIFIED_EMAIL`).
    pub require_verified_email: bool,
    /// Roles a client may pick at sign-up (`AUTHGATE_SELF_ASSIGNABLE_ROLES`).
    pub self_assignable_roles: Vec<String>,
    /// Roles an administrator may give (`AUTHGATE_ROLES`).
    pub roles: Vec<String>,
    /// Extra origins allowed to send cookie-carried requests (`AUTHGATE_ALLOWED_ORIGINS`);
    /// the public URL's origin is added by [`Config::http_config`].
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is trusted (`AUTHGATE_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpAddr>,
    /// `SameSite` of the cookies (`AUTHGATE_COOKIE_SAMESITE`).
    pub cookie_same_site: authgate_http::CookieSameSite,
    /// `Domain` of the cookies (`AUTHGATE_COOKIE_DOMAIN`); `None`: host-only.
    pub cookie_domain: Option<String>,
    /// Shared secrets of introspection callers (`AUTHGATE_INTROSPECTION_SECRETS`); empty:
    /// introspection is off.
    pub introspection_secrets: Vec<SecretString>,
    /// Name of the cookie forward-auth reads an access token from (`AUTHGATE_ACCESS_COOKIE`).
    pub access_cookie: Option<String>,
    /// Where forward-auth sends a browser to log in (`AUTHGATE_LOGIN_URL`).
    pub login_url: Option<String>,
    /// Password rules (`AUTHGATE_PASSWORD_POLICY`).
    pub password_policy: PolicyMode,
    /// Fewest password characters (`AUTHGATE_PASSWORD_MIN_LENGTH`).
    pub password_min_length: usize,
    /// argon2id cost (`AUTHGATE_HASH_MEMORY_KIB`, `_ITERATIONS`, `_PARALLELISM`).
    pub hash: HashParams,
    /// Hashes that may wait for a slot (`AUTHGATE_HASH_MAX_QUEUE`).
    pub hash_max_queue: usize,
    /// Life of a verification link (`AUTHGATE_VERIFICATION_TOKEN_TTL`).
    pub verification_token_ttl: Duration,
    /// Life of a reset link (`AUTHGATE_RESET_TOKEN_TTL`).
    pub reset_token_ttl: Duration,
    /// How long a live session or a user row is trusted without asking the store
    /// (`AUTHGATE_CACHE_TTL`); `None` is `auto`, see
    /// [`Config::effective_cache_ttl`].
    pub cache_ttl: Option<Duration>,
    /// Log line format (`AUTHGATE_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Log filter directives (`AUTHGATE_LOG`).
    pub log_filter: String,
    /// How long audit events are kept.
    pub audit_retention: std::time::Duration,
    /// Rate limits and login blocks.
    pub limits: authgate_core::limits::LimitsConfig,
    /// Things worth a warning that did not stop start-up (unknown variables, odd choices).
    warnings: Vec<String>,
}

impl Default for Config {
    /// Every setting at its default.
    fn default() -> Self {
        Config::from_sources(None, &HashMap::new()).expect("the defaults are valid")
    }
}

impl Config {
    /// Reads the TOML file at `path` (if any) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match path {
            Some(p) => Some(std::fs::read_to_string(p).map_err(|e| ConfigError {
                problems: vec![format!("cannot read config file {}: {e}", p.display())],
            })?),
            None => None,
        };
        let env: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with(settings::ENV_PREFIX))
            .collect();
        Config::from_sources(file.as_deref(), &env).map_err(|mut e| {
            if let Some(p) = path {
                for problem in &mut e.problems {
                    *problem =
                        problem.replace("(config file)", &format!("(config file {})", p.display()));
                }
            }
            e
        })
    }

    /// Builds the configuration from the text of a TOML file (if any) and an environment map
    /// (only `AUTHGATE_*` entries are looked at). Returns every problem at once.
    pub fn from_sources(
        file: Option<&str>,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let sources =
            sources::Sources::collect(file, env).map_err(|problems| ConfigError { problems })?;
        build::build(&sources)
    }

    /// Warnings gathered while loading (unknown variables, risky choices); log them.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The public base URL without trailing slash: the configured one, else `http://{bind}`
    /// (`https://{bind}` when HTTPS is built in).
    pub fn public_url(&self) -> String {
        let scheme = if self.net.tls.is_some() {
            "https"
        } else {
            "http"
        };
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", self.bind))
    }

    /// Whether the public URL is https (cookies are then marked `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    /// The caches' TTL in force. `auto` trusts a live session or a user row for 60 s on
    /// SQLite, where one process owns the file and every change passes through this node's
    /// caches, and on PostgreSQL, where every instance publishes its changes (`NOTIFY`) and
    /// drops what the others publish; it turns the caches off on MongoDB, where another
    /// instance may revoke a session or change a user behind this node's back.
    pub fn effective_cache_ttl(&self) -> Duration {
        match (self.cache_ttl, self.database_url.kind()) {
            (Some(ttl), _) => ttl,
            (None, DatabaseKind::Sqlite | DatabaseKind::Postgres) => Duration::from_secs(60),
            (None, DatabaseKind::MongoDb) => Duration::ZERO,
        }
    }

    /// Where the admin socket is (`None`: turned off): `AUTHGATE_ADMIN_SOCKET`, else beside
    /// the SQLite file (`FILE.admin.sock`), else `./authgate-admin.sock` (PostgreSQL,
    /// MongoDB, an in-memory SQLite database). The server listens there and the CLI's `user`
    /// and `audit` commands connect there, both from the same configuration.
    pub fn admin_socket_path(&self) -> Option<std::path::PathBuf> {
        match &self.admin_socket {
            Some(explicit) => explicit.clone(),
            None => Some(match self.database_url.sqlite_file() {
                Some(file) => {
                    let mut name = file.into_os_string();
                    name.push(".admin.sock");
                    name.into()
                }
                None => "authgate-admin.sock".into(),
            }),
        }
    }

    /// The settings of the authentication rules.
    pub fn auth_config(&self) -> authgate_core::AuthConfig {
        build::auth_config(self)
    }

    /// The settings of the HTTP layer; the public URL's origin is always allowed.
    pub fn http_config(&self) -> authgate_http::HttpConfig {
        build::http_config(self)
    }

    /// A one-line `key=value` summary of every setting, secrets redacted; safe to log.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }
}
