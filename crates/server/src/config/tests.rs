//! Loading: defaults, each variable good and bad, precedence, redaction.

use std::collections::HashMap;
use std::time::Duration;

use authgate_core::policy::PolicyMode;
use authgate_http::RefreshDelivery;
use secrecy::ExposeSecret;

use super::settings::{env_name, SETTINGS};
use super::*;

mod derived;
mod net;
mod scale;
mod secrets;
mod values;
mod values_more;
mod web;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_sources(None, &env(pairs))
}

fn problems(pairs: &[(&str, &str)]) -> Vec<String> {
    load(pairs).expect_err("should be refused").problems
}

#[test]
fn the_defaults_match_the_contract() {
    let c = load(&[]).unwrap();
    assert_eq!(c.bind, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.public_url(), "http://127.0.0.1:8080");
    assert_eq!(c.database_url.kind(), DatabaseKind::Sqlite);
    assert_eq!(c.database_url.url().expose(), "sqlite://authgate.db");
    assert_eq!(c.database_max_connections, 8);
    assert_eq!(c.sqlite_synchronous, SqliteSynchronous::Normal);
    assert!(c.smtp_url.is_none() && c.mail_from.is_none() && c.jwt_secret.is_none());
    assert_eq!(c.mail_outbox, std::path::Path::new("./mail-outbox"));
    assert!(c.smtp_ca_file.is_none());
    assert_eq!(c.access_token_ttl, Duration::from_secs(15 * 60));
    assert_eq!(c.token_clock_skew, Duration::from_secs(5));
    assert_eq!(c.refresh_token_ttl, Duration::from_secs(30 * 86400));
    assert_eq!(c.refresh_grace, Duration::from_secs(10));
    assert_eq!(c.jwt_audience, "authgate");
    assert_eq!(c.refresh_token_delivery, RefreshDelivery::Both);
    assert!(c.require_email && !c.require_verified_email);
    assert!(
        c.self_assignable_roles.is_empty()
            && c.allowed_origins.is_empty()
            && c.trusted_proxies.is_empty()
    );
    assert_eq!(
        (c.password_policy, c.password_min_length),
        (PolicyMode::Classic, 8)
    );
    assert_eq!(
        (c.hash.memory_kib, c.hash.iterations, c.hash.parallelism),
        (19456, 2, 1)
    );
    assert_eq!(c.hash_max_queue, 1024);
    assert_eq!(c.verification_token_ttl, Duration::from_secs(86400));
    assert_eq!(c.reset_token_ttl, Duration::from_secs(3600));
    assert_eq!(
        (c.log_format, c.log_filter.as_str()),
        (LogFormat::Pretty, "info")
    );
    assert!(c.warnings().is_empty());
}

#[test]
fn the_settings_table_holds_the_same_defaults_as_the_core() {
    // The binary's defaults are parsed from SETTINGS' text; the core has its own for
    // embedders. They must not drift apart.
    let c = load(&[]).unwrap();
    assert_eq!(c.limits, authgate_core::limits::LimitsConfig::default());
    assert_eq!(c.hash, authgate_core::hashing::HashParams::default());
    assert_eq!(
        c.mail_outbox,
        std::path::Path::new(authgate_mail::DEFAULT_OUTBOX_DIR)
    );
    let core = authgate_core::AuthConfig::default();
    let auth = c.auth_config();
    assert_eq!(
        (
            auth.access_token_ttl,
            auth.refresh_token_ttl,
            auth.refresh_grace,
            auth.token_clock_skew
        ),
        (
            core.access_token_ttl,
            core.refresh_token_ttl,
            core.refresh_grace,
            core.token_clock_skew
        )
    );
    assert_eq!(
        (auth.verification_token_ttl, auth.reset_token_ttl),
        (core.verification_token_ttl, core.reset_token_ttl)
    );
    assert_eq!(auth.audience, core.audience);
}

#[test]
fn the_environment_overrides_the_file_which_overrides_the_defaults() {
    let file = r#"
        bind = "0.0.0.0:9000"
        access_token_ttl = "1h"
        require_email = false
        database_max_connections = 3
        self_assignable_roles = ["editor", "viewer"]
    "#;
    let c = Config::from_sources(Some(file), &env(&[("AUTHGATE_ACCESS_TOKEN_TTL", "2h")])).unwrap();
    assert_eq!(c.bind.port(), 9000);
    assert_eq!(
        c.access_token_ttl,
        Duration::from_secs(7200),
        "env wins over file"
    );
    assert!(!c.require_email, "file wins over default");
    assert_eq!(c.database_max_connections, 3);
    assert_eq!(c.self_assignable_roles, ["editor", "viewer"]);
    assert_eq!(c.reset_token_ttl, Duration::from_secs(3600), "default kept");
}

#[test]
fn a_bad_file_value_is_named_as_a_file_key() {
    let err =
        Config::from_sources(Some("access_token_ttl = \"abc\""), &HashMap::new()).unwrap_err();
    assert_eq!(
        err.problems,
        ["access_token_ttl (config file): \"abc\" is not a duration (examples: 15m, 2h, 7d)"]
    );
}

#[test]
fn unknown_file_keys_and_bad_toml_are_refused() {
    let err = Config::from_sources(Some("bnd = \"x\""), &HashMap::new()).unwrap_err();
    assert!(err.problems[0].contains("unknown key `bnd`"), "{err}");
    let err = Config::from_sources(Some("bind = "), &HashMap::new()).unwrap_err();
    assert!(err.problems[0].starts_with("config file:"), "{err}");
    let err = Config::from_sources(Some("[bind]\nx = 1"), &HashMap::new()).unwrap_err();
    assert!(err.problems[0].contains("must be a string"), "{err}");
}

#[test]
fn unknown_authgate_variables_are_warned_about_and_others_ignored() {
    let c = load(&[
        ("AUTHGATE_BNID", "x"),
        ("AUTHGATE_CONFIG", "a.toml"),
        ("PATH", "/bin"),
        ("authgate_bind", "x"),
    ])
    .unwrap();
    assert_eq!(
        c.warnings(),
        ["unknown environment variable AUTHGATE_BNID is ignored (a typo?)"]
    );
    assert_eq!(c.bind.port(), 8080);
}

#[test]
fn an_empty_value_counts_as_unset() {
    let c = load(&[
        ("AUTHGATE_SMTP_URL", ""),
        ("AUTHGATE_JWT_SECRET", ""),
        ("AUTHGATE_BIND", "  "),
    ])
    .unwrap();
    assert!(c.smtp_url.is_none() && c.jwt_secret.is_none());
    assert_eq!(c.bind.port(), 8080);
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(&[
        ("AUTHGATE_BIND", "nope"),
        ("AUTHGATE_LOG_FORMAT", "xml"),
        ("AUTHGATE_REQUIRE_EMAIL", "maybe"),
    ]);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(p.iter().any(|m| m.starts_with("AUTHGATE_BIND: \"nope\"")));
    assert!(p
        .iter()
        .any(|m| m == "AUTHGATE_LOG_FORMAT: \"xml\" is not one of pretty, json"));
    assert!(p
        .iter()
        .any(|m| m == "AUTHGATE_REQUIRE_EMAIL: \"maybe\" is not a boolean (use true or false)"));
}

#[test]
fn every_setting_can_be_set_from_the_environment() {
    for s in SETTINGS {
        let name = env_name(s.key);
        let c = load(&[(name.as_str(), "\u{1}definitely-not-valid")]);
        assert!(c.is_err(), "{name} accepted garbage");
        assert!(c.unwrap_err().problems[0].starts_with(&format!("{name}:")));
    }
}

#[test]
fn rate_limits_are_read_from_their_variables() {
    use authgate_core::limits::{Action, Rate};
    let c = load(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "100/min"),
        ("AUTHGATE_RATE_LIMIT_FORGOT_PER_EMAIL", "2/hour"),
        ("AUTHGATE_LOGIN_MAX_FAILURES", "10"),
        ("AUTHGATE_LOGIN_BLOCK", "1h"),
        ("AUTHGATE_RATE_LIMIT_ENABLED", "false"),
    ])
    .unwrap();
    assert_eq!(c.limits.per_ip[&Action::Login], Rate::per_minute(100));
    assert_eq!(c.limits.per_ip[&Action::Register], Rate::per_minute(20));
    assert_eq!(c.limits.forgot_per_email, Rate::per_hour(2));
    assert_eq!(c.limits.max_failures, 10);
    assert_eq!(c.limits.block_for, Duration::from_secs(3600));
    assert!(!c.limits.enabled);
}

#[test]
fn a_bad_rate_or_a_block_threshold_over_100_names_the_variable() {
    let p = problems(&[
        ("AUTHGATE_RATE_LIMIT_REFRESH", "lots"),
        ("AUTHGATE_LOGIN_MAX_FAILURES", "500"),
    ]);
    assert!(
        p.iter()
            .any(|m| m.starts_with("AUTHGATE_RATE_LIMIT_REFRESH")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.starts_with("AUTHGATE_LOGIN_MAX_FAILURES")),
        "{p:?}"
    );
}

#[test]
fn the_smtp_ca_file_is_read_from_its_variable_and_a_control_character_is_refused() {
    let c = load(&[("AUTHGATE_SMTP_CA_FILE", "/etc/authgate/relay-ca.pem")]).unwrap();
    assert_eq!(
        c.smtp_ca_file.as_deref(),
        Some(std::path::Path::new("/etc/authgate/relay-ca.pem"))
    );
    let p = problems(&[("AUTHGATE_SMTP_CA_FILE", "ca\u{7}.pem")]);
    assert!(p[0].starts_with("AUTHGATE_SMTP_CA_FILE: "), "{p:?}");
}
