//! Parsers of the settings for browsers and other services: cookies (`SameSite`, `Domain`,
//! the access-token cookie's name), the introspection secrets and the login URL. Like
//! [`super::values`], each returns the problem as a phrase; the caller names the variable.

use authgate_http::CookieSameSite;
use secrecy::SecretString;

use super::values::list;

/// Fewest bytes in an introspection secret (as many as an HS256 key).
pub(crate) const MIN_INTROSPECTION_SECRET_BYTES: usize = 32;

/// `lax`, `strict` or `none`.
pub(crate) fn same_site(v: &str) -> Result<CookieSameSite, String> {
    match v.to_ascii_lowercase().as_str() {
        "lax" => Ok(CookieSameSite::Lax),
        "strict" => Ok(CookieSameSite::Strict),
        "none" => Ok(CookieSameSite::None),
        _ => Err(format!("{v:?} is not one of lax, strict, none")),
    }
}

/// A domain name for the cookies' `Domain` attribute (`example.com`; a leading dot is
/// dropped, as browsers ignore it), lower-cased.
pub(crate) fn cookie_domain(v: &str) -> Result<String, String> {
    let domain = v.strip_prefix('.').unwrap_or(v).to_ascii_lowercase();
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if domain.is_empty() || domain.len() > 253 || !labels_ok {
        return Err(format!(
            "{v:?} is not a domain name (example: example.com, to share the cookies with its subdomains)"
        ));
    }
    Ok(domain)
}

/// Whether a cookie with `Domain=domain` is accepted by a browser on `host`: the host is the
/// domain or one of its subdomains.
pub(crate) fn domain_matches(host: &str, domain: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// A comma list of shared secrets, each at least 32 bytes. Messages name a secret by its
/// position, never by its value.
pub(crate) fn introspection_secrets(v: &str) -> Result<Vec<SecretString>, String> {
    let items = list(v);
    if items.is_empty() {
        return Err("lists no secret (unset it to turn introspection off)".into());
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.len() < MIN_INTROSPECTION_SECRET_BYTES {
            return Err(format!(
                "secret {} of {} is too short ({} bytes); each needs at least \
                 {MIN_INTROSPECTION_SECRET_BYTES} random bytes, e.g. from `openssl rand -base64 48`",
                i + 1,
                items.len(),
                item.len()
            ));
        }
        if !item.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "secret {} of {} has characters other than visible ASCII (it travels in an \
                 Authorization header)",
                i + 1,
                items.len()
            ));
        }
        out.push(SecretString::from((*item).to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn same_site_takes_the_three_values_in_any_case() {
        assert_eq!(same_site("Lax"), Ok(CookieSameSite::Lax));
        assert_eq!(same_site("strict"), Ok(CookieSameSite::Strict));
        assert_eq!(same_site("NONE"), Ok(CookieSameSite::None));
        assert!(same_site("no").unwrap_err().contains("lax, strict, none"));
    }

    #[test]
    fn cookie_domains_are_host_names_and_match_their_subdomains() {
        assert_eq!(cookie_domain(".Example.com").as_deref(), Ok("example.com"));
        for bad in [
            "",
            "exa mple.com",
            "https://example.com",
            "example.com:443",
            "-a.com",
            "a..b",
        ] {
            assert!(cookie_domain(bad).is_err(), "{bad:?}");
        }
        assert!(domain_matches("auth.example.com", "example.com"));
        assert!(domain_matches("example.com", "example.com"));
        assert!(!domain_matches("badexample.com", "example.com"));
        assert!(!domain_matches("example.org", "example.com"));
    }

    #[test]
    fn introspection_secrets_are_a_list_of_long_secrets_never_echoed() {
        let long = "s".repeat(32);
        let other = "t".repeat(40);
        let parsed = introspection_secrets(&format!(" {long} , {other} ")).unwrap();
        let parsed: Vec<&str> = parsed.iter().map(|s| s.expose_secret()).collect();
        assert_eq!(parsed, [long.as_str(), other.as_str()]);
        let problem = introspection_secrets(&format!("{long},short-secret")).unwrap_err();
        assert!(
            problem.contains("secret 2 of 2 is too short (12 bytes)"),
            "{problem}"
        );
        assert!(!problem.contains("short-secret"), "{problem}");
        assert!(introspection_secrets(" , ").is_err());
    }
}
