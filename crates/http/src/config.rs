//! Settings of the HTTP layer.

/// Where refresh tokens are delivered and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDelivery {
    /// Only in the JSON body.
    Body,
    /// Only in the HttpOnly `refreshToken` cookie.
    Cookie,
    /// Both (the default).
    Both,
}

impl RefreshDelivery {
    /// Whether the JSON body carries the refresh token.
    pub fn in_body(self) -> bool {
        matches!(self, RefreshDelivery::Body | RefreshDelivery::Both)
    }

    /// Whether the cookie carries the refresh token.
    pub fn in_cookie(self) -> bool {
        matches!(self, RefreshDelivery::Cookie | RefreshDelivery::Both)
    }
}

/// The `SameSite` attribute of the cookies authgate sets (`AUTHGATE_COOKIE_SAMESITE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSameSite {
    /// Sent on same-site requests and top-level navigations (the default).
    Lax,
    /// Sent on same-site requests only.
    Strict,
    /// Sent on cross-site requests too (needs `Secure`, so an https public URL): for a
    /// browser app on another site than authgate.
    None,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where refresh tokens go.
    pub refresh_delivery: RefreshDelivery,
    /// Mark the cookie `Secure` (the public URL is https).
    pub cookie_secure: bool,
    /// `SameSite` of the cookies.
    pub cookie_same_site: CookieSameSite,
    /// `Domain` of the cookies (`AUTHGATE_COOKIE_DOMAIN`); `None`: host-only cookies.
    pub cookie_domain: Option<String>,
    /// The public URL's origin (`scheme://host[:port]`).
    pub public_origin: String,
    /// Origins (scheme://host[:port]) allowed to send cookie-carried requests and accepted
    /// as redirect targets; the public URL's origin is always among them.
    pub allowed_origins: Vec<String>,
    /// Origins that get CORS: those of `AUTHGATE_ALLOWED_ORIGINS` as configured. The public
    /// URL's origin is not added: a page there is same-origin and needs no CORS.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Trust `X-Forwarded-For` from these proxy addresses (exact IPs).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The process's Prometheus recorder; when set, `GET /metrics` renders it (otherwise
    /// that path is a 404).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            refresh_delivery: RefreshDelivery::Both,
            cookie_secure: false,
            cookie_same_site: CookieSameSite::Lax,
            cookie_domain: None,
            public_origin: "http://127.0.0.1:8080".into(),
            allowed_origins: vec!["http://127.0.0.1:8080".into()],
            cors_origins: Vec::new(),
            max_body_bytes: 64 * 1024,
            trusted_proxies: Vec::new(),
            metrics: None,
        }
    }
}
