//! Settings of the hosted pages (`/login`, `/account`, ...) and of where mail links lead.

use authgate_core::mail::{MailLinks, TOKEN_PLACEHOLDER};

use super::build::Reader;
use super::values as v;

/// What the pages look like and where mails and sign-ins send people.
#[derive(Debug, Clone)]
pub struct PagesSettings {
    /// Serve the pages (`AUTHGATE_PAGES`).
    pub enabled: bool,
    /// The app's own URL, where a sign-in without `rd` lands (`AUTHGATE_APP_URL`).
    pub app_url: Option<String>,
    /// Verification link template with `{token}` (`AUTHGATE_VERIFY_URL`); `None`: the
    /// `/verify-email` page.
    pub verify_url: Option<String>,
    /// Reset link template with `{token}` (`AUTHGATE_RESET_URL`); `None`: the
    /// `/reset-password` page.
    pub reset_url: Option<String>,
    /// The name in titles and headings (`AUTHGATE_BRAND_NAME`).
    pub brand_name: String,
    /// An image shown above each form (`AUTHGATE_BRAND_LOGO_URL`).
    pub brand_logo_url: Option<String>,
    /// Buttons and links colour, `#rgb` or `#rrggbb` (`AUTHGATE_BRAND_ACCENT`).
    pub brand_accent: String,
}

impl PagesSettings {
    /// The links mails carry: the templates when set, else the pages under `public_url`.
    pub fn mail_links(&self, public_url: &str) -> MailLinks {
        let mut links = MailLinks::hosted(public_url);
        if let Some(t) = &self.verify_url {
            links = links.with_verify_template(t);
        }
        if let Some(t) = &self.reset_url {
            links = links.with_reset_template(t);
        }
        links
    }

    /// `key=value` pairs for the start-up summary.
    pub(super) fn summary(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
        vec![
            ("pages", self.enabled.to_string()),
            ("app_url", opt(&self.app_url, "(none)")),
            (
                "verify_url",
                opt(&self.verify_url, "(the /verify-email page)"),
            ),
            (
                "reset_url",
                opt(&self.reset_url, "(the /reset-password page)"),
            ),
            ("brand_name", self.brand_name.clone()),
            ("brand_logo_url", opt(&self.brand_logo_url, "(none)")),
            ("brand_accent", self.brand_accent.clone()),
        ]
    }

    /// Risky but legal combinations, as warnings.
    pub(super) fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.enabled && (self.verify_url.is_none() || self.reset_url.is_none()) {
            w.push(
                "AUTHGATE_PAGES is false but mail links still lead to authgate's pages: set AUTHGATE_VERIFY_URL and AUTHGATE_RESET_URL to your app's pages".into(),
            );
        }
        w
    }
}

/// Reads the pages' settings.
pub(super) fn read(r: &mut Reader<'_>) -> PagesSettings {
    PagesSettings {
        enabled: r.get("pages", v::boolean),
        app_url: r.opt("app_url", absolute_url),
        verify_url: r.opt("verify_url", link_template),
        reset_url: r.opt("reset_url", link_template),
        brand_name: r.get("brand_name", brand_name),
        brand_logo_url: r.opt("brand_logo_url", absolute_url),
        brand_accent: r.get("brand_accent", accent),
    }
}

/// An http(s) URL with a host and no credentials (a path and query may follow).
fn absolute_url(v: &str) -> Result<String, String> {
    let url = url::Url::parse(v)
        .map_err(|_| format!("{v:?} is not a URL (example: https://app.example.com/)"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{v:?} must be an http:// or https:// URL with a host"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{v:?} must not carry credentials"));
    }
    Ok(url.to_string())
}

/// A link template: an http(s) URL holding `{token}` exactly once.
fn link_template(v: &str) -> Result<String, String> {
    if v.matches(TOKEN_PLACEHOLDER).count() != 1 {
        return Err(format!(
            "{v:?} must contain {TOKEN_PLACEHOLDER} once (example: https://app.example.com/reset?token={TOKEN_PLACEHOLDER})"
        ));
    }
    absolute_url(&v.replace(TOKEN_PLACEHOLDER, "sample-token"))?;
    Ok(v.to_owned())
}

/// A short display name: 1 to 60 characters, no control characters.
fn brand_name(v: &str) -> Result<String, String> {
    if v.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if v.chars().count() > 60 {
        return Err(format!("{v:?} is longer than 60 characters"));
    }
    Ok(v.to_owned())
}

/// A CSS hex colour, `#rgb` or `#rrggbb` (it is written into the stylesheet, so nothing else
/// is accepted).
fn accent(v: &str) -> Result<String, String> {
    let hex = v.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(format!("{v:?} is not a colour like #1f6feb or #16b"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_templates_need_one_token_placeholder_in_an_http_url() {
        assert!(link_template("https://app.example.com/reset?token={token}").is_ok());
        assert!(link_template("https://app.example.com/verify/{token}").is_ok());
        assert!(link_template("https://app.example.com/reset").is_err());
        assert!(link_template("https://x.example/{token}/{token}").is_err());
        assert!(link_template("javascript:alert({token})").is_err());
        assert!(link_template("https://u:p@x.example/{token}").is_err());
    }

    #[test]
    fn the_accent_is_a_hex_colour_and_nothing_that_could_escape_the_stylesheet() {
        assert_eq!(accent("#1F6FEB").unwrap(), "#1f6feb");
        assert!(accent("#abc").is_ok());
        for bad in ["1f6feb", "#12345", "red", "#fff;}body{display:none", "#ggg"] {
            assert!(accent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mail_links_follow_the_templates_or_the_pages() {
        let mut p = PagesSettings {
            enabled: true,
            app_url: None,
            verify_url: None,
            reset_url: Some("https://app.example.com/r#t={token}".into()),
            brand_name: "authgate".into(),
            brand_logo_url: None,
            brand_accent: "#1f6feb".into(),
        };
        let links = p.mail_links("https://auth.example.com");
        assert_eq!(
            links.verify("T"),
            "https://auth.example.com/verify-email?token=T"
        );
        assert_eq!(links.reset("T"), "https://app.example.com/r#t=T");
        p.verify_url = Some("https://app.example.com/v/{token}".into());
        assert_eq!(
            p.mail_links("https://a.example").verify("T"),
            "https://app.example.com/v/T"
        );
    }
}
