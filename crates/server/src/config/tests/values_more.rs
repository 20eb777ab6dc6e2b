//! Each variable with good and bad values: numbers, choices, lists, text.

use super::values::{bad, good};
use super::*;

#[test]
fn numbers_must_be_whole_and_in_range() {
    good("AUTHGATE_DATABASE_MAX_CONNECTIONS", "20", |c| {
        c.database_max_connections == 20
    });
    good("AUTHGATE_PASSWORD_MIN_LENGTH", "12", |c| {
        c.password_min_length == 12
    });
    good("AUTHGATE_HASH_MEMORY_KIB", "65536", |c| {
        c.hash.memory_kib == 65536
    });
    good("AUTHGATE_HASH_ITERATIONS", "3", |c| c.hash.iterations == 3);
    good("AUTHGATE_HASH_PARALLELISM", "2", |c| {
        c.hash.parallelism == 2
    });
    good("AUTHGATE_HASH_MAX_QUEUE", "10", |c| c.hash_max_queue == 10);
    bad(
        "AUTHGATE_DATABASE_MAX_CONNECTIONS",
        "0",
        "\"0\" is out of range (1 to 1000)",
    );
    bad(
        "AUTHGATE_DATABASE_MAX_CONNECTIONS",
        "many",
        "is not a whole number",
    );
    bad("AUTHGATE_PASSWORD_MIN_LENGTH", "129", "out of range");
    bad(
        "AUTHGATE_PASSWORD_MIN_LENGTH",
        "-1",
        "is not a whole number",
    );
    bad("AUTHGATE_HASH_MEMORY_KIB", "4", "out of range");
    bad("AUTHGATE_HASH_ITERATIONS", "0", "out of range");
    bad("AUTHGATE_HASH_PARALLELISM", "1.5", "is not a whole number");
    bad("AUTHGATE_HASH_MAX_QUEUE", "0", "out of range");
}

#[test]
fn choices_are_case_insensitive_and_name_the_options() {
    good("AUTHGATE_SQLITE_SYNCHRONOUS", "FULL", |c| {
        c.sqlite_synchronous == SqliteSynchronous::Full
    });
    good("AUTHGATE_REFRESH_TOKEN_DELIVERY", "body", |c| {
        c.refresh_token_delivery == RefreshDelivery::Body
    });
    good("AUTHGATE_PASSWORD_POLICY", "NIST", |c| {
        c.password_policy == PolicyMode::Nist
    });
    good("AUTHGATE_LOG_FORMAT", "json", |c| {
        c.log_format == LogFormat::Json
    });
    bad(
        "AUTHGATE_SQLITE_SYNCHRONOUS",
        "off",
        "is not one of normal, full",
    );
    bad(
        "AUTHGATE_REFRESH_TOKEN_DELIVERY",
        "header",
        "is not one of body, cookie, both",
    );
    bad(
        "AUTHGATE_PASSWORD_POLICY",
        "strict",
        "is not one of classic, nist",
    );
    bad("AUTHGATE_LOG_FORMAT", "xml", "is not one of pretty, json");
}

#[test]
fn lists_are_comma_separated_and_each_item_checked() {
    good("AUTHGATE_SELF_ASSIGNABLE_ROLES", "editor, viewer", |c| {
        c.self_assignable_roles == ["editor", "viewer"]
    });
    good(
        "AUTHGATE_ALLOWED_ORIGINS",
        "https://a.example.com/, http://localhost:3000",
        |c| c.allowed_origins == ["https://a.example.com", "http://localhost:3000"],
    );
    good("AUTHGATE_TRUSTED_PROXIES", "10.0.0.1,fd00::1", |c| {
        c.trusted_proxies.len() == 2
    });
    bad(
        "AUTHGATE_SELF_ASSIGNABLE_ROLES",
        "editor,Super User",
        "role \"Super User\" must be 1 to 32 characters",
    );
    bad(
        "AUTHGATE_ALLOWED_ORIGINS",
        "https://a.example.com/path",
        "is not an origin",
    );
    bad("AUTHGATE_ALLOWED_ORIGINS", "*", "is not an origin");
    bad(
        "AUTHGATE_TRUSTED_PROXIES",
        "10.0.0.0/8",
        "\"10.0.0.0/8\" is not an IP address",
    );
}

#[test]
fn text_settings_are_checked() {
    good(
        "AUTHGATE_MAIL_FROM",
        "Authgate <no-reply@example.com>",
        |c| c.mail_from.as_deref() == Some("Authgate <no-reply@example.com>"),
    );
    good("AUTHGATE_MAIL_FROM", "no-reply@example.com", |c| {
        c.mail_from.is_some()
    });
    good("AUTHGATE_JWT_AUDIENCE", "api.example.com", |c| {
        c.jwt_audience == "api.example.com"
    });
    good("AUTHGATE_LOG", "info,authgate_core=debug", |c| {
        c.log_filter == "info,authgate_core=debug"
    });
    good("AUTHGATE_SMTP_URL", "smtp://localhost:1025", |c| {
        c.smtp_url
            .as_ref()
            .is_some_and(|u| u.redacted() == "smtp://localhost:1025")
    });
    bad("AUTHGATE_MAIL_FROM", "not-an-address", "is not a valid");
    bad(
        "AUTHGATE_MAIL_FROM",
        "Authgate <no-reply@example.com",
        "is not a mailbox",
    );
    bad("AUTHGATE_JWT_AUDIENCE", "my app", "must not contain spaces");
    bad("AUTHGATE_LOG", "info,=[", "is not a log filter");
    bad("AUTHGATE_SMTP_URL", "smtp.example.com", "is not a URL");
}
