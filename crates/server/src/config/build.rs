//! Turning raw values into a [`Config`], and a `Config` into the layers' settings.

use std::collections::HashMap;
use std::time::Duration;

use authgate_core::hashing::HashParams;
use authgate_core::limits::{Action, LimitsConfig, Rate};
use authgate_core::policy::PasswordPolicy;
use authgate_core::AuthConfig;
use authgate_http::caller_secrets::CallerSecrets;
use authgate_http::{CookieSameSite, HttpConfig};
use secrecy::ExposeSecret;

use super::settings::{env_name, setting};
use super::sources::Sources;
use super::urls::{smtp_url, DatabaseUrl};
use super::values as v;
use super::web_values as web;
use super::{Config, ConfigError};

/// The longest password the core accepts; the minimum may not exceed it.
const MAX_PASSWORD_CHARS: usize = 128;
/// Largest body the API accepts (the contract's 64 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads values one key at a time, collecting every problem instead of stopping at the first.
pub(super) struct Reader<'a> {
    sources: &'a Sources,
    problems: Vec<String>,
}

impl Reader<'_> {
    /// The parsed value of `key`, or `None` when unset or invalid (the problem is recorded).
    pub(super) fn opt<T>(
        &mut self,
        key: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let known = setting(key).expect("every key read is in SETTINGS");
        let raw = self.sources.get(key)?;
        let value = if known.secret {
            raw.value.as_str()
        } else {
            raw.value.trim()
        };
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(problem) => {
                self.problems.push(format!("{}: {problem}", raw.label(key)));
                None
            }
        }
    }

    /// The parsed value of `key`, or else its default as [`SETTINGS`](super::settings::SETTINGS)
    /// writes it, parsed the same way: the table's text is the one place a default is written
    /// (when the value is invalid the problem is recorded and the default stands in).
    pub(super) fn get<T>(
        &mut self,
        key: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let text = setting(key).expect("every key read is in SETTINGS").default;
        match self.opt(key, &parse) {
            Some(value) => value,
            None => parse(text).unwrap_or_else(|e| panic!("the default of {key} ({text:?}): {e}")),
        }
    }

    /// Like [`Reader::get`], for a setting whose default the table describes in words
    /// (`(none)`, `(public URL's origin)`): the default is `default`.
    pub(super) fn get_or<T>(
        &mut self,
        key: &'static str,
        default: T,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        self.opt(key, parse).unwrap_or(default)
    }

    /// Whether `key` was given at all (even with a value that was refused).
    pub(super) fn is_set(&self, key: &str) -> bool {
        self.sources.get(key).is_some()
    }

    /// Records a problem found by a check across settings.
    pub(super) fn problem(&mut self, key: &str, message: String) {
        let label = self
            .sources
            .get(key)
            .map_or_else(|| env_name(key), |raw| raw.label(key));
        self.problems.push(format!("{label}: {message}"));
    }
}

/// Builds and cross-checks the configuration.
pub(super) fn build(sources: &Sources) -> Result<Config, ConfigError> {
    let mut r = Reader {
        sources,
        problems: Vec::new(),
    };
    let config = Config {
        bind: r.get("bind", v::socket_addr),
        metrics_bind: r.opt("metrics_bind", v::socket_addr),
        public_url: r.opt("public_url", v::public_url),
        database_url: r.get("database_url", DatabaseUrl::parse),
        database_max_connections: r.get("database_max_connections", |s| v::integer(s, 1, 1000)),
        sqlite_synchronous: r.get("sqlite_synchronous", v::sqlite_synchronous),
        admin_socket: r.opt("admin_socket", admin_socket),
        smtp_url: r.opt("smtp_url", smtp_url),
        mail_from: r.opt("mail_from", v::mailbox),
        smtp_username: r.opt("smtp_username", |s| plain_text(s).map(str::to_owned)),
        smtp_password: r.opt("smtp_password", |s| {
            plain_text(s).map(|s| secrecy::SecretString::from(s.to_owned()))
        }),
        smtp_ca_file: r.opt("smtp_ca_file", |s| plain_text(s).map(Into::into)),
        mail_outbox: r.get("mail_outbox", |s| plain_text(s).map(Into::into)),
        templates_dir: r.opt("templates_dir", |s| plain_text(s).map(Into::into)),
        pages: super::pages::read(&mut r),
        net: super::net::read(&mut r),
        scale: super::scale::read(&mut r),
        access_token_ttl: r.get("access_token_ttl", v::duration),
        token_clock_skew: r.get("token_clock_skew", v::clock_skew),
        refresh_token_ttl: r.get("refresh_token_ttl", v::duration),
        refresh_grace: r.get("refresh_grace", v::duration_or_zero),
        jwt_secret: r.opt("jwt_secret", v::jwt_secret),
        jwt_audience: r.get("jwt_audience", v::audience),
        refresh_token_delivery: r.get("refresh_token_delivery", v::refresh_delivery),
        require_email: r.get("require_email", v::boolean),
        require_verified_email: r.get("require_verified_email", v::boolean),
        self_assignable_roles: r.get_or("self_assignable_roles", Vec::new(), v::roles),
        roles: r.get("roles", v::roles),
        allowed_origins: r.get_or("allowed_origins", Vec::new(), v::origins),
        trusted_proxies: r.get_or("trusted_proxies", Vec::new(), v::ip_list),
        cookie_same_site: r.get("cookie_samesite", web::same_site),
        cookie_domain: r.opt("cookie_domain", web::cookie_domain),
        introspection_secrets: r.get_or(
            "introspection_secrets",
            Vec::new(),
            web::introspection_secrets,
        ),
        access_cookie: r.opt("access_cookie", web::cookie_name),
        login_url: r.opt("login_url", web::login_url),
        password_policy: r.get("password_policy", v::policy_mode),
        password_min_length: r.get("password_min_length", |s| {
            v::integer(s, 1, MAX_PASSWORD_CHARS)
        }),
        hash: HashParams {
            memory_kib: r.get("hash_memory_kib", |s| v::integer(s, 8, 4 * 1024 * 1024)),
            iterations: r.get("hash_iterations", |s| v::integer(s, 1, 100)),
            parallelism: r.get("hash_parallelism", |s| v::integer(s, 1, 64)),
        },
        hash_max_queue: r.get("hash_max_queue", |s| v::integer(s, 1, 1_000_000)),
        verification_token_ttl: r.get("verification_token_ttl", v::duration),
        reset_token_ttl: r.get("reset_token_ttl", v::duration),
        cache_ttl: r.get("cache_ttl", |s| match s {
            "auto" => Ok(None),
            _ => v::duration_or_zero(s).map(Some),
        }),
        log_format: r.get("log_format", v::log_format),
        log_filter: r.get("log", v::log_filter),
        limits: limits(&mut r),
        audit_retention: r.get("audit_retention", v::duration),
        warnings: sources.warnings.clone(),
    };
    cross_check(config, r)
}

/// Free text (names, paths, credentials): anything but control characters. The message
/// never repeats the value, which may be a secret.
/// `AUTHGATE_ADMIN_SOCKET`: `off`, or the socket's path.
fn admin_socket(s: &str) -> Result<Option<std::path::PathBuf>, String> {
    let s = plain_text(s)?;
    match s {
        "" => Err("must be a path or off".into()),
        "off" => Ok(None),
        path => Ok(Some(path.into())),
    }
}

fn plain_text(s: &str) -> Result<&str, String> {
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s)
}

/// Rate limits: per-IP rates per action, per-address caps, login blocks.
fn limits(r: &mut Reader<'_>) -> LimitsConfig {
    let rate = |s: &str| Rate::parse(s);
    let mut per_ip = HashMap::new();
    let keys = [
        ("rate_limit_login", Action::Login),
        ("rate_limit_register", Action::Register),
        ("rate_limit_refresh", Action::Refresh),
        ("rate_limit_forgot_password", Action::ForgotPassword),
        ("rate_limit_reset_password", Action::ResetPassword),
        ("rate_limit_resend_verification", Action::ResendVerification),
        ("rate_limit_verify_email", Action::VerifyEmail),
    ];
    for (key, action) in keys {
        per_ip.insert(action, r.get(key, rate));
    }
    LimitsConfig {
        enabled: r.get("rate_limit_enabled", v::boolean),
        per_ip,
        forgot_per_email: r.get("rate_limit_forgot_per_email", rate),
        resend_per_account: r.get("rate_limit_resend_per_account", rate),
        free_attempts: r.get("login_free_attempts", |s| v::integer(s, 1, 100)),
        max_failures: r.get("login_max_failures", |s| v::integer(s, 1, 100)),
        block_for: r.get("login_block", v::duration),
    }
}

/// Checks between settings; adds warnings for risky but legal choices.
fn cross_check(mut config: Config, mut r: Reader<'_>) -> Result<Config, ConfigError> {
    if config.hash.memory_kib < 8 * config.hash.parallelism {
        let message = format!(
            "must be at least 8 x AUTHGATE_HASH_PARALLELISM = {}",
            8 * config.hash.parallelism
        );
        r.problem("hash_memory_kib", message);
    }
    web_cross_check(&config, &mut r);
    config.scale.check(config.database_url.kind(), &mut r);
    if config.net.http_redirect_addr.is_some() && !config.is_https() {
        r.problem(
            "http_redirect_addr",
            format!("redirects to https, but the public URL is {} (set AUTHGATE_TLS_CERT_FILE and AUTHGATE_TLS_KEY_FILE, or an https AUTHGATE_PUBLIC_URL)", config.public_url()),
        );
    }
    if !r.problems.is_empty() {
        return Err(ConfigError {
            problems: r.problems,
        });
    }
    let tls_without_https = config.net.tls.is_some() && !config.is_https();
    let w = &mut config.warnings;
    if config.public_url.is_none() && config.bind.ip().is_unspecified() {
        w.push(format!(
            "AUTHGATE_PUBLIC_URL is not set: tokens and links will name http://{}; set it to the address clients use",
            config.bind
        ));
    }
    if let Some(url) = config.public_url.as_deref() {
        let local = ["http://localhost", "http://127.", "http://[::1]"]
            .iter()
            .any(|p| url.starts_with(p));
        if url.starts_with("http://") && !local {
            w.push("AUTHGATE_PUBLIC_URL is not https: the refresh-token cookie is sent without `Secure`".into());
        }
    }
    w.extend(config.pages.warnings());
    if tls_without_https {
        w.push("HTTPS is on (AUTHGATE_TLS_CERT_FILE) but AUTHGATE_PUBLIC_URL is not https: cookies are sent without `Secure` and links in mails are http".into());
    }
    if config.self_assignable_roles.iter().any(|r| r == "admin") {
        w.push("AUTHGATE_SELF_ASSIGNABLE_ROLES contains `admin`: anyone can sign up as an administrator".into());
    }
    if config.access_token_ttl > config.refresh_token_ttl {
        w.push("AUTHGATE_ACCESS_TOKEN_TTL is longer than AUTHGATE_REFRESH_TOKEN_TTL".into());
    }
    Ok(config)
}

/// Cookie settings that browsers would silently refuse with this public URL.
fn web_cross_check(config: &Config, r: &mut Reader<'_>) {
    let public = config.public_url();
    if config.cookie_same_site == CookieSameSite::None && !config.is_https() {
        r.problem(
            "cookie_samesite",
            format!("none needs an https AUTHGATE_PUBLIC_URL (browsers drop SameSite=None cookies that are not Secure); the public URL is {public}"),
        );
    }
    if let Some(domain) = &config.cookie_domain {
        let host = url::Url::parse(&public)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        if !web::domain_matches(&host, domain) {
            r.problem(
                "cookie_domain",
                format!("{domain:?} does not contain the public URL's host {host:?} (AUTHGATE_PUBLIC_URL), so browsers would refuse the cookies"),
            );
        }
    }
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).expect("durations are capped at ten years")
}

/// The core's settings.
pub(super) fn auth_config(c: &Config) -> AuthConfig {
    AuthConfig {
        public_url: c.public_url(),
        audience: c.jwt_audience.clone(),
        access_token_ttl: chrono(c.access_token_ttl),
        token_clock_skew: chrono(c.token_clock_skew),
        refresh_token_ttl: chrono(c.refresh_token_ttl),
        refresh_grace: chrono(c.refresh_grace),
        require_email: c.require_email,
        require_verified_email: c.require_verified_email,
        self_assignable_roles: c.self_assignable_roles.clone(),
        roles: c.roles.clone(),
        password_policy: PasswordPolicy {
            mode: c.password_policy,
            min_chars: c.password_min_length,
            max_chars: MAX_PASSWORD_CHARS,
        },
        verification_token_ttl: chrono(c.verification_token_ttl),
        reset_token_ttl: chrono(c.reset_token_ttl),
        cache_ttl: chrono(c.effective_cache_ttl()),
        mail_links: c.pages.mail_links(&c.public_url()),
    }
}

/// The HTTP layer's settings.
pub(super) fn http_config(c: &Config) -> HttpConfig {
    let mut allowed_origins = c.allowed_origins.clone();
    let public_origin = url::Url::parse(&c.public_url())
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default();
    if !allowed_origins.contains(&public_origin) {
        allowed_origins.insert(0, public_origin.clone());
    }
    let secrets: Vec<&str> = c
        .introspection_secrets
        .iter()
        .map(|s| s.expose_secret())
        .collect();
    HttpConfig {
        refresh_delivery: c.refresh_token_delivery,
        cookie_secure: c.is_https(),
        cookie_same_site: c.cookie_same_site,
        cookie_domain: c.cookie_domain.clone(),
        public_origin,
        allowed_origins,
        cors_origins: c.allowed_origins.clone(),
        introspection_secrets: CallerSecrets::new(&secrets),
        access_cookie: c.access_cookie.clone(),
        login_url: c.login_url.clone(),
        max_body_bytes: MAX_BODY_BYTES,
        trusted_proxies: c.trusted_proxies.clone(),
        metrics: None,
        pages: None,
    }
}
