//! [`Fields`]: a posted HTML form (`application/x-www-form-urlencoded`). A body that is not
//! one, or too large, gets an HTML page saying so (never a framework's plain text).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::message::{message_page, Message};
use super::site::Site;
use crate::AppState;

/// The fields of a posted form, by name (the last value wins for a repeated name).
pub(crate) struct Fields(HashMap<String, String>);

impl Fields {
    /// The field's value, if the form had it.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The field's value, or empty.
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// The field's value; `None` when absent or empty.
    pub(crate) fn non_empty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }
}

impl FromRequest<AppState> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let is_form = is_form_content_type(req.headers());
        let bytes = Bytes::from_request(req, state).await;
        let problem = match (&bytes, is_form) {
            (Ok(bytes), true) => {
                let fields = url::form_urlencoded::parse(bytes).into_owned().collect();
                return Ok(Fields(fields));
            }
            (Err(r), _) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "The form was too large.")
            }
            (Err(_), _) => (StatusCode::BAD_REQUEST, "The form could not be read."),
            (Ok(_), false) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "This address takes forms sent by a browser.",
            ),
        };
        Err(refusal(state, problem))
    }
}

fn refusal(state: &AppState, (status, text): (StatusCode, &str)) -> Response {
    match Site::of(state) {
        Ok(site) => {
            let message = Message::new("Something was wrong with the form", text)
                .next("/account", "Go to your account");
            message_page(&site, status, message, Vec::new())
        }
        Err(e) => e.into_response(),
    }
}
fn is_form_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
