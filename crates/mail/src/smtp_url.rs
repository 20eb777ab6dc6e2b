//! [`SmtpEndpoint`]: where and how to reach the SMTP server, parsed from a URL.
//!
//! | URL | security | default port |
//! | --- | --- | --- |
//! | `smtp://host:port` | none (local relays only) | 25 |
//! | `smtp+starttls://user:pass@host:port` | STARTTLS, required | 587 |
//! | `smtps://user:pass@host:port` | implicit TLS | 465 |
//!
//! User name and password in the URL are percent-decoded (`p%40ss` is `p@ss`). Error messages
//! never repeat the URL, which may hold the password.

use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};

use crate::error::MailError;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (`smtp://`): only for a relay on the same host or network.
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer (`smtp+starttls://`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    ImplicitTls,
}

impl SmtpSecurity {
    /// The URL scheme of this mode.
    pub fn scheme(self) -> &'static str {
        match self {
            SmtpSecurity::None => "smtp",
            SmtpSecurity::StartTls => "smtp+starttls",
            SmtpSecurity::ImplicitTls => "smtps",
        }
    }
}

/// A parsed SMTP URL plus optional separate credentials. `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpEndpoint {
    /// Connection security.
    pub security: SmtpSecurity,
    /// Server host name or IP address (also the TLS server name).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// User name for SMTP AUTH, if any.
    pub username: Option<String>,
    /// Password for SMTP AUTH, if any.
    pub password: Option<SecretString>,
}

impl std::fmt::Debug for SmtpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpEndpoint")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::fmt::Display for SmtpEndpoint {
    /// The URL without credentials, e.g. `smtps://mail.example.com:465` (safe to log).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{}://{host}:{}", self.security.scheme(), self.port)
    }
}

impl SmtpEndpoint {
    /// Parses `url`; `username` and `password` (e.g. from `AUTHGATE_SMTP_USERNAME` and
    /// `AUTHGATE_SMTP_PASSWORD`) take precedence over credentials in the URL.
    ///
    /// ```
    /// use authgate_mail::{SmtpEndpoint, SmtpSecurity};
    /// let e = SmtpEndpoint::parse("smtps://ada:p%40ss@mail.example.com", None, None).unwrap();
    /// assert_eq!((e.security, e.port), (SmtpSecurity::ImplicitTls, 465));
    /// assert_eq!(e.username.as_deref(), Some("ada"));
    /// assert_eq!(e.to_string(), "smtps://mail.example.com:465");
    /// ```
    pub fn parse(
        url: &str,
        username: Option<&str>,
        password: Option<SecretString>,
    ) -> Result<SmtpEndpoint, MailError> {
        let invalid = |what: &str| MailError::Config(format!("SMTP URL: {what}"));
        let parsed =
            url::Url::parse(url.trim()).map_err(|e| invalid(&format!("not a URL ({e})")))?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (SmtpSecurity::None, 25),
            "smtp+starttls" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::ImplicitTls, 465),
            _ => {
                return Err(invalid(
                    "the scheme must be smtp://, smtp+starttls:// or smtps://",
                ))
            }
        };
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid("a host is required, e.g. smtps://mail.example.com")),
        };
        if !matches!(parsed.path(), "" | "/")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(invalid(
                "only scheme, credentials, host and port are allowed",
            ));
        }
        let url_user =
            decode(parsed.username()).map_err(|_| invalid("the user name is not valid UTF-8"))?;
        let url_password = match parsed.password() {
            Some(p) => Some(decode(p).map_err(|_| invalid("the password is not valid UTF-8"))?),
            None => None,
        };
        let username = username
            .map(str::to_owned)
            .or_else(|| (!url_user.is_empty()).then_some(url_user));
        let password = password.or_else(|| url_password.map(SecretString::from));
        match (&username, &password) {
            (Some(_), None) => return Err(invalid("a user name was given without a password")),
            (None, Some(_)) => return Err(invalid("a password was given without a user name")),
            (Some(_), Some(p)) if p.expose_secret().is_empty() => {
                return Err(invalid("the password is empty"))
            }
            _ => {}
        }
        Ok(SmtpEndpoint {
            security,
            host,
            port: parsed.port().unwrap_or(default_port),
            username,
            password,
        })
    }
}

fn decode(s: &str) -> Result<String, std::str::Utf8Error> {
    percent_decode_str(s).decode_utf8().map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_url_has_no_tls_and_port_25_by_default() {
        let e = SmtpEndpoint::parse("smtp://localhost", None, None).unwrap();
        assert_eq!(
            (e.security, e.host.as_str(), e.port),
            (SmtpSecurity::None, "localhost", 25)
        );
        assert!(e.username.is_none() && e.password.is_none());
    }

    #[test]
    fn starttls_url_credentials_are_percent_decoded() {
        let e = SmtpEndpoint::parse(
            "smtp+starttls://ada%40x.org:p%3Ass@mx.example.com:2525",
            None,
            None,
        )
        .unwrap();
        assert_eq!((e.security, e.port), (SmtpSecurity::StartTls, 2525));
        assert_eq!(e.username.as_deref(), Some("ada@x.org"));
        assert_eq!(e.password.unwrap().expose_secret(), "p:ss");
    }

    #[test]
    fn separate_credentials_take_precedence_over_the_url() {
        let e = SmtpEndpoint::parse(
            "smtps://url-user:url-pass@mx.example.com",
            Some("env-user"),
            Some(SecretString::from("env-pass")),
        )
        .unwrap();
        assert_eq!(e.username.as_deref(), Some("env-user"));
        assert_eq!(e.password.unwrap().expose_secret(), "env-pass");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_the_password() {
        for url in [
            "http://u:hunter2@mx.example.com",
            "smtps://u:hunter2@",
            "smtps://u:hunter2@mx.example.com/path",
            "smtps://u:hunter2@mx.example.com?tls=required",
            "smtps://u@mx.example.com",
            "smtps://:hunter2@mx.example.com",
            "not a url hunter2",
        ] {
            let err = SmtpEndpoint::parse(url, None, None)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.starts_with("mail configuration: SMTP URL"), "{err}");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_password() {
        let e = SmtpEndpoint::parse("smtps://ada:hunter2@[::1]:4650", None, None).unwrap();
        assert!(!format!("{e:?}").contains("hunter2"));
        assert_eq!(e.to_string(), "smtps://[::1]:4650");
    }
}
