//! Where a sign-in goes: to `rd` when [`crate::redirect::safe_redirect`] accepts it (a path
//! on this site, or a URL on the public URL's or an allowed origin: the same rule as
//! forward-auth's, never an open redirect), else to the app's URL, else to the account page.

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
