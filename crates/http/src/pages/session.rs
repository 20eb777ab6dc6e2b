//! The pages' browser session: a real session of the service (listed in `/account` and
//! `GET /sessions`), carried by two HttpOnly cookies: the session's refresh token and its
//! current access token. A page checks the access token (`AuthService::authenticate`, the
//! same check as every API request); once it has expired, the refresh token is rotated
//! (`AuthService::refresh`, the same rotation and reuse detection as `POST /refresh`) and
//! both cookies are renewed.

use authgate_core::domain::ClientInfo;
use authgate_core::service::IssuedTokens;
use authgate_core::tokens::Principal;
use authgate_core::AuthError;
use axum::http::HeaderMap;

use super::cookie_jar;
use super::respond::Cookies;
use super::site::Site;
use crate::cookies;

/// The cookie holding the session's refresh token.
const SESSION_COOKIE: &str = "authgate-session";
/// The cookie holding the session's access token.
const ACCESS_COOKIE: &str = "authgate-access";

/// Who is signed in on this browser, if anyone, and the cookies to send back (renewed
/// tokens, or removals once the session is over).
pub(crate) struct Visit {
    pub(crate) who: Option<Principal>,
    pub(crate) cookies: Cookies,
}

/// The visitor's session, renewing its tokens when the access token has expired. `Err`
/// only for failures that are not about the session (the store is down, rate limited).
pub(crate) async fn visit(
    site: &Site,
    headers: &HeaderMap,
    client: &ClientInfo,
) -> Result<Visit, AuthError> {
    let https = site.https();
    let service = &site.app.service;
    if let Some(access) = cookie_jar::get(headers, ACCESS_COOKIE, https) {
        match service.authenticate(&access).await {
            Ok(who) => return Ok(signed_in(who, Vec::new())),
            Err(e) if !is_about_the_session(&e) => return Err(e),
            Err(_) => {}
        }
    }
    let Some(refresh) = cookie_jar::get(headers, SESSION_COOKIE, https) else {
        return Ok(signed_out(Vec::new()));
    };
    match service.refresh(&refresh, client).await {
        Ok(tokens) => {
            let who = service.authenticate(&tokens.access_token).await?;
            Ok(signed_in(who, session_cookies(site, &tokens)))
        }
        Err(e) if is_about_the_session(&e) => Ok(signed_out(clear_session_cookies(site))),
        Err(e) => Err(e),
    }
}

fn signed_in(who: Principal, cookies: Cookies) -> Visit {
    Visit {
        who: Some(who),
        cookies,
    }
}

fn signed_out(cookies: Cookies) -> Visit {
    Visit { who: None, cookies }
}

/// Whether `e` means "no usable session" rather than a failure to find out.
fn is_about_the_session(e: &AuthError) -> bool {
    matches!(
        e,
        AuthError::Unauthenticated(_)
            | AuthError::InvalidRefreshToken
            | AuthError::RefreshTokenReused
            | AuthError::EmailNotVerified
    )
}

/// The cookies that carry a session opened or renewed with `tokens`, plus the access token
/// in the `AUTHGATE_ACCESS_COOKIE` cookie when one is configured (forward-auth reads it to
/// protect a server-rendered app behind the same proxy).
pub(crate) fn session_cookies(site: &Site, tokens: &IssuedTokens) -> Cookies {
    let https = site.https();
    let config = &site.app.config;
    let forward_auth = cookies::set_access_cookie(config, &tokens.access_token, tokens.expires_in);
    let mut set = vec![
        cookie_jar::set(
            SESSION_COOKIE,
            tokens.refresh_token.expose(),
            Some(tokens.refresh_expires_in),
            https,
        ),
        cookie_jar::set(
            ACCESS_COOKIE,
            &tokens.access_token,
            Some(tokens.expires_in),
            https,
        ),
    ];
    set.extend(forward_auth);
    set
}

/// The cookies that end the browser session.
pub(crate) fn clear_session_cookies(site: &Site) -> Cookies {
    let https = site.https();
    let mut clear = vec![
        cookie_jar::clear(SESSION_COOKIE, https),
        cookie_jar::clear(ACCESS_COOKIE, https),
    ];
    clear.extend(cookies::clear_access_cookie(&site.app.config));
    clear
}
