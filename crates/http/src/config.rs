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

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where refresh tokens go.
    pub refresh_delivery: RefreshDelivery,
    /// Mark the cookie `Secure` (the public URL is https).
    pub cookie_secure: bool,
    /// Origins (scheme://host[:port]) allowed to send cookie-carried requests; the public
    /// URL's origin is always among them.
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Trust `X-Forwarded-For` from these proxy addresses (exact IPs).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The process's Prometheus recorder; when set, `GET /metrics` renders it (otherwise
    /// that path is a 404).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The hosted pages (`/login`, `/account`, ...); `None`: not served.
    pub pages: Option<std::sync::Arc<crate::pages::Pages>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            refresh_delivery: RefreshDelivery::Both,
            cookie_secure: false,
            allowed_origins: vec!["http://127.0.0.1:8080".into()],
            max_body_bytes: 64 * 1024,
            trusted_proxies: Vec::new(),
            metrics: None,
            pages: None,
        }
    }
}
