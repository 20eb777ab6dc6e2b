//! Each variable with good and bad values.

use super::*;

/// Asserts `value` is accepted for `var` and `check` holds on the result.
pub(super) fn good(var: &str, value: &str, check: impl Fn(&Config) -> bool) {
    let c = load(&[(var, value)]).unwrap_or_else(|e| panic!("{var}={value:?} refused: {e}"));
    assert!(check(&c), "{var}={value:?} parsed to the wrong value");
}

/// Asserts `value` is refused for `var` with a message naming the variable and `fragment`.
pub(super) fn bad(var: &str, value: &str, fragment: &str) {
    let p = problems(&[(var, value)]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with(&format!("{var}: ")), "{p:?}");
    assert!(
        p[0].contains(fragment),
        "{var}={value:?}: {p:?} lacks {fragment:?}"
    );
}

#[test]
fn durations_accept_human_units_and_refuse_zero_and_garbage() {
    let secs = |n: u64| Duration::from_secs(n);
    good("AUTHGATE_ACCESS_TOKEN_TTL", "15m", |c| {
        c.access_token_ttl == secs(900)
    });
    good("AUTHGATE_ACCESS_TOKEN_TTL", "2s", |c| {
        c.access_token_ttl == secs(2)
    });
    good("AUTHGATE_ACCESS_TOKEN_TTL", "24h", |c| {
        c.access_token_ttl == secs(86400)
    });
    good("AUTHGATE_ACCESS_TOKEN_TTL", "7d", |c| {
        c.access_token_ttl == secs(7 * 86400)
    });
    good("AUTHGATE_REFRESH_TOKEN_TTL", "30d", |c| {
        c.refresh_token_ttl == secs(30 * 86400)
    });
    good("AUTHGATE_REFRESH_TOKEN_TTL", " 1h 30m ", |c| {
        c.refresh_token_ttl == secs(5400)
    });
    good("AUTHGATE_VERIFICATION_TOKEN_TTL", "2h", |c| {
        c.verification_token_ttl == secs(7200)
    });
    good("AUTHGATE_RESET_TOKEN_TTL", "30m", |c| {
        c.reset_token_ttl == secs(1800)
    });
    good("AUTHGATE_REFRESH_GRACE", "0s", |c| {
        c.refresh_grace.is_zero()
    });
    bad(
        "AUTHGATE_ACCESS_TOKEN_TTL",
        "abc",
        "\"abc\" is not a duration (examples: 15m, 2h, 7d)",
    );
    bad("AUTHGATE_ACCESS_TOKEN_TTL", "15", "is not a duration");
    bad(
        "AUTHGATE_ACCESS_TOKEN_TTL",
        "0s",
        "must be longer than zero",
    );
    bad("AUTHGATE_REFRESH_TOKEN_TTL", "-1d", "is not a duration");
    bad("AUTHGATE_REFRESH_TOKEN_TTL", "20000d", "is too long");
    bad(
        "AUTHGATE_VERIFICATION_TOKEN_TTL",
        "0m",
        "must be longer than zero",
    );
    bad("AUTHGATE_RESET_TOKEN_TTL", "soon", "is not a duration");
    good("AUTHGATE_TOKEN_CLOCK_SKEW", "0s", |c| {
        c.token_clock_skew.is_zero()
    });
    good("AUTHGATE_TOKEN_CLOCK_SKEW", "30s", |c| {
        c.token_clock_skew == secs(30)
    });
    bad(
        "AUTHGATE_TOKEN_CLOCK_SKEW",
        "6m",
        "is too long (at most 5m)",
    );
    bad(
        "AUTHGATE_TOKEN_CLOCK_SKEW",
        "1500ms",
        "must be whole seconds",
    );
    bad("AUTHGATE_TOKEN_CLOCK_SKEW", "a bit", "is not a duration");
    bad("AUTHGATE_REFRESH_GRACE", "ten", "is not a duration");
}

#[test]
fn booleans_accept_true_false_one_zero_yes_no() {
    for (v, want) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("false", false),
        ("0", false),
        ("No", false),
    ] {
        good("AUTHGATE_REQUIRE_EMAIL", v, |c| c.require_email == want);
        good("AUTHGATE_REQUIRE_VERIFIED_EMAIL", v, |c| {
            c.require_verified_email == want
        });
    }
    bad("AUTHGATE_REQUIRE_EMAIL", "y", "\"y\" is not a boolean");
    bad("AUTHGATE_REQUIRE_VERIFIED_EMAIL", "2", "is not a boolean");
}

#[test]
fn bind_takes_an_ip_and_port() {
    good("AUTHGATE_BIND", "0.0.0.0:80", |c| {
        c.bind.port() == 80 && c.bind.ip().is_unspecified()
    });
    good("AUTHGATE_BIND", "[::1]:0", |c| {
        c.bind.port() == 0 && c.public_url() == "http://[::1]:0"
    });
    bad(
        "AUTHGATE_BIND",
        "localhost:8080",
        "is not an address and port",
    );
    bad("AUTHGATE_BIND", "127.0.0.1", "is not an address and port");
    bad(
        "AUTHGATE_BIND",
        "127.0.0.1:99999",
        "is not an address and port",
    );
}

#[test]
fn the_public_url_must_be_http_or_https_and_loses_its_trailing_slash() {
    good("AUTHGATE_PUBLIC_URL", "https://Auth.Example.com/", |c| {
        c.public_url() == "https://auth.example.com"
    });
    good("AUTHGATE_PUBLIC_URL", "http://localhost:3000", |c| {
        c.public_url() == "http://localhost:3000" && c.warnings().is_empty()
    });
    good(
        "AUTHGATE_PUBLIC_URL",
        "https://example.com:443/auth/",
        |c| c.public_url() == "https://example.com/auth" && c.is_https(),
    );
    bad("AUTHGATE_PUBLIC_URL", "auth.example.com", "is not a URL");
    bad(
        "AUTHGATE_PUBLIC_URL",
        "ftp://example.com",
        "must be an http:// or https:// URL",
    );
    bad(
        "AUTHGATE_PUBLIC_URL",
        "https://example.com/?x=1",
        "must not have a query",
    );
    bad(
        "AUTHGATE_PUBLIC_URL",
        "https://u:p@example.com",
        "credentials",
    );
}

#[test]
fn the_database_url_selects_a_store() {
    good("AUTHGATE_DATABASE_URL", "sqlite::memory:", |c| {
        c.database_url.kind() == DatabaseKind::Sqlite
    });
    good(
        "AUTHGATE_DATABASE_URL",
        "sqlite:///var/lib/authgate/a.db",
        |c| c.database_url.kind() == DatabaseKind::Sqlite,
    );
    good("AUTHGATE_DATABASE_URL", "postgresql://db/auth", |c| {
        c.database_url.kind() == DatabaseKind::Postgres
    });
    good(
        "AUTHGATE_DATABASE_URL",
        "mongodb+srv://cluster.example.com/auth",
        |c| c.database_url.kind() == DatabaseKind::MongoDb,
    );
    bad("AUTHGATE_DATABASE_URL", "authgate.db", "unsupported scheme");
    bad(
        "AUTHGATE_DATABASE_URL",
        "postgres://u:pw@host:port/db",
        "\"postgres://u:***@host:port/db\" is not a valid PostgreSQL URL",
    );
}
