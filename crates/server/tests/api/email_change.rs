//! Changing one's email address (issue 16): re-authenticated with the password, made only
//! when the link mailed to the new address is followed, undoable for 72 hours from the old
//! address; the other sessions end when the change is asked for. The links open pages that
//! spend nothing until their button is pressed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{unique_email, Answer, TestApp, TestUser, PASSWORD};

const WRONG: &str = "Wrong7Password";
const CONFIRM: &str = "/confirm-email-change";
const UNDO: &str = "/undo-email-change";

async fn request_change(app: &TestApp, user: &TestUser, password: &str, new_email: &str) -> Answer {
    let body = json!({ "currentPassword": password, "newEmail": new_email });
    let res = app
        .api
        .post(app.url("/api/auth/change-email"))
        .bearer_auth(&user.access)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    Answer::of(res).await
}

/// `POST /api/auth{link}` (`/confirm-email-change`, `/undo-email-change`) with `token`.
async fn follow(app: &TestApp, link: &str, token: &str) -> Answer {
    let res = app
        .api
        .post(app.url(&format!("/api/auth{link}")))
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect("request sent");
    Answer::of(res).await
}

/// The token of the mail to `to` that links to `link`, waiting up to 10 s for it.
async fn mailed_token(app: &TestApp, link: &str, to: &str) -> String {
    let marker = format!("{link}?token=");
    let footer = format!(" to {to}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let texts = app.outbox_texts(0).await;
        let found = texts
            .iter()
            .find(|t| t.contains(&marker) && t.contains(&footer));
        if let Some(text) = found {
            let start = text.find(&marker).expect("the marker") + marker.len();
            let token = text[start..].split_whitespace().next().expect("a token");
            return token.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} linking to {link}: {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn email_of(app: &TestApp, access: &str) -> (String, bool) {
    let me = Answer::of(app.me(access).await).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let verified = me.body["user"]["emailVerified"].as_bool().expect("a flag");
    (me.str("/user/email").to_owned(), verified)
}

async fn login_status(app: &TestApp, email: &str) -> StatusCode {
    app.login(&json!({ "email": email, "password": PASSWORD }))
        .await
        .status()
}

/// Asks for the change to `new_email` and follows the mailed link; panics unless both work.
async fn change_email(app: &TestApp, user: &TestUser, new_email: &str) {
    let asked = request_change(app, user, PASSWORD, new_email).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    let token = mailed_token(app, CONFIRM, new_email).await;
    let done = follow(app, CONFIRM, &token).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

#[tokio::test]
async fn asking_for_a_change_mails_the_new_address_and_changes_nothing_until_the_link_is_followed()
{
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let new_email = unique_email();

    let asked = request_change(&app, &user, PASSWORD, &new_email).await;

    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    assert!(asked.body["message"].is_string(), "{}", asked.body);
    let token = mailed_token(&app, CONFIRM, &new_email).await;
    assert_eq!(email_of(&app, &user.access).await.0, user.email);
    assert_eq!(
        login_status(&app, &new_email).await,
        StatusCode::UNAUTHORIZED
    );

    let done = follow(&app, CONFIRM, &token).await;

    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.str("/message"), "Email address changed");
    assert_eq!(
        email_of(&app, &user.access).await,
        (new_email.clone(), true),
        "the link proved the new mailbox"
    );
    assert_eq!(login_status(&app, &new_email).await, StatusCode::OK);
    assert_eq!(
        login_status(&app, &user.email).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_old_address_is_told_and_its_link_gives_the_address_back_and_signs_every_device_out() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let new_email = unique_email();
    change_email(&app, &user, &new_email).await;
    let undo = mailed_token(&app, UNDO, &user.email).await;
    let intruder = app
        .login(&json!({ "email": new_email, "password": PASSWORD }))
        .await;
    let intruder = Answer::of(intruder).await;

    let undone = follow(&app, UNDO, &undo).await;

    assert_eq!(undone.status, StatusCode::OK, "{}", undone.body);
    for access in [user.access.as_str(), intruder.str("/accessToken")] {
        Answer::of(app.me(access).await)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    assert_eq!(
        login_status(&app, &new_email).await,
        StatusCode::UNAUTHORIZED
    );
    let back = app.login_as(&user).await;
    assert_eq!(
        email_of(&app, &back.access).await,
        (user.email.clone(), true)
    );
    let again = follow(&app, UNDO, &undo).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.str("/message"), "Email address was already restored");
}

#[tokio::test]
async fn the_undo_link_dies_after_72_hours() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let new_email = unique_email();
    change_email(&app, &user, &new_email).await;
    let undo = mailed_token(&app, UNDO, &user.email).await;

    app.clock.advance(Duration::from_secs(72 * 3600 + 1));

    follow(&app, UNDO, &undo)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    assert_eq!(login_status(&app, &new_email).await, StatusCode::OK);
}

#[tokio::test]
async fn the_other_sessions_end_when_the_change_is_asked_for_and_this_one_stays() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let other_device = app.login_as(&user).await;

    let asked = request_change(&app, &user, PASSWORD, &unique_email()).await;

    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    Answer::of(app.me(&other_device.access).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_followed_link_says_so_again_and_a_newer_request_kills_the_older_link() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let (first, second) = (unique_email(), unique_email());
    request_change(&app, &user, PASSWORD, &first).await;
    let older = mailed_token(&app, CONFIRM, &first).await;
    request_change(&app, &user, PASSWORD, &second).await;
    let newer = mailed_token(&app, CONFIRM, &second).await;

    follow(&app, CONFIRM, &older)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    let done = follow(&app, CONFIRM, &newer).await;
    let again = follow(&app, CONFIRM, &newer).await;

    assert_eq!(done.str("/message"), "Email address changed");
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.str("/message"), "Email address was already changed");
    assert_eq!(email_of(&app, &user.access).await.0, second);
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_field_and_nothing_is_mailed() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let taken = app.register_user().await;

    let empty = request_change(&app, &user, "", &unique_email()).await;
    let malformed = request_change(&app, &user, PASSWORD, "not-an-address").await;
    let same = request_change(&app, &user, PASSWORD, &user.email.to_uppercase()).await;
    let wrong = request_change(&app, &user, WRONG, &unique_email()).await;
    let conflict = request_change(&app, &user, PASSWORD, &taken.email).await;
    let unauthenticated = app
        .api
        .post(app.url("/api/auth/change-email"))
        .json(&json!({ "currentPassword": PASSWORD, "newEmail": unique_email() }))
        .send()
        .await
        .expect("request sent");

    empty.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    malformed.assert_invalid_field("newEmail");
    same.assert_invalid_field("newEmail");
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    conflict.assert_error(StatusCode::CONFLICT, "email_taken");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    follow(&app, CONFIRM, "not-a-token")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    let texts = app.outbox_texts(0).await;
    assert!(
        !texts.iter().any(|t| t.contains(CONFIRM)),
        "a link was mailed: {texts:?}"
    );
    assert_eq!(email_of(&app, &user.access).await.0, user.email);
}

#[tokio::test]
async fn wrong_passwords_on_change_email_and_delete_me_count_like_login_guesses_and_are_audited() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "2"),
    ])
    .await;
    let user = app.register_user().await;
    request_change(&app, &user, WRONG, &unique_email())
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    let delete = |password: &'static str| {
        app.api
            .delete(app.url("/api/auth/me"))
            .bearer_auth(&user.access)
            .json(&json!({ "currentPassword": password }))
            .send()
    };
    Answer::of(delete(WRONG).await.expect("sent"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");

    let limited = Answer::of(delete(PASSWORD).await.expect("sent")).await;

    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
    app.service.flush().await;
    let export = app
        .api
        .get(app.url("/api/auth/me/export"))
        .bearer_auth(&user.access)
        .send()
        .await
        .expect("sent");
    let export = Answer::of(export).await;
    let failed = export.body["auditEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "reauthentication_failed")
        .count();
    assert_eq!(failed, 2, "{}", export.body);
}

#[tokio::test]
async fn the_mailed_links_open_pages_that_change_nothing_until_their_button_is_pressed() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let new_email = unique_email();
    request_change(&app, &user, PASSWORD, &new_email).await;
    let token = mailed_token(&app, CONFIRM, &new_email).await;
    let page_path = format!("{CONFIRM}?token={token}");
    let browser = app.pages();

    let shown = browser.get(&page_path).await;
    let head = app
        .api
        .head(app.url(&page_path))
        .send()
        .await
        .expect("sent");

    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.html.contains("Confirm my new address"),
        "{}",
        shown.html
    );
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(email_of(&app, &user.access).await.0, user.email);
    let done = browser
        .submit(&page_path, CONFIRM, &[("token", token.as_str())])
        .await;
    assert!(done.html.contains("Email address changed"), "{}", done.html);
    assert_eq!(email_of(&app, &user.access).await.0, new_email);

    let undo = mailed_token(&app, UNDO, &user.email).await;
    let undo_path = format!("{UNDO}?token={undo}");
    assert!(browser
        .get(&undo_path)
        .await
        .html
        .contains("Undo the change"));
    let undone = browser
        .submit(&undo_path, UNDO, &[("token", undo.as_str())])
        .await;
    assert!(
        undone.html.contains("Email address restored"),
        "{}",
        undone.html
    );
    assert_eq!(login_status(&app, &user.email).await, StatusCode::OK);
}

#[tokio::test]
async fn the_account_page_asks_for_the_change_and_names_a_wrong_password() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let browser = app.pages();
    browser.sign_in(&user.email, PASSWORD, None).await;
    let new_email = unique_email();

    let wrong = browser
        .submit(
            "/account",
            "/account/email",
            &[("newEmail", new_email.as_str()), ("emailPassword", WRONG)],
        )
        .await;
    let asked = browser
        .submit(
            "/account",
            "/account/email",
            &[
                ("newEmail", new_email.as_str()),
                ("emailPassword", PASSWORD),
            ],
        )
        .await;

    assert!(
        wrong.html.contains("Your password is incorrect"),
        "{}",
        wrong.html
    );
    assert!(
        wrong
            .html
            .contains("<a href=\"#emailPassword\">Your password</a>"),
        "{}",
        wrong.html
    );
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.html);
    assert_eq!(
        asked.header("location"),
        "/account?notice=email-change-sent"
    );
    mailed_token(&app, CONFIRM, &new_email).await;
}

#[tokio::test]
async fn the_email_change_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = Answer::of(app.get("/api/auth/openapi.json").await).await;
    for path in [
        "/api/auth/change-email",
        "/api/auth/confirm-email-change",
        "/api/auth/undo-email-change",
    ] {
        assert!(
            doc.body["paths"][path]["post"].is_object(),
            "{path} is missing"
        );
    }
}
