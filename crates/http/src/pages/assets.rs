//! The one stylesheet, served under a name carrying a hash of its content, so browsers may
//! keep it for a year and a changed accent colour or template is fetched anew.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::site::Site;
use crate::error::ApiError;
use crate::params::ApiPath;

/// The rendered stylesheet and its URL.
pub(crate) struct Stylesheet {
    /// `/assets/authgate-<hash>.css`.
    pub(crate) href: String,
    body: String,
}

impl Stylesheet {
    pub(crate) fn new(body: String) -> Stylesheet {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Stylesheet {
            href: format!("/assets/authgate-{hash}.css"),
            body,
        }
    }
}

/// `GET /assets/{file}`: the stylesheet under its current name; anything else is a 404.
pub(crate) async fn stylesheet(site: Site, ApiPath(file): ApiPath<String>) -> Response {
    let sheet = &site.pages.stylesheet;
    if sheet.href.strip_prefix("/assets/") != Some(file.as_str()) {
        return ApiError::RouteNotFound.into_response();
    }
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
    ];
    (StatusCode::OK, headers, sheet.body.clone()).into_response()
}

/// `GET /favicon.ico`: nothing (204), cached for a day, so browsers stop asking and no
/// page shows a failed request.
pub(crate) async fn favicon() -> Response {
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    (StatusCode::NO_CONTENT, [cache]).into_response()
}
