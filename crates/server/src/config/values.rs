//! Parsers of single setting values. Each returns the problem as a phrase that quotes the
//! bad value (except for secrets); the caller prefixes the variable's name.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use authgate_core::domain::Role;
use authgate_core::policy::PolicyMode;
use authgate_http::RefreshDelivery;
use secrecy::SecretString;

use super::{LogFormat, SqliteSynchronous};

/// Fewest bytes in an HS256 secret (RFC 7518 3.2: at least the hash size).
pub(crate) const MIN_JWT_SECRET_BYTES: usize = 32;

/// A positive duration like `15m`, `2h`, `30d`.
pub(crate) fn duration(v: &str) -> Result<Duration, String> {
    authgate_core::durations::parse_positive(v)
}

/// Most clock skew accepted on access tokens: more would make a short token life meaningless.
pub(crate) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// A clock skew, zero to [`MAX_CLOCK_SKEW`], in whole seconds.
pub(crate) fn clock_skew(v: &str) -> Result<Duration, String> {
    let d = duration_or_zero(v)?;
    if d > MAX_CLOCK_SKEW {
        return Err(format!("{v:?} is too long (at most 5m)"));
    }
    if d.subsec_nanos() != 0 {
        return Err(format!("{v:?} must be whole seconds"));
    }
    Ok(d)
}

/// A duration that may be zero.
pub(crate) fn duration_or_zero(v: &str) -> Result<Duration, String> {
    authgate_core::durations::parse_or_zero(v)
}

/// `true`/`false`, `1`/`0`, `yes`/`no` (any case).
pub(crate) fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("{v:?} is not a boolean (use true or false)")),
    }
}

/// An integer within `min..=max`.
pub(crate) fn integer<T>(v: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match v.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        Ok(_) => Err(format!("{v:?} is out of range ({min} to {max})")),
        Err(_) => Err(format!("{v:?} is not a whole number")),
    }
}

/// A file or folder path: not empty, no control characters (the message never repeats it).
pub(crate) fn path(v: &str) -> Result<std::path::PathBuf, String> {
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(v.into())
}

/// An IP address and port, e.g. `127.0.0.1:8080` or `[::]:8080`.
pub(crate) fn socket_addr(v: &str) -> Result<SocketAddr, String> {
    v.parse().map_err(|_| {
        format!(
            "{v:?} is not an address and port (examples: 127.0.0.1:8080, 0.0.0.0:8080, [::]:8080)"
        )
    })
}

/// The items of a comma-separated list, trimmed, empty items dropped.
pub(crate) fn list(v: &str) -> Vec<&str> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Role names.
pub(crate) fn roles(v: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for item in list(v) {
        let role = Role::parse(item).map_err(|problem| format!("role {item:?} {problem}"))?;
        if !out.iter().any(|r| r == role.as_str()) {
            out.push(role.as_str().to_owned());
        }
    }
    Ok(out)
}

/// Exact IP addresses.
pub(crate) fn ip_list(v: &str) -> Result<Vec<IpAddr>, String> {
    list(v)
        .into_iter()
        .map(|item| {
            item.parse()
                .map_err(|_| format!("{item:?} is not an IP address"))
        })
        .collect()
}

/// An http(s) URL without query, fragment or credentials; returned without a trailing slash.
pub(crate) fn public_url(v: &str) -> Result<String, String> {
    let url = url::Url::parse(v)
        .map_err(|_| format!("{v:?} is not a URL (example: https://auth.example.com)"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{v:?} must be an http:// or https:// URL with a host"
        ));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "{v:?} must not have a query, a fragment or credentials"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The origin (`scheme://host[:port]`) of an http(s) URL that has no path.
pub(crate) fn origin(v: &str) -> Result<String, String> {
    let url = url::Url::parse(v)
        .map_err(|_| format!("{v:?} is not an origin (example: https://app.example.com)"))?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
        return Err(format!(
            "{v:?} is not an origin: scheme://host[:port] with http or https and no path"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// The origins of a comma-separated list, without duplicates.
pub(crate) fn origins(v: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for item in list(v) {
        let o = origin(item)?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

/// A mail sender: `addr@example.com` or `Name <addr@example.com>`.
pub(crate) fn mailbox(v: &str) -> Result<String, String> {
    let address = match (v.rfind('<'), v.ends_with('>')) {
        (Some(open), true) => &v[open + 1..v.len() - 1],
        (None, false) => v,
        _ => return Err(format!("{v:?} is not a mailbox (examples: no-reply@example.com, Authgate <no-reply@example.com>)")),
    };
    authgate_core::domain::Email::parse(address)
        .map_err(|p| format!("{v:?} is not a valid mailbox: the address {p}"))?;
    Ok(v.to_owned())
}

/// An HS256 secret of at least 32 bytes. The message never contains the value.
pub(crate) fn jwt_secret(v: &str) -> Result<SecretString, String> {
    if v.len() < MIN_JWT_SECRET_BYTES {
        return Err(format!(
            "is too short ({} bytes); use at least {MIN_JWT_SECRET_BYTES} random bytes, e.g. from `openssl rand -base64 48`",
            v.len()
        ));
    }
    Ok(SecretString::from(v.to_owned()))
}

/// A non-empty token without spaces (the `aud` claim).
pub(crate) fn audience(v: &str) -> Result<String, String> {
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{v:?} must not contain spaces"));
    }
    Ok(v.to_owned())
}

/// `body`, `cookie` or `both`.
pub(crate) fn refresh_delivery(v: &str) -> Result<RefreshDelivery, String> {
    match v.to_ascii_lowercase().as_str() {
        "body" => Ok(RefreshDelivery::Body),
        "cookie" => Ok(RefreshDelivery::Cookie),
        "both" => Ok(RefreshDelivery::Both),
        _ => Err(format!("{v:?} is not one of body, cookie, both")),
    }
}

/// `classic` or `nist`.
pub(crate) fn policy_mode(v: &str) -> Result<PolicyMode, String> {
    match v.to_ascii_lowercase().as_str() {
        "classic" => Ok(PolicyMode::Classic),
        "nist" => Ok(PolicyMode::Nist),
        _ => Err(format!("{v:?} is not one of classic, nist")),
    }
}

/// `normal` or `full`.
pub(crate) fn sqlite_synchronous(v: &str) -> Result<SqliteSynchronous, String> {
    match v.to_ascii_lowercase().as_str() {
        "normal" => Ok(SqliteSynchronous::Normal),
        "full" => Ok(SqliteSynchronous::Full),
        _ => Err(format!("{v:?} is not one of normal, full")),
    }
}

/// `pretty` or `json`.
pub(crate) fn log_format(v: &str) -> Result<LogFormat, String> {
    match v.to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("{v:?} is not one of pretty, json")),
    }
}

/// A `tracing` filter directive list, e.g. `info,authgate_core=debug`.
pub(crate) fn log_filter(v: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(v)
        .map(|_| v.to_owned())
        .map_err(|e| format!("{v:?} is not a log filter ({e}); example: info,authgate_core=debug"))
}
