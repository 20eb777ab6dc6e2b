//! The effective configuration as one log-safe line: secrets never appear.

use std::time::Duration;

use authgate_core::policy::PolicyMode;
use authgate_http::RefreshDelivery;

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

/// `key=value` pairs, space-separated, in the documented order.
pub(super) fn summary(c: &Config) -> String {
    let pairs: Vec<(&str, String)> = vec![
        ("bind", c.bind.to_string()),
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
        ("smtp_url", opt(c.smtp_url.as_ref().map(|u| u.redacted()))),
        ("mail_from", opt(c.mail_from.as_deref())),
        ("access_token_ttl", dur(c.access_token_ttl)),
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
        ("allowed_origins", list(&c.http_config().allowed_origins)),
        ("trusted_proxies", list(&c.trusted_proxies)),
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
            "log_format",
            match c.log_format {
                LogFormat::Pretty => "pretty".into(),
                LogFormat::Json => "json".into(),
            },
        ),
        ("log", c.log_filter.clone()),
    ];
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
