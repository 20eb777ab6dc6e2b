//! `/account`: the signed-in user's profile, devices (each can be signed out, or all but
//! this one), password change, email change and a new verification link. Each action is the
//! API's flow: `list_sessions`, `revoke_session`, `end_other_sessions`, `change_password`,
//! `request_email_change`, `resend_verification`.

use authgate_core::domain::ClientInfo;
use authgate_core::tokens::Principal;
use authgate_core::AuthError;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::csrf;
use super::device;
use super::feedback::Failure;
use super::form::Fields;
use super::respond::{see_other, Cookies};
use super::session::{clear_session_cookies, visit};
use super::shared::{form_page, notice, param, trouble, with_rd};
use super::site::Site;
use super::templates::Page;
use super::view::{PageView, SessionRow};
use crate::extract::Client;

const TITLE: &str = "Your account";

/// `GET /account[?notice=...]`.
pub(crate) async fn show(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (who, cookies) = match signed_in(&site, &headers, &client).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let notice = notice(param(query.as_deref(), "notice").as_deref());
    account_page(&site, &headers, &who, None, notice, cookies).await
}

/// `POST /account/sessions/end`: signs out one other device (this one: see `/logout`).
pub(crate) async fn end_session(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let (who, cookies) = match genuine_visit(&site, &headers, &client, &fields).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let id = fields.text("session");
    if id == who.session_id.as_str() {
        return see_other(&site, "/logout", cookies);
    }
    match site.app.service.revoke_session(&who, &id, &client).await {
        Ok(()) => see_other(&site, "/account?notice=session-ended", cookies),
        Err(e) => refused(&site, &headers, &who, e, cookies).await,
    }
}

/// `POST /account/sessions/end-others`: "sign out everywhere else".
pub(crate) async fn end_other_sessions(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let (who, cookies) = match genuine_visit(&site, &headers, &client, &fields).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    match site.app.service.end_other_sessions(&who, &client).await {
        Ok(_) => see_other(&site, "/account?notice=others-ended", cookies),
        Err(e) => refused(&site, &headers, &who, e, cookies).await,
    }
}

/// `POST /account/password`: changes the password; every session ends, this one too.
pub(crate) async fn change_password(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let (who, cookies) = match genuine_visit(&site, &headers, &client, &fields).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let current = Some(SecretString::from(fields.text("currentPassword")));
    let new = Some(SecretString::from(fields.text("newPassword")));
    match site
        .app
        .service
        .change_password(&who, current, new, &client)
        .await
    {
        Ok(()) => see_other(
            &site,
            "/login?notice=password-changed",
            clear_session_cookies(&site),
        ),
        Err(e) => refused(&site, &headers, &who, e, cookies).await,
    }
}

/// `POST /account/email`: mails a confirmation link to the new address; other devices are
/// signed out.
pub(crate) async fn change_email(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let (who, cookies) = match genuine_visit(&site, &headers, &client, &fields).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let password = Some(SecretString::from(fields.text("emailPassword")));
    let new_email = fields.text("newEmail");
    match site
        .app
        .service
        .request_email_change(&who, password, Some(&new_email), &client)
        .await
    {
        Ok(()) => see_other(&site, "/account?notice=email-change-sent", cookies),
        Err(e) => refused(&site, &headers, &who, for_email_form(e), cookies).await,
    }
}

/// The flow's refusal addressed to the change-email form's fields, `newEmail` and
/// `emailPassword` (the password form on the same page has the `currentPassword` field).
fn for_email_form(e: AuthError) -> AuthError {
    match e {
        AuthError::Conflict { field: "email" } => {
            AuthError::field("newEmail", "is already registered")
        }
        AuthError::WrongCurrentPassword => AuthError::field("emailPassword", "is incorrect"),
        AuthError::Validation {
            message,
            mut details,
        } => {
            if let Some(problems) = details.remove("currentPassword") {
                details.insert("emailPassword".to_owned(), problems);
            }
            AuthError::Validation { message, details }
        }
        other => other,
    }
}

/// `POST /account/verification`: mails a new verification link.
pub(crate) async fn resend_verification(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let (who, cookies) = match genuine_visit(&site, &headers, &client, &fields).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    match site.app.service.resend_verification(&who, &client).await {
        Ok(()) => see_other(&site, "/account?notice=verification-sent", cookies),
        Err(e) => refused(&site, &headers, &who, e, cookies).await,
    }
}

/// The account page again, naming why `who`'s action was refused.
async fn refused(
    site: &Site,
    headers: &HeaderMap,
    who: &Principal,
    e: AuthError,
    cookies: Cookies,
) -> Response {
    account_page(
        site,
        headers,
        who,
        Some(Failure::from_auth(e)),
        None,
        cookies,
    )
    .await
}

/// The signed-in visitor, or the answer for one who is not: to the sign-in page, back here
/// afterwards.
async fn signed_in(
    site: &Site,
    headers: &HeaderMap,
    client: &ClientInfo,
) -> Result<(Principal, Cookies), Response> {
    match visit(site, headers, client).await {
        Ok(v) => match v.who {
            Some(who) => Ok((who, v.cookies)),
            None => Err(see_other(
                site,
                &with_rd("/login", Some("/account")),
                v.cookies,
            )),
        },
        Err(e) => Err(trouble(site, e)),
    }
}

/// The signed-in visitor of a genuine form post.
async fn genuine_visit(
    site: &Site,
    headers: &HeaderMap,
    client: &ClientInfo,
    fields: &Fields,
) -> Result<(Principal, Cookies), Response> {
    let (who, cookies) = signed_in(site, headers, client).await?;
    if !csrf::is_genuine(site, headers, fields) {
        return Err(
            account_page(site, headers, &who, Some(Failure::forged()), None, cookies).await,
        );
    }
    Ok((who, cookies))
}

/// The account page of `who`, showing `failure` if an action was refused.
async fn account_page(
    site: &Site,
    headers: &HeaderMap,
    who: &Principal,
    failure: Option<Failure>,
    notice: Option<String>,
    cookies: Cookies,
) -> Response {
    let service = &site.app.service;
    let (user, sessions) = match (service.me(who).await, service.list_sessions(who).await) {
        (Ok(user), Ok(sessions)) => (user, sessions),
        (Err(e), _) | (_, Err(e)) => return trouble(site, e),
    };
    let status = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let fill = |view: &mut PageView| {
        if let Some(failure) = &failure {
            failure.show_in(view);
        }
        view.notice = notice;
        view.member_since = when(user.created_at);
        view.user = Some(user.into());
        view.sessions = sessions
            .into_iter()
            .map(|s| SessionRow {
                device: device::describe(s.session.user_agent.as_deref()),
                ip: s.session.ip.clone().unwrap_or_else(|| "unknown".into()),
                created: when(s.session.created_at),
                last_used: when(s.session.last_used_at),
                current: s.current,
                id: s.session.id.into_string(),
            })
            .collect();
    };
    let res = form_page(site, headers, (Page::Account, TITLE), status, fill, cookies);
    match &failure {
        Some(f) => f.decorate(res),
        None => res,
    }
}

/// A time as the page shows it: `2025-01-02 13:45 UTC`.
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
