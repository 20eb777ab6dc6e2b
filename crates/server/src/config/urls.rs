//! URLs that may carry a password (database, SMTP): kept in a [`SecretString`], shown only
//! with the password replaced by `***`.

use secrecy::{ExposeSecret, SecretString};

/// The store a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// `sqlite:...` (embedded file or `sqlite::memory:`).
    Sqlite,
    /// `postgres://...` or `postgresql://...`.
    Postgres,
    /// `mongodb://...` or `mongodb+srv://...`.
    MongoDb,
}

/// A URL whose password must not be printed.
#[derive(Clone)]
pub struct SecretUrl {
    url: SecretString,
    redacted: String,
}

impl SecretUrl {
    fn new(raw: &str) -> Self {
        SecretUrl {
            url: SecretString::from(raw.to_owned()),
            redacted: redact_url(raw),
        }
    }

    /// The full URL, password included: pass it to the client library only.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    /// The URL with any password replaced by `***`: safe to log.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted)
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// A database URL and the store it selects.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    url: SecretUrl,
    kind: DatabaseKind,
}

impl DatabaseUrl {
    /// Parses a database URL; errors quote only the redacted form.
    pub fn parse(v: &str) -> Result<Self, String> {
        let shown = redact_url(v);
        let lower = v.to_ascii_lowercase();
        let kind = if lower.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            url::Url::parse(v).map_err(|_| format!("{shown:?} is not a valid PostgreSQL URL"))?;
            DatabaseKind::Postgres
        } else if lower.starts_with("mongodb://") || lower.starts_with("mongodb+srv://") {
            DatabaseKind::MongoDb
        } else {
            return Err(format!(
                "{shown:?} has an unsupported scheme (expected sqlite:, postgres://, postgresql://, mongodb:// or mongodb+srv://)"
            ));
        };
        Ok(DatabaseUrl {
            url: SecretUrl::new(v),
            kind,
        })
    }

    /// Which store the URL selects.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The SQLite database file, when the URL names one (not `sqlite::memory:`).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        if self.kind != DatabaseKind::Sqlite {
            return None;
        }
        let raw = self.url.expose();
        let rest = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        let memory = path.is_empty() || path.contains(":memory:") || raw.contains("mode=memory");
        (!memory).then(|| path.into())
    }

    /// The URL itself.
    pub fn url(&self) -> &SecretUrl {
        &self.url
    }
}

/// Parses an `smtp://` or `smtps://` URL with a host; errors quote only the redacted form.
pub(crate) fn smtp_url(v: &str) -> Result<SecretUrl, String> {
    let shown = redact_url(v);
    let url = url::Url::parse(v).map_err(|_| {
        format!("{shown:?} is not a URL (example: smtps://user:pass@smtp.example.com:465)")
    })?;
    if !matches!(url.scheme(), "smtp" | "smtps" | "smtp+starttls")
        || url.host_str().is_none_or(str::is_empty)
    {
        return Err(format!(
            "{shown:?} must be an smtp://, smtp+starttls:// or smtps:// URL with a host"
        ));
    }
    Ok(SecretUrl::new(v))
}

/// Replaces the password of `scheme://user:password@host...` and the value of any
/// `password`/`pass`/`pwd` query parameter with `***`. Works on text, so it also covers
/// URLs a URL parser would refuse (e.g. MongoDB's host lists).
pub(crate) fn redact_url(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://").map(|i| i + 3) else {
        return raw.to_owned();
    };
    let rest = &raw[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut out = raw[..scheme_end].to_owned();
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => out.push_str(&format!("{}:***", &userinfo[..colon])),
                None => out.push_str(userinfo),
            }
            out.push_str(&rest[at..authority_end]);
        }
        None => out.push_str(&rest[..authority_end]),
    }
    out.push_str(&redact_query(&rest[authority_end..]));
    out
}

fn redact_query(tail: &str) -> String {
    let Some(q) = tail.find('?') else {
        return tail.to_owned();
    };
    let (path, query) = tail.split_at(q + 1);
    let (query, fragment) = query.split_at(query.find('#').unwrap_or(query.len()));
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _))
                if matches!(k.to_ascii_lowercase().as_str(), "password" | "pass" | "pwd") =>
            {
                format!("{k}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}{}{fragment}", pairs.join("&"))
}
