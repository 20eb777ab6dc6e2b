//! Parsers of the settings for browsers and other services: cookies (`SameSite`, `Domain`,
//! the access-token cookie's name), the introspection secrets and the login URL. Like
//! [`super::values`], each returns the problem as a phrase; the caller names the variable.

use authgate_http::CookieSameSite;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
