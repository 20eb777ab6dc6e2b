//! [`PagesConfig`] (what the operator set) and [`Pages`] (the pages ready to serve:
//! templates loaded and checked, stylesheet rendered, security policy built).

use std::path::PathBuf;

use axum::http::HeaderValue;

use super::assets::Stylesheet;
use super::templates::Templates;

/// How the hosted pages look and where they send people.
#[derive(Debug, Clone)]
pub struct PagesConfig {
    /// The name in titles and headings (`AUTHGATE_BRAND_NAME`).
    pub brand_name: String,
    /// An http(s) image shown above each form (`AUTHGATE_BRAND_LOGO_URL`).
    pub logo_url: Option<String>,
    /// Colour of buttons and links, `#rgb` or `#rrggbb` (`AUTHGATE_BRAND_ACCENT`); it is
    /// written into the stylesheet, so it must have been checked to be one.
    pub accent: String,
    /// The app's URL: where a sign-in without a usable `rd` lands (`AUTHGATE_APP_URL`);
    /// `None`: the account page.
    pub app_url: Option<String>,
    /// Folder with operator templates (`AUTHGATE_TEMPLATES_DIR`); the pages read its
    /// `pages/` subfolder, file by file over the built-in ones.
    pub templates_dir: Option<PathBuf>,
}

/// Why the pages could not be set up (at start-up).
#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    /// A template could not be read, parsed or rendered with sample values.
    #[error("{0}")]
    Template(String),
}

/// The pages, ready to serve.
pub struct Pages {
    pub(crate) config: PagesConfig,
    pub(crate) templates: Templates,
    pub(crate) stylesheet: Stylesheet,
    /// Origins (besides the public URL's) a sign-in may redirect to: the allowed origins
    /// and the app URL's origin.
    pub(crate) redirect_origins: Vec<String>,
    /// The `Content-Security-Policy` of every page.
    pub(crate) csp: HeaderValue,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("config", &self.config)
            .field("redirect_origins", &self.redirect_origins)
            .finish_non_exhaustive()
    }
}

impl Pages {
    /// Loads and checks the templates (built in, or the operator's from
    /// `templates_dir/pages/`), renders the stylesheet and builds the security policy.
    /// `allowed_origins` are the origins a sign-in may redirect to (the public URL's among
    /// them); the app URL's origin is added.
    pub fn new(config: PagesConfig, allowed_origins: &[String]) -> Result<Pages, PagesError> {
        let dir = config.templates_dir.as_ref().map(|d| d.join("pages"));
        let templates = Templates::load(dir.as_deref())?;
        let stylesheet = Stylesheet::new(templates.stylesheet(&config.accent)?);
        let mut redirect_origins: Vec<String> = allowed_origins.to_vec();
        if let Some(origin) = config.app_url.as_deref().and_then(origin_of) {
            if !redirect_origins.contains(&origin) {
                redirect_origins.push(origin);
            }
        }
        let csp = content_security_policy(&redirect_origins, config.logo_url.as_deref());
        let pages = Pages {
            config,
            templates,
            stylesheet,
            redirect_origins,
            csp,
        };
        pages.templates.validate(&pages)?;
        Ok(pages)
    }
}

/// `scheme://host[:port]` of an http(s) URL.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// Nothing but this origin's own stylesheet and forms: no script at all, no inline style, no
/// framing. Forms may post (and so redirect after a sign-in, which Chromium checks against
/// `form-action` too) to this origin and the redirect origins; images may come from the
/// logo's origin.
fn content_security_policy(redirect_origins: &[String], logo_url: Option<&str>) -> HeaderValue {
    let mut form_action = String::from("'self'");
    for origin in redirect_origins {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let mut img = String::from("'self'");
    if let Some(origin) = logo_url.and_then(origin_of) {
        img.push(' ');
        img.push_str(&origin);
    }
    let policy = format!(
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src {img}; \
         form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    );
    HeaderValue::from_str(&policy).expect("origins are plain ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_forms_to_the_redirect_origins_and_images_from_the_logo() {
        let csp = content_security_policy(
            &[
                "http://127.0.0.1:8080".into(),
                "https://app.example.com".into(),
            ],
            Some("https://cdn.example.com/logo.svg"),
        );
        let csp = csp.to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'self'; script-src 'none'"),
            "{csp}"
        );
        assert!(csp.contains("form-action 'self' http://127.0.0.1:8080 https://app.example.com;"));
        assert!(csp.contains("img-src 'self' https://cdn.example.com;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
    }
}
