//! Path and query extractors whose refusals are the contract's JSON: a value that does not
//! decode (`%FF`, not UTF-8) or parse (`limit=abc`) is 400 `validation_error` naming the
//! parameter, never axum's plain-text rejection with its internals.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The route's path parameters (axum's [`Path`], with [`ApiError`] refusals).
pub struct ApiPath<T>(pub T);

/// The query string (`?a=1&b=2`), deserialized; 400 naming the parameter that does not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_problem(rejection)),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

/// Deserializes a query string, naming the offending parameter on failure.
pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let field = match err.path().to_string() {
            p if p == "." => "query".to_owned(),
            p => p,
        };
        ApiError::WrongShape {
            field,
            problem: short_problem(&err.into_inner().to_string()),
        }
    })
}

fn path_problem(rejection: PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
        return ApiError::WrongShape {
            field: "path".into(),
            problem: "is missing a parameter".into(),
        };
    };
    let (field, problem) = match failed.into_kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => {
            (key, "is not valid UTF-8 once percent-decoded".to_owned())
        }
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => (key, format!("is not a valid {expected_type}")),
        ErrorKind::DeserializeError { key, message, .. } => (key, short_problem(&message)),
        ErrorKind::ParseError { expected_type, .. } => {
            ("path".to_owned(), format!("is not a valid {expected_type}"))
        }
        _ => ("path".to_owned(), "does not parse".to_owned()),
    };
    ApiError::WrongShape { field, problem }
}

/// A deserializer's message, cut to a readable length (it may quote the client's value).
fn short_problem(message: &str) -> String {
    message
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Page {
        #[allow(dead_code)]
        limit: Option<u32>,
    }

    #[test]
    fn a_query_value_of_the_wrong_type_names_its_parameter() {
        match parse_query::<Page>("limit=abc") {
            Err(ApiError::WrongShape { field, .. }) => assert_eq!(field, "limit"),
            other => panic!("{other:?}"),
        }
        assert!(parse_query::<Page>("limit=5").is_ok());
        assert!(parse_query::<Page>("").is_ok());
    }
}
