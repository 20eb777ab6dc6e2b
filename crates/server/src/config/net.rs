//! Settings of the listener: how long a client may take to send its headers, how many
//! connections are served at once, and HTTPS (the certificate files and the redirect
//! listener).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::build::Reader;
use super::values as v;

/// The most connections `auto` ever allows.
const AUTO_MAX_CONNECTIONS: usize = 10_000;
/// What `auto` allows when the open-file limit cannot be read.
const FALLBACK_FILE_LIMIT: usize = 1024;

/// The certificate and key files of the built-in HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first (`AUTHGATE_TLS_CERT_FILE`).
    pub cert: PathBuf,
    /// PEM private key (`AUTHGATE_TLS_KEY_FILE`).
    pub key: PathBuf,
}

/// How the API's listener treats connections.
#[derive(Debug, Clone)]
pub struct NetSettings {
    /// Time a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open (`AUTHGATE_HEADER_READ_TIMEOUT`).
    pub header_read_timeout: Duration,
    /// Connections served at once before new ones get 503 (`AUTHGATE_MAX_CONNECTIONS`);
    /// `None` is `auto`, see [`NetSettings::max_connections`].
    pub max_connections: Option<usize>,
    /// Serve HTTPS with these files (`AUTHGATE_TLS_CERT_FILE`, `AUTHGATE_TLS_KEY_FILE`).
    pub tls: Option<TlsFiles>,
    /// A plain-HTTP listener that only redirects to https (`AUTHGATE_HTTP_REDIRECT_ADDR`).
    pub http_redirect_addr: Option<SocketAddr>,
}

impl NetSettings {
    /// The connection cap in force: the setting, or for `auto` three quarters of the
    /// process's open-file limit (`ulimit -n`; the rest stays for the database, the log, the
    /// 503 answers) and at most 10,000.
    pub fn max_connections(&self) -> usize {
        self.max_connections.unwrap_or_else(|| {
            let files = open_file_limit().unwrap_or(FALLBACK_FILE_LIMIT);
            (files / 4 * 3).clamp(1, AUTO_MAX_CONNECTIONS)
        })
    }

    /// `key=value` pairs for the configuration summary.
    pub(super) fn summary(&self) -> Vec<(&'static str, String)> {
        let path =
            |p: Option<&PathBuf>| p.map_or_else(|| "(none)".into(), |p| p.display().to_string());
        let cap = match self.max_connections {
            Some(n) => n.to_string(),
            None => format!("auto ({})", self.max_connections()),
        };
        vec![
            (
                "header_read_timeout",
                humantime::format_duration(self.header_read_timeout).to_string(),
            ),
            ("max_connections", cap),
            ("tls_cert_file", path(self.tls.as_ref().map(|t| &t.cert))),
            ("tls_key_file", path(self.tls.as_ref().map(|t| &t.key))),
            (
                "http_redirect_addr",
                self.http_redirect_addr
                    .map_or_else(|| "(none)".into(), |a| a.to_string()),
            ),
        ]
    }
}

/// The soft limit on open files, from `/proc/self/limits` (Linux); `None` elsewhere or
/// when unlimited.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reads the listener's settings; a certificate without a key (or the reverse) is a problem
/// naming the missing variable.
pub(super) fn read(r: &mut Reader<'_>) -> NetSettings {
    let cert = r.opt("tls_cert_file", v::path);
    let key = r.opt("tls_key_file", v::path);
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (Some(_), None) if !r.is_set("tls_key_file") => {
            r.problem(
                "tls_key_file",
                "must be set with AUTHGATE_TLS_CERT_FILE (the certificate's private key)".into(),
            );
            None
        }
        (None, Some(_)) if !r.is_set("tls_cert_file") => {
            r.problem(
                "tls_cert_file",
                "must be set with AUTHGATE_TLS_KEY_FILE (the certificate chain)".into(),
            );
            None
        }
        _ => None,
    };
    NetSettings {
        header_read_timeout: r.get("header_read_timeout", v::duration),
        max_connections: r.get("max_connections", |s| match s {
            "auto" => Ok(None),
            _ => v::integer(s, 1, 1_000_000).map(Some),
        }),
        tls,
        http_redirect_addr: r.opt("http_redirect_addr", v::socket_addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_leaves_a_quarter_of_the_file_limit_and_never_exceeds_ten_thousand() {
        let auto = NetSettings {
            header_read_timeout: Duration::from_secs(10),
            max_connections: None,
            tls: None,
            http_redirect_addr: None,
        };
        let n = auto.max_connections();
        let files = open_file_limit().unwrap_or(FALLBACK_FILE_LIMIT);
        assert!(
            (1..=AUTO_MAX_CONNECTIONS).contains(&n) && n < files,
            "{n} of {files}"
        );
        let fixed = NetSettings {
            max_connections: Some(7),
            ..auto
        };
        assert_eq!(fixed.max_connections(), 7);
    }
}
