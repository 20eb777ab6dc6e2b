//! Forward-auth for reverse proxies: the proxy asks before passing a request to the
//! application, and passes the user's identity on in `Remote-*` headers (Authelia's names).
//!
//! `GET /forward-auth` answers as Traefik's `ForwardAuth` and Caddy's `forward_auth` expect
//! (a browser that must log in gets a 302); `/auth-request` as nginx's `auth_request` expects
//! (only 2xx, 401 and 403 are meaningful to it, so the login URL rides on a 401). nginx's
//! subrequest may use the original request's method, so `/auth-request` answers any method.
//! Neither is rate limited per client IP: the proxy's address carries every user.

use std::borrow::Cow;
use std::net::SocketAddr;

use authgate_core::service::Identity;
use authgate_core::AuthError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{bearer_token, token_refused};
use crate::redirect::safe_redirect;
use crate::{cookies, AppState, HttpConfig};

/// Routes of this feature.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, any_method) = routes!(auth_request);
    OpenApiRouter::new().routes(routes!(forward_auth)).routes((
        schemas,
        paths,
        any_method.fallback(auth_request),
    ))
}

/// The query both endpoints accept.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RoleQuery {
    /// Comma list of roles; the account's current role must be one of them (else 403).
    #[allow(dead_code)]
    pub(crate) role: Option<String>,
}

/// How a browser that must log in is sent to the login page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proxy {
    /// Traefik, Caddy: a 302 is passed on to the browser.
    Redirects,
    /// nginx: only 401 and 403 count, so a 401 carries the `Location` (`error_page 401`).
    Nginx,
}

/// For Traefik `ForwardAuth` and Caddy `forward_auth`: 200 with the `Remote-*` headers for a
/// live session (access token from `Authorization: Bearer`, else from the cookie named by
/// `AUTHGATE_ACCESS_COOKIE`), 401 without one, 403 for a role not in `?role=`. A browser
/// navigation (`Accept` has `text/html`) that is not logged in gets a 302 to
/// `AUTHGATE_LOGIN_URL` with `rd`, the original URL (from `X-Forwarded-Proto`/`-Host`/`-Uri`
/// or `X-Original-URL`, believed only from `AUTHGATE_TRUSTED_PROXIES`, kept only on the
/// public URL's origin or an allowed origin).
#[utoipa::path(get, path = "/api/auth/forward-auth", tag = "protect",
    security(("bearer" = []), ("accessCookie" = [])),
    params(RoleQuery),
    responses(
        (status = 200, description = "A live session; no body, the identity is in the headers",
            headers(("Remote-User" = String, description = "username, else email"),
                ("Remote-Email" = String, description = "email, when the account has one"),
                ("Remote-Name" = String, description = "display name, when the account has one"),
                ("Remote-Groups" = String, description = "the account's role"),
                ("Remote-User-Id" = String, description = "user id"),
                ("Remote-Session-Id" = String, description = "session id"))),
        (status = 302, description = "A browser navigation without a live session, when AUTHGATE_LOGIN_URL is set: `Location: <login url>?rd=<original url>`"),
        (status = 401, description = "unauthenticated (with `WWW-Authenticate: Bearer`)", body = ErrorBody),
        (status = 403, description = "forbidden: the account's role is not one of `role`", body = ErrorBody),
        (status = 503, description = "service_unavailable: the store cannot be asked", body = ErrorBody)))]
async fn forward_auth(State(app): State<AppState>, req: Request) -> Response {
    check(&app, &req.into_parts().0, Proxy::Redirects).await
}

/// For nginx `auth_request` (any method): as `/forward-auth`, except that a browser
/// navigation without a live session gets a 401 whose `Location` is the login URL with `rd`,
/// for `error_page 401` to redirect to.
#[utoipa::path(get, path = "/api/auth/auth-request", tag = "protect",
    security(("bearer" = []), ("accessCookie" = [])),
    params(RoleQuery),
    responses(
        (status = 200, description = "A live session; no body, the identity is in the `Remote-*` headers (as for /forward-auth)",
            headers(("Remote-User" = String), ("Remote-Email" = String), ("Remote-Name" = String),
                ("Remote-Groups" = String), ("Remote-User-Id" = String), ("Remote-Session-Id" = String))),
        (status = 401, description = "unauthenticated (with `WWW-Authenticate: Bearer`); for a browser navigation with AUTHGATE_LOGIN_URL set, also `Location: <login url>?rd=<original url>`", body = ErrorBody),
        (status = 403, description = "forbidden: the account's role is not one of `role`", body = ErrorBody),
        (status = 503, description = "service_unavailable: the store cannot be asked", body = ErrorBody)))]
async fn auth_request(State(app): State<AppState>, req: Request) -> Response {
    check(&app, &req.into_parts().0, Proxy::Nginx).await
}

async fn check(app: &AppState, req: &Parts, proxy: Proxy) -> Response {
    let headers = &req.headers;
    let Some(token) = access_token(headers, &app.config) else {
        let missing = AuthError::Unauthenticated("Missing bearer token or access cookie");
        return refused(app, req, proxy, missing.into());
    };
    match app.service.identify(&token).await {
        Ok(who) => {
            let roles = required_roles(req.uri.query());
            if who.has_any_role(&roles) {
                granted(&who)
            } else {
                ApiError::from(AuthError::Forbidden("Your role may not access this"))
                    .into_response()
            }
        }
        Err(e @ AuthError::Unauthenticated(_)) => refused(app, req, proxy, token_refused(e)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The access token: the bearer token, else the configured access-token cookie.
fn access_token<'a>(headers: &'a HeaderMap, config: &HttpConfig) -> Option<Cow<'a, str>> {
    if let Some(token) = bearer_token(headers) {
        return Some(Cow::Borrowed(token));
    }
    let name = config.access_cookie.as_deref()?;
    cookies::cookie_named(headers, name).map(Cow::Owned)
}

/// The roles of every `role` parameter, comma-separated, empty items dropped.
fn required_roles(query: Option<&str>) -> Vec<String> {
    let Some(query) = query else {
        return Vec::new();
    };
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "role")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// 200, no body, the identity in the `Remote-*` headers.
fn granted(who: &Identity) -> Response {
    let user = &who.user;
    let name = user.name.clone().or_else(|| {
        let parts: Vec<&str> = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let remote_user = user.username.as_deref().or(user.email.as_deref());
    let values: [(&'static str, Option<&str>); 6] = [
        ("remote-user", remote_user),
        ("remote-email", user.email.as_deref()),
        ("remote-name", name.as_deref()),
        ("remote-groups", Some(user.role.as_str())),
        ("remote-user-id", Some(who.principal.user_id.as_str())),
        ("remote-session-id", Some(who.principal.session_id.as_str())),
    ];
    let mut res = StatusCode::OK.into_response();
    for (name, value) in values {
        // Names and emails are UTF-8 without control characters: valid header bytes.
        if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
            res.headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    res
}

/// 401; for a browser navigation with a login URL configured, the way to log in and back.
fn refused(app: &AppState, req: &Parts, proxy: Proxy, why: ApiError) -> Response {
    let mut res = why.into_response();
    let Some(location) = login_location(&app.config, req) else {
        return res;
    };
    if proxy == Proxy::Redirects {
        *res.status_mut() = StatusCode::FOUND;
        res.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    res.headers_mut().insert(header::LOCATION, location);
    res
}

/// `AUTHGATE_LOGIN_URL` with `rd` (when the original URL is known and safe), for a request
/// that is a browser navigation.
fn login_location(config: &HttpConfig, req: &Parts) -> Option<HeaderValue> {
    let login = config.login_url.as_deref()?;
    let navigation = req
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/html"));
    if !navigation {
        return None;
    }
    let mut url = url::Url::parse(login).ok()?;
    let rd = original_url(config, req).and_then(|u| safe_redirect(&u, config));
    if let Some(rd) = rd {
        url.query_pairs_mut().append_pair("rd", &rd);
    }
    HeaderValue::from_str(url.as_str()).ok()
}

/// The URL the user asked the proxy for: `X-Original-URL` (nginx), else
/// `X-Forwarded-Proto` + `X-Forwarded-Host` + `X-Forwarded-Uri` (Traefik, Caddy). Only from a
/// peer in `AUTHGATE_TRUSTED_PROXIES`: anyone else could name any URL.
fn original_url(config: &HttpConfig, req: &Parts) -> Option<String> {
    let peer = req.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !config.trusted_proxies.contains(&peer) {
        return None;
    }
    let headers = &req.headers;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(url) = text("x-original-url") {
        return Some(url.to_owned());
    }
    let proto = text("x-forwarded-proto")?;
    let host = text("x-forwarded-host")?;
    let uri = text("x-forwarded-uri").unwrap_or("/");
    uri.starts_with('/')
        .then(|| format!("{proto}://{host}{uri}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_every_role_parameter_split_on_commas() {
        assert!(required_roles(None).is_empty());
        assert!(required_roles(Some("x=1")).is_empty());
        assert_eq!(
            required_roles(Some("role=admin,%20editor&role=ops&role=")),
            ["admin", "editor", "ops"]
        );
    }
}
