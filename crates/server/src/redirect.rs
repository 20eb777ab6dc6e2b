//! The plain-HTTP listener of `AUTHGATE_HTTP_REDIRECT_ADDR`: every request, whatever its
//! method, host or path, is answered `308 Permanent Redirect` to the same path and query on
//! the public URL's origin (never to the request's `Host`, which a client chooses).

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// The router answering every request with a 308 to `public_origin` + path and query.
pub(crate) fn router(public_origin: String) -> Router {
    Router::new().fallback(move |uri: Uri| {
        let origin = public_origin.clone();
        async move { redirect(&origin, &uri) }
    })
}

fn redirect(origin: &str, uri: &Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    // A parsed path and query is always a valid header value; the origin alone otherwise.
    let location = HeaderValue::try_from(format!("{origin}{path}"))
        .or_else(|_| HeaderValue::try_from(format!("{origin}/")))
        .unwrap_or(HeaderValue::from_static("/"));
    (
        StatusCode::PERMANENT_REDIRECT,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_keeps_path_and_query_on_the_public_origin() {
        let uri: Uri = "/api/auth/me?x=1".parse().unwrap();
        let res = redirect("https://auth.example.com", &uri);
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            res.headers()[header::LOCATION],
            "https://auth.example.com/api/auth/me?x=1"
        );
        let absolute: Uri = "http://evil.example/login".parse().unwrap();
        let res = redirect("https://auth.example.com", &absolute);
        assert_eq!(
            res.headers()[header::LOCATION],
            "https://auth.example.com/login"
        );
    }
}
