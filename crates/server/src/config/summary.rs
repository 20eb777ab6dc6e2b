//! The effective configuration as one log-safe line: secrets never appear.

use authgate_core::limits::{Action, Rate};
use std::time::Duration;

use authgate_core::policy::PolicyMode;
use authgate_http::{CookieSameSite, RefreshDelivery};

use super::{Config, LogFormat, SqliteSynchronous};

/// What a secret is shown as.
pub(crate) const REDACTED: &str = "<redacted>";

fn dur(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn list<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
    }
}

fn opt(value: Option<&str>) -> String {
    value.map_or_else(|| "(none)".to_owned(), str::to_owned)
}

fn rate(c: &Config, action: Action) -> String {
    c.limits
        .per_ip
        .get(&action)
        .map_or_else(|| "(default)".into(), |r| show_rate(*r))
}

fn show_rate(r: Rate) -> String {
    format!("{}/{}", r.max, humantime::format_duration(r.per))
}

/// `key=value` pairs, space-separated, in the documented order.
pub(super) fn summary(c: &Config) -> String {
    let pairs: Vec<(&'static str, String)> = vec![
        ("bind", c.bind.to_string()),
        (
            "metrics_bind",
            c.metrics_bind
                .map_or_else(|| "none (on the API port)".into(), |a| a.to_string()),
        ),
        ("public_url", c.public_url()),
        ("database_url", c.database_url.url().redacted().to_owned()),
        (
            "database_max_connections",
            c.database_max_connections.to_string(),
        ),
        (
            "sqlite_synchronous",
            match c.sqlite_synchronous {
                SqliteSynchronous::Normal => "normal".into(),
                SqliteSynchronous::Full => "full".into(),
            },
        ),
        (
            "admin_socket",
            c.admin_socket_path()
                .map_or_else(|| "off".to_owned(), |p| p.display().to_string()),
        ),
        ("smtp_url", opt(c.smtp_url.as_ref().map(|u| u.redacted()))),
        ("mail_from", opt(c.mail_from.as_deref())),
        ("smtp_username", opt(c.smtp_username.as_deref())),
        (
            "smtp_password",
            opt(c.smtp_password.as_ref().map(|_| REDACTED)),
        ),
        (
            "smtp_ca_file",
            c.smtp_ca_file
                .as_ref()
                .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string()),
        ),
        ("mail_outbox", c.mail_outbox.display().to_string()),
        (
            "templates_dir",
            opt(c
                .templates_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .as_deref()),
        ),
        ("access_token_ttl", dur(c.access_token_ttl)),
        ("token_clock_skew", dur(c.token_clock_skew)),
        ("refresh_token_ttl", dur(c.refresh_token_ttl)),
        ("refresh_grace", dur(c.refresh_grace)),
        ("jwt_secret", opt(c.jwt_secret.as_ref().map(|_| REDACTED))),
        (
            "signing",
            if c.jwt_secret.is_some() {
                "HS256".into()
            } else {
                "EdDSA".into()
            },
        ),
        ("jwt_audience", c.jwt_audience.clone()),
        (
            "refresh_token_delivery",
            match c.refresh_token_delivery {
                RefreshDelivery::Body => "body".into(),
                RefreshDelivery::Cookie => "cookie".into(),
                RefreshDelivery::Both => "both".into(),
            },
        ),
        ("require_email", c.require_email.to_string()),
        (
            "require_verified_email",
            c.require_verified_email.to_string(),
        ),
        ("self_assignable_roles", list(&c.self_assignable_roles)),
        ("roles", list(&c.roles)),
        ("allowed_origins", list(&c.http_config().allowed_origins)),
        ("trusted_proxies", list(&c.trusted_proxies)),
        (
            "cookie_samesite",
            match c.cookie_same_site {
                CookieSameSite::Lax => "lax".into(),
                CookieSameSite::Strict => "strict".into(),
                CookieSameSite::None => "none".into(),
            },
        ),
        ("cookie_domain", opt(c.cookie_domain.as_deref())),
        (
            "introspection_secrets",
            match c.introspection_secrets.len() {
                0 => "(none)".to_owned(),
                n => format!("{n}x{REDACTED}"),
            },
        ),
        ("access_cookie", opt(c.access_cookie.as_deref())),
        ("login_url", opt(c.login_url.as_deref())),
        (
            "password_policy",
            match c.password_policy {
                PolicyMode::Classic => "classic".into(),
                PolicyMode::Nist => "nist".into(),
            },
        ),
        ("password_min_length", c.password_min_length.to_string()),
        ("hash_memory_kib", c.hash.memory_kib.to_string()),
        ("hash_iterations", c.hash.iterations.to_string()),
        ("hash_parallelism", c.hash.parallelism.to_string()),
        ("hash_max_queue", c.hash_max_queue.to_string()),
        ("verification_token_ttl", dur(c.verification_token_ttl)),
        ("reset_token_ttl", dur(c.reset_token_ttl)),
        (
            "cache_ttl",
            match c.cache_ttl {
                Some(d) => dur(d),
                None => format!("auto ({})", dur(c.effective_cache_ttl())),
            },
        ),
        ("rate_limit_enabled", c.limits.enabled.to_string()),
        ("rate_limit_login", rate(c, Action::Login)),
        ("rate_limit_register", rate(c, Action::Register)),
        ("rate_limit_refresh", rate(c, Action::Refresh)),
        (
            "rate_limit_forgot_password",
            rate(c, Action::ForgotPassword),
        ),
        ("rate_limit_reset_password", rate(c, Action::ResetPassword)),
        (
            "rate_limit_resend_verification",
            rate(c, Action::ResendVerification),
        ),
        ("rate_limit_verify_email", rate(c, Action::VerifyEmail)),
        (
            "rate_limit_forgot_per_email",
            show_rate(c.limits.forgot_per_email),
        ),
        (
            "rate_limit_resend_per_account",
            show_rate(c.limits.resend_per_account),
        ),
        ("login_free_attempts", c.limits.free_attempts.to_string()),
        ("login_max_failures", c.limits.max_failures.to_string()),
        ("login_block", dur(c.limits.block_for)),
        ("audit_retention", dur(c.audit_retention)),
        (
            "log_format",
            match c.log_format {
                LogFormat::Pretty => "pretty".into(),
                LogFormat::Json => "json".into(),
            },
        ),
        ("log", c.log_filter.clone()),
    ];
    pairs
        .into_iter()
        .chain(c.pages.summary())
        .chain(c.net.summary())
        .chain(c.scale.summary(c.database_url.kind()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
