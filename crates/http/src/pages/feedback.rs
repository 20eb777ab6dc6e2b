//! [`Failure`]: a refused form, as the page shows it. The status, the sentences and the
//! per-field problems are the API's (the same `AuthError` from the same flow, mapped by the
//! same `ApiError`), so a page never words a rule differently from the JSON route.

use authgate_core::AuthError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::view::{FieldErrors, PageView};
use crate::error::auth_status;

/// The status of a page showing a refusal the API answers with `api_status`. A refusal
/// the person acts on (a field to correct, a wrong password, a taken address, a dead link)
/// is a page like any other: 200, so the browser logs no failed load. Only what a client or
/// proxy must see keeps its status: rate limiting (429 with `Retry-After`), a busy or
/// unavailable server (503) and internal errors (500).
fn page_status(api_status: StatusCode) -> StatusCode {
    if api_status.is_client_error() && api_status != StatusCode::TOO_MANY_REQUESTS {
        StatusCode::OK
    } else {
        api_status
    }
}

/// Why a form was refused.
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    /// The form-level sentence.
    pub(crate) message: String,
    pub(crate) errors: FieldErrors,
    fields: Vec<super::view::FieldRef>,
    /// Seconds to wait, for `Retry-After` (rate limits).
    retry_after: Option<u64>,
}

impl Failure {
    /// The page's version of the API's answer to `e`.
    pub(crate) fn from_auth(e: AuthError) -> Failure {
        let (api_status, _, message) = auth_status(&e);
        let status = page_status(api_status);
        let retry_after = match &e {
            AuthError::RateLimited {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            _ => None,
        };
        let mut failure = Failure {
            status,
            message,
            errors: FieldErrors::default(),
            fields: Vec::new(),
            retry_after,
        };
        match e {
            AuthError::Validation { details, .. } => {
                failure.message = "Please correct the problems below.".into();
                for (field, problems) in details {
                    failure.add(&field, problems);
                }
            }
            AuthError::Conflict { field } => {
                failure.add(field, vec!["is already registered".into()])
            }
            AuthError::WrongCurrentPassword => {
                failure.add("currentPassword", vec!["is incorrect".into()])
            }
            AuthError::Internal(cause) => {
                tracing::error!(%cause, "internal error on a page");
                failure.message = "Something went wrong on our side. Please try again.".into();
            }
            AuthError::StoreUnavailable(cause) => tracing::error!(%cause, "store unavailable"),
            _ => {}
        }
        failure
    }

    /// A form whose CSRF token or origin did not check out.
    pub(crate) fn forged() -> Failure {
        Failure {
            status: StatusCode::FORBIDDEN,
            message: "This form expired or did not come from this site. Please try again.".into(),
            errors: FieldErrors::default(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// Puts `problems` under the form field the API calls `field` (or, for a field no
    /// form has, into the form-level sentence).
    fn add(&mut self, field: &str, problems: Vec<String>) {
        match self.errors.slot(field) {
            Some((list, reference)) => {
                list.extend(problems);
                if !self.fields.iter().any(|f| f.id == reference.id) {
                    self.fields.push(reference);
                }
            }
            None => {
                for p in problems {
                    self.message.push_str(&format!(" {field} {p}."));
                }
            }
        }
    }

    /// Writes the failure into `view`.
    pub(crate) fn show_in(&self, view: &mut PageView) {
        view.error = Some(self.message.clone());
        view.errors = self.errors.clone();
        view.error_fields = self.fields.clone();
    }

    /// Adds `Retry-After` to a rate-limited answer.
    pub(crate) fn decorate(&self, mut res: Response) -> Response {
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
