//! The table of every setting: its key, its default and a one-line description. The key is
//! the config-file name; the environment variable is `AUTHGATE_` + the key upper-cased.

/// Prefix of every environment variable authgate reads.
pub const ENV_PREFIX: &str = "AUTHGATE_";

/// The environment variable naming the config file (read by the CLI, not a setting).
pub const CONFIG_FILE_VAR: &str = "AUTHGATE_CONFIG";

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Config-file key (lower case).
    pub key: &'static str,
    /// The default, as text.
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
    /// Its value is a secret (never printed, never echoed in an error).
    pub secret: bool,
}

const fn s(key: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        key,
        default,
        help,
        secret: false,
    }
}

/// Every setting, in the order they are documented.
pub const SETTINGS: &[Setting] = &[
    s("bind", "127.0.0.1:8080", "address and port to listen on"),
    s(
        "metrics_bind",
        "(none: on the API port)",
        "address for GET /metrics alone (unset: /metrics on the API port)",
    ),
    s(
        "header_read_timeout",
        "10s",
        "time a client has to send a request's headers; idle keep-alive connections close after it too",
    ),
    s(
        "max_connections",
        "auto",
        "connections served at once; more get 503 overloaded (auto: 3/4 of ulimit -n, at most 10000)",
    ),
    s(
        "tls_cert_file",
        "(none: plain HTTP)",
        "PEM certificate chain: serve HTTPS (HTTP/1.1 and HTTP/2), re-read on change or SIGHUP",
    ),
    s(
        "tls_key_file",
        "(none)",
        "PEM private key of AUTHGATE_TLS_CERT_FILE",
    ),
    s(
        "http_redirect_addr",
        "(none)",
        "address of a plain-HTTP listener answering only 308 to the https public URL",
    ),
    s(
        "public_url",
        "http://{bind}",
        "public base URL (token issuer, links in mails)",
    ),
    s(
        "database_url",
        "sqlite://authgate.db",
        "sqlite:..., postgres://... or mongodb://...",
    ),
    s(
        "database_max_connections",
        "8",
        "database connection pool size",
    ),
    s(
        "sqlite_synchronous",
        "normal",
        "normal | full (full also survives power loss)",
    ),
    s(
        "admin_socket",
        "(beside the SQLite file: FILE.admin.sock; else ./authgate-admin.sock)",
        "Unix socket (mode 0600) the CLI's user and audit commands reach the server on; off: none",
    ),
    s(
        "smtp_url",
        "(none: mails go to a local outbox)",
        "smtp[s]:// or smtp+starttls://user:pass@host:port",
    ),
    s(
        "mail_from",
        "authgate <no-reply@localhost>",
        "sender of mails, e.g. Authgate <no-reply@example.com>",
    ),
    s(
        "smtp_username",
        "(none)",
        "SMTP user name (overrides one in the URL)",
    ),
    Setting {
        key: "smtp_password",
        default: "(none)",
        help: "SMTP password (overrides one in the URL)",
        secret: true,
    },
    s(
        "smtp_ca_file",
        "(none: public CAs only)",
        "PEM file of CA certificates also trusted for the SMTP server",
    ),
    s(
        "mail_outbox",
        "./mail-outbox",
        "folder for .eml files when no SMTP URL is set",
    ),
    s(
        "templates_dir",
        "(built-in templates)",
        "folder whose files override mail templates (and, in pages/, the pages' templates)",
    ),
    s(
        "pages",
        "true",
        "serve the sign-in, sign-up, reset, verify and account pages",
    ),
    s(
        "app_url",
        "(none)",
        "your app's URL: where a sign-in on the pages lands without ?rd=",
    ),
    s(
        "verify_url",
        "(the /verify-email page)",
        "verification link in mails, with {token}, e.g. https://app.example.com/verify?token={token}",
    ),
    s(
        "reset_url",
        "(the /reset-password page)",
        "reset link in mails, with {token}, e.g. https://app.example.com/reset?token={token}",
    ),
    s("brand_name", "authgate", "name the pages show"),
    s(
        "brand_logo_url",
        "(none)",
        "http(s) URL of a logo the pages show",
    ),
    s(
        "brand_accent",
        "#1f6feb",
        "accent colour of the pages (#rgb or #rrggbb)",
    ),
    s("access_token_ttl", "15m", "life of an access token"),
    s(
        "token_clock_skew",
        "5s",
        "clock skew tolerated on an access token's exp and nbf (0s to 5m)",
    ),
    s(
        "refresh_token_ttl",
        "30d",
        "life of a refresh token and of an idle session",
    ),
    s(
        "refresh_grace",
        "10s",
        "window in which a rotated refresh token still works (0s: none)",
    ),
    Setting {
        key: "jwt_secret",
        default: "(none: EdDSA keys)",
        help: "HS256 secret, at least 32 bytes",
        secret: true,
    },
    s("jwt_audience", "authgate", "aud claim of access tokens"),
    s("refresh_token_delivery", "both", "body | cookie | both"),
    s(
        "require_email",
        "true",
        "false allows username-only accounts",
    ),
    s(
        "require_verified_email",
        "false",
        "refuse login until the email is verified",
    ),
    s(
        "self_assignable_roles",
        "(none)",
        "comma list of roles a client may pick at sign-up",
    ),
    s(
        "roles",
        "user,admin",
        "comma list of the roles an administrator may give (user and admin always exist)",
    ),
    s(
        "allowed_origins",
        "(public URL's origin)",
        "comma list of browser-app origins: CORS, the refresh cookie, login redirects",
    ),
    s(
        "cookie_samesite",
        "lax",
        "lax | strict | none (none needs an https public URL)",
    ),
    s(
        "cookie_domain",
        "(none: host-only cookies)",
        "Domain of the cookies, e.g. example.com",
    ),
    Setting {
        key: "introspection_secrets",
        default: "(none: no introspection)",
        help: "comma list of secrets (32+ bytes) callers of POST /introspect present as bearer",
        secret: true,
    },
    s(
        "access_cookie",
        "(none)",
        "name of a cookie forward-auth reads an access token from",
    ),
    s(
        "login_url",
        "(none)",
        "where forward-auth sends a browser that must log in (with ?rd=)",
    ),
    s(
        "trusted_proxies",
        "(none)",
        "comma list of proxy IPs whose X-Forwarded-For is trusted",
    ),
    s(
        "password_policy",
        "classic",
        "classic (upper, lower, digit) | nist (length and blocklist)",
    ),
    s(
        "password_min_length",
        "8",
        "fewest characters in a password",
    ),
    s("hash_memory_kib", "19456", "argon2id memory per hash, KiB"),
    s("hash_iterations", "2", "argon2id iterations"),
    s("hash_parallelism", "1", "argon2id lanes"),
    s(
        "hash_max_queue",
        "1024",
        "password hashes that may wait before requests get 503",
    ),
    s(
        "verification_token_ttl",
        "24h",
        "life of an email verification link",
    ),
    s("reset_token_ttl", "1h", "life of a password reset link"),
    s(
        "cache_ttl",
        "auto",
        "how long a live session or a user row is trusted without a database read (auto: 60s on SQLite and PostgreSQL, whose nodes invalidate each other's caches; 0 = off on MongoDB)",
    ),
    s(
        "shared_limits",
        "auto",
        "where rate limits and login blocks are counted: auto (database on PostgreSQL, else memory) | memory (per instance) | database (shared by every instance; PostgreSQL)",
    ),
    s(
        "rate_limit_enabled",
        "true",
        "false turns every rate limit and login block off",
    ),
    s(
        "rate_limit_login",
        "30/min",
        "logins and password changes per client IP",
    ),
    s(
        "rate_limit_register",
        "20/min",
        "registrations per client IP",
    ),
    s("rate_limit_refresh", "120/min", "refreshes per client IP"),
    s(
        "rate_limit_forgot_password",
        "10/min",
        "reset requests per client IP",
    ),
    s(
        "rate_limit_reset_password",
        "20/min",
        "password resets per client IP",
    ),
    s(
        "rate_limit_resend_verification",
        "10/min",
        "verification mails per client IP",
    ),
    s(
        "rate_limit_verify_email",
        "30/min",
        "verification links opened per client IP",
    ),
    s(
        "rate_limit_forgot_per_email",
        "5/hour",
        "reset mails per email address (known or not)",
    ),
    s(
        "rate_limit_resend_per_account",
        "5/hour",
        "verification and email-change mails per account",
    ),
    s(
        "login_free_attempts",
        "5",
        "failed logins per account and IP before each try waits longer (1 s, 2 s, 4 s ... 15 min)",
    ),
    s(
        "login_max_failures",
        "50",
        "failed logins per account per hour before it is blocked (at most 100)",
    ),
    s(
        "login_block",
        "15m",
        "how long such a block lasts (IPs that logged in before are exempt)",
    ),
    s(
        "audit_retention",
        "90d",
        "how long audit events are kept (pruned hourly)",
    ),
    s("log_format", "pretty", "pretty | json"),
    s("log", "info", "log filter, e.g. info,authgate_core=debug"),
];

/// The setting with this key.
pub fn setting(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The environment variable of a key: `access_token_ttl` -> `AUTHGATE_ACCESS_TOKEN_TTL`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// The settings as a help text, one line per variable.
pub fn env_help() -> String {
    let mut out = String::from(
        "Configuration: AUTHGATE_* environment variables, over an optional TOML file (--config;\n\
         its keys are the variable names lower-cased without the prefix, e.g. bind = \"0.0.0.0:8080\").\n\
         Durations: 15m, 2h, 7d. Booleans: true/false, 1/0, yes/no. Lists: comma-separated.\n\n",
    );
    for s in SETTINGS {
        let name = env_name(s.key);
        out.push_str(&format!(
            "  {name:<36} {} [default: {}]\n",
            s.help, s.default
        ));
    }
    out
}
