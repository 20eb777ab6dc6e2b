//! [`Site`]: what every page handler needs, extracted once: the service, the HTTP settings
//! and the loaded pages.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::config::Pages;
use crate::error::ApiError;
use crate::AppState;

/// The pages' shared state.
pub(crate) struct Site {
    pub(crate) app: AppState,
    pub(crate) pages: Arc<Pages>,
}

impl FromRequestParts<AppState> for Site {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Site::of(state)
    }
}

impl Site {
    /// The site of `state`; a 404 when the pages are off (their routes are only mounted
    /// when they are on, so this does not happen).
    pub(crate) fn of(state: &AppState) -> Result<Site, ApiError> {
        let pages = state.config.pages.clone().ok_or(ApiError::RouteNotFound)?;
        Ok(Site {
            app: state.clone(),
            pages,
        })
    }

    /// Whether cookies must be `Secure` (and may carry the `__Host-` prefix).
    pub(crate) fn https(&self) -> bool {
        self.app.config.cookie_secure
    }
}
