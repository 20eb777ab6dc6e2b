//! Where a sign-in goes: to `rd` when [`crate::redirect::safe_redirect`] accepts it (a path
//! on this site, or a URL on the public URL's or an allowed origin: the same rule as
//! forward-auth's, never an open redirect), else to the app's URL, else to the account page.

use authgate_core::domain::ClientInfo;
use authgate_core::service::IssuedTokens;
use axum::http::HeaderMap;
use axum::response::Response;

use super::respond::{see_other, Cookies};
use super::session::{session_cookies, visit};
use super::shared::trouble;
use super::site::Site;
use crate::redirect::safe_redirect;

/// The account page, where a sign-in lands when nothing else is configured.
pub(crate) const ACCOUNT: &str = "/account";

/// The target of a sign-in asked to return to `rd`.
pub(crate) fn after_sign_in(site: &Site, rd: Option<&str>) -> String {
    rd.and_then(|rd| safe_redirect(rd, &site.app.config))
        .or_else(|| site.pages.config.app_url.clone())
        .unwrap_or_else(|| ACCOUNT.to_owned())
}

/// For a sign-in or sign-up form: `Err` with the way on when the visitor is signed in
/// already (or the visit failed), else the cookies to send with the form.
pub(crate) async fn unless_signed_in(
    site: &Site,
    headers: &HeaderMap,
    client: &ClientInfo,
    rd: Option<&str>,
) -> Result<Cookies, Response> {
    let visit = visit(site, headers, client)
        .await
        .map_err(|e| trouble(site, e))?;
    if visit.who.is_some() {
        return Err(see_other(site, &after_sign_in(site, rd), visit.cookies));
    }
    Ok(visit.cookies)
}

/// On to `rd` (see [`after_sign_in`]) with the new browser session of `tokens`.
pub(crate) fn signed_in_now(site: &Site, rd: Option<&str>, tokens: &IssuedTokens) -> Response {
    see_other(
        site,
        &after_sign_in(site, rd),
        session_cookies(site, tokens),
    )
}
