//! Where a sign-in goes: to `rd` when it is a path on this site or a URL on the public URL's
//! or an allowed origin (never an open redirect), else to the app's URL, else to the account
//! page.

use super::site::Site;

/// The account page, where a sign-in lands when nothing else is configured.
pub(crate) const ACCOUNT: &str = "/account";

/// The target of a sign-in asked to return to `rd`.
pub(crate) fn after_sign_in(site: &Site, rd: Option<&str>) -> String {
    rd.and_then(|rd| safe_target(site, rd))
        .or_else(|| site.pages.config.app_url.clone())
        .unwrap_or_else(|| ACCOUNT.to_owned())
}

/// `rd` if it may be followed: a same-site absolute path, or an http(s) URL whose origin is
/// among the redirect origins. Everything else (other sites, `//host`, `javascript:`,
/// control characters) is `None`.
pub(crate) fn safe_target(site: &Site, rd: &str) -> Option<String> {
    if rd.len() > 2048 || rd.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    if rd.starts_with('/') {
        // `//host` and `/\host` are other hosts to a browser.
        return (!rd.starts_with("//")).then(|| rd.to_owned());
    }
    let url = url::Url::parse(rd).ok()?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    site.pages
        .redirect_origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&origin))
        .then(|| url.to_string())
}
