//! The settings handed to the core and the HTTP layer, and cross-setting checks.

use super::*;

#[test]
fn the_defaults_agree_with_the_core_defaults() {
    let auth = Config::default().auth_config();
    let core = authgate_core::AuthConfig::default();
    assert_eq!(auth.public_url, core.public_url);
    assert_eq!(auth.audience, core.audience);
    assert_eq!(
        (
            auth.access_token_ttl,
            auth.refresh_token_ttl,
            auth.refresh_grace
        ),
        (
            core.access_token_ttl,
            core.refresh_token_ttl,
            core.refresh_grace
        )
    );
    assert_eq!(
        (auth.verification_token_ttl, auth.reset_token_ttl),
        (core.verification_token_ttl, core.reset_token_ttl)
    );
    assert_eq!(
        auth.password_policy.min_chars,
        core.password_policy.min_chars
    );
    assert_eq!(
        auth.password_policy.max_chars,
        core.password_policy.max_chars
    );
}

#[test]
fn the_http_settings_always_allow_the_public_origin() {
    let c = load(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com/base/"),
        (
            "AUTHGATE_ALLOWED_ORIGINS",
            "https://app.example.com, https://auth.example.com",
        ),
        ("AUTHGATE_REFRESH_TOKEN_DELIVERY", "cookie"),
        ("AUTHGATE_TRUSTED_PROXIES", "10.0.0.1, ::1"),
    ])
    .unwrap();
    assert_eq!(c.public_url(), "https://auth.example.com/base");
    let http = c.http_config();
    assert_eq!(
        http.allowed_origins,
        ["https://app.example.com", "https://auth.example.com"]
    );
    assert!(http.cookie_secure);
    assert_eq!(http.refresh_delivery, RefreshDelivery::Cookie);
    assert_eq!(http.trusted_proxies.len(), 2);
    assert_eq!(http.max_body_bytes, 64 * 1024);
    let plain = Config::default().http_config();
    assert_eq!(plain.allowed_origins, ["http://127.0.0.1:8080"]);
    assert!(!plain.cookie_secure);
}

#[test]
fn the_auth_settings_carry_the_configured_values() {
    let c = load(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
        ("AUTHGATE_ACCESS_TOKEN_TTL", "24h"),
        ("AUTHGATE_REFRESH_TOKEN_TTL", "7d"),
        ("AUTHGATE_PASSWORD_POLICY", "nist"),
        ("AUTHGATE_PASSWORD_MIN_LENGTH", "12"),
        ("AUTHGATE_REQUIRE_VERIFIED_EMAIL", "yes"),
        ("AUTHGATE_SELF_ASSIGNABLE_ROLES", "editor,,viewer,editor"),
        ("AUTHGATE_JWT_AUDIENCE", "my-app"),
    ])
    .unwrap();
    let a = c.auth_config();
    assert_eq!(a.public_url, "https://auth.example.com");
    assert_eq!(a.access_token_ttl, chrono::Duration::hours(24));
    assert_eq!(a.refresh_token_ttl, chrono::Duration::days(7));
    assert_eq!(
        (a.password_policy.mode, a.password_policy.min_chars),
        (PolicyMode::Nist, 12)
    );
    assert!(a.require_verified_email);
    assert_eq!(a.self_assignable_roles, ["editor", "viewer"]);
    assert_eq!(a.audience, "my-app");
}

#[test]
fn risky_choices_are_warned_about() {
    let c = load(&[
        ("AUTHGATE_BIND", "0.0.0.0:8080"),
        ("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin"),
        ("AUTHGATE_ACCESS_TOKEN_TTL", "60d"),
    ])
    .unwrap();
    let w = c.warnings().join("\n");
    assert!(w.contains("AUTHGATE_PUBLIC_URL is not set"), "{w}");
    assert!(w.contains("anyone can sign up as an administrator"), "{w}");
    assert!(w.contains("longer than AUTHGATE_REFRESH_TOKEN_TTL"), "{w}");
    let c = load(&[("AUTHGATE_PUBLIC_URL", "http://auth.example.com")]).unwrap();
    assert!(c.warnings()[0].contains("not https"));
}

#[test]
fn hash_memory_must_cover_the_lanes() {
    let p = problems(&[
        ("AUTHGATE_HASH_PARALLELISM", "4"),
        ("AUTHGATE_HASH_MEMORY_KIB", "16"),
    ]);
    assert_eq!(
        p,
        ["AUTHGATE_HASH_MEMORY_KIB: must be at least 8 x AUTHGATE_HASH_PARALLELISM = 32"]
    );
}

#[test]
fn the_caches_are_on_for_sqlite_and_postgresql_and_off_for_mongodb_by_default() {
    let sqlite = load(&[]).unwrap();
    assert_eq!(sqlite.effective_cache_ttl(), Duration::from_secs(60));
    let pg = load(&[("AUTHGATE_DATABASE_URL", "postgres://db.example/authgate")]).unwrap();
    assert_eq!(pg.effective_cache_ttl(), Duration::from_secs(60));
    let mongo = load(&[("AUTHGATE_DATABASE_URL", "mongodb://db.example/authgate")]).unwrap();
    assert_eq!(mongo.effective_cache_ttl(), Duration::ZERO);
}

#[test]
fn the_cache_ttl_can_be_set_for_any_database_and_is_validated() {
    let pg = load(&[
        ("AUTHGATE_DATABASE_URL", "postgres://db.example/authgate"),
        ("AUTHGATE_CACHE_TTL", "5s"),
    ])
    .unwrap();
    assert_eq!(pg.effective_cache_ttl(), Duration::from_secs(5));
    assert_eq!(pg.auth_config().cache_ttl, chrono::Duration::seconds(5));
    let off = load(&[("AUTHGATE_CACHE_TTL", "0s")]).unwrap();
    assert_eq!(off.effective_cache_ttl(), Duration::ZERO);
    let bad = problems(&[("AUTHGATE_CACHE_TTL", "soon")]);
    assert!(
        bad.iter().any(|p| p.starts_with("AUTHGATE_CACHE_TTL")),
        "{bad:?}"
    );
}
