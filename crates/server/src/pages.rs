//! Setting up the hosted pages from the configuration (templates are read and checked here,
//! at start-up, so a broken operator template stops the server with its variable's name).

use std::sync::Arc;

use authgate_http::pages::{Pages, PagesConfig};

use crate::config::{Config, ConfigError};
use crate::error::Error;

/// The pages to serve, or `None` with `AUTHGATE_PAGES=false`. `allowed_origins` are the
/// HTTP layer's (the public URL's origin among them): a sign-in may redirect there.
pub(crate) fn hosted_pages(
    config: &Config,
    allowed_origins: &[String],
) -> Result<Option<Arc<Pages>>, Error> {
    let settings = &config.pages;
    if !settings.enabled {
        return Ok(None);
    }
    let pages_config = PagesConfig {
        brand_name: settings.brand_name.clone(),
        logo_url: settings.brand_logo_url.clone(),
        accent: settings.brand_accent.clone(),
        app_url: settings.app_url.clone(),
        templates_dir: config.templates_dir.clone(),
    };
    let pages = Pages::new(pages_config, allowed_origins).map_err(|e| {
        Error::Config(ConfigError {
            problems: vec![format!("AUTHGATE_TEMPLATES_DIR: {e}")],
        })
    })?;
    Ok(Some(Arc::new(pages)))
}
