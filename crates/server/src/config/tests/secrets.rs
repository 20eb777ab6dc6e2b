//! Secrets: length checks, redaction in errors, `Debug` and the summary.

use super::settings::SETTINGS;
use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef-extra";

#[test]
fn a_short_jwt_secret_is_refused_without_echoing_it() {
    let p = problems(&[("AUTHGATE_JWT_SECRET", "hunter2-but-longer")]);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("AUTHGATE_JWT_SECRET: is too short (18 bytes)"),
        "{p:?}"
    );
    assert!(!p[0].contains("hunter2"));
}

#[test]
fn a_long_enough_jwt_secret_is_kept_whole_and_never_printed() {
    let c = load(&[("AUTHGATE_JWT_SECRET", SECRET)]).unwrap();
    assert_eq!(c.jwt_secret.as_ref().unwrap().expose_secret(), SECRET);
    assert!(!format!("{c:?}").contains("0123456789abcdef"));
    assert!(!c.summary().contains("0123456789abcdef"));
    assert!(c.summary().contains("jwt_secret=<redacted> signing=HS256"));
    let exactly_32 = "x".repeat(32);
    assert!(load(&[("AUTHGATE_JWT_SECRET", &exactly_32)]).is_ok());
    assert!(load(&[("AUTHGATE_JWT_SECRET", &exactly_32[1..])]).is_err());
}

#[test]
fn passwords_in_urls_never_reach_the_summary_or_debug_output() {
    let c = load(&[
        (
            "AUTHGATE_SMTP_URL",
            "smtps://mailer:SmtpPa55@smtp.example.com:465",
        ),
        ("AUTHGATE_DATABASE_URL", "sqlite://authgate.db?mode=rwc"),
    ])
    .unwrap();
    let smtp = c.smtp_url.as_ref().unwrap();
    assert_eq!(
        smtp.expose(),
        "smtps://mailer:SmtpPa55@smtp.example.com:465"
    );
    assert_eq!(smtp.redacted(), "smtps://mailer:***@smtp.example.com:465");
    for shown in [c.summary(), format!("{c:?}")] {
        assert!(!shown.contains("SmtpPa55"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:***@smtp.example.com:465"),
            "{shown}"
        );
    }
}

#[test]
fn a_bad_smtp_url_is_refused_without_its_password() {
    let p = problems(&[("AUTHGATE_SMTP_URL", "http://u:SmtpPa55@host")]);
    assert_eq!(p, ["AUTHGATE_SMTP_URL: \"http://u:***@host\" must be an smtp://, smtp+starttls:// or smtps:// URL with a host"]);
}

#[test]
fn the_summary_names_every_setting() {
    let summary = Config::default().summary();
    for s in SETTINGS {
        assert!(
            summary.contains(&format!("{}=", s.key)),
            "{} missing from {summary}",
            s.key
        );
    }
}

#[test]
fn postgres_and_mongodb_urls_are_recognised() {
    let c = load(&[(
        "AUTHGATE_DATABASE_URL",
        "postgres://app:DbPa55@db:5432/auth",
    )])
    .unwrap();
    assert_eq!(c.database_url.kind(), DatabaseKind::Postgres);
    assert!(!c.summary().contains("DbPa55"));
    let c = load(&[(
        "AUTHGATE_DATABASE_URL",
        "mongodb://app:DbPa55@a:27017,b:27017/auth?replicaSet=rs",
    )])
    .unwrap();
    assert_eq!(c.database_url.kind(), DatabaseKind::MongoDb);
    assert_eq!(
        c.database_url.url().redacted(),
        "mongodb://app:***@a:27017,b:27017/auth?replicaSet=rs"
    );
    let p = problems(&[("AUTHGATE_DATABASE_URL", "mysql://app:DbPa55@db/auth")]);
    assert!(
        p[0].starts_with(
            "AUTHGATE_DATABASE_URL: \"mysql://app:***@db/auth\" has an unsupported scheme"
        ),
        "{p:?}"
    );
}
