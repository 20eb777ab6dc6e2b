//! The hosted pages' flows over HTTP: verification links that survive mail scanners (the
//! API's `GET` is idempotent for a verified address, `HEAD` and the page spend nothing),
//! mails whose links all lead to real pages, link templates for an app's own pages,
//! operator templates and branding, and the API's limits applied to the pages.

use authgate_core::store::TokenPurpose;
use reqwest::StatusCode;

use crate::helpers::{Answer, TestApp, PASSWORD};

async fn head(app: &TestApp, path: &str) -> StatusCode {
    app.api.head(app.url(path)).send().await.unwrap().status()
}

async fn email_verified(app: &TestApp, access: &str) -> bool {
    Answer::of(app.me(access).await).await.body["user"]["emailVerified"] == true
}

#[tokio::test]
async fn a_verification_link_opened_twice_says_verified_the_second_time() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let token = app
        .issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;

    let first = Answer::of(app.verify_email(&token).await).await;
    let second = Answer::of(app.verify_email(&token).await).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["message"], "Email verified successfully");
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["message"], "Email is already verified");
}

#[tokio::test]
async fn head_on_a_verification_link_spends_nothing_and_tells_what_get_would() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let token = app
        .issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;
    let path = format!("/api/auth/verify-email/{token}");

    for _ in 0..3 {
        assert_eq!(head(&app, &path).await, StatusCode::OK);
    }
    assert!(
        !email_verified(&app, &user.access).await,
        "HEAD verified the address"
    );
    let res = Answer::of(app.verify_email(&token).await).await;
    assert_eq!(
        res.body["message"], "Email verified successfully",
        "{}",
        res.body
    );
    assert_eq!(
        head(&app, &path).await,
        StatusCode::OK,
        "verified: still fine"
    );
    assert_eq!(
        head(
            &app,
            "/api/auth/verify-email/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        )
        .await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_used_link_of_an_unverified_address_is_still_invalid() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let older = app
        .issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;
    // A newer link supersedes (uses up) the older one; the address is not verified.
    app.issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;

    Answer::of(app.verify_email(&older).await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    assert_eq!(
        head(&app, &format!("/api/auth/verify-email/{older}")).await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn opening_the_verify_and_reset_pages_spends_nothing_and_the_button_verifies() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let token = app
        .issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;
    let page = format!("/verify-email?token={token}");
    let browser = app.pages();

    assert_eq!(head(&app, &page).await, StatusCode::OK);
    let shown = browser.get(&page).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown
        .html
        .contains(&format!("name=\"token\" value=\"{token}\"")));
    assert!(
        !email_verified(&app, &user.access).await,
        "opening the page verified"
    );

    let done = browser
        .post(
            "/verify-email",
            &[("csrf", &shown.csrf()), ("token", &token)],
        )
        .await;
    assert!(
        done.html.contains("Email address verified"),
        "{}",
        done.html
    );
    assert!(email_verified(&app, &user.access).await);

    let reset = app
        .issue_token(&user.email, TokenPurpose::ResetPassword)
        .await;
    let reset_page = format!("/reset-password?token={reset}");
    assert_eq!(head(&app, &reset_page).await, StatusCode::OK);
    assert_eq!(browser.get(&reset_page).await.status, StatusCode::OK);
    let used = app.reset_password(&reset, "Difference9Engine").await;
    assert_eq!(
        used.status(),
        StatusCode::OK,
        "opening the reset page spent its token"
    );
}

#[tokio::test]
async fn link_templates_point_mails_at_the_apps_own_pages() {
    let app = TestApp::spawn_with(&[
        (
            "AUTHGATE_VERIFY_URL",
            "https://app.example.com/verify/{token}",
        ),
        (
            "AUTHGATE_RESET_URL",
            "https://app.example.com/reset#token={token}",
        ),
    ])
    .await;
    let user = app.register_user().await;
    assert_eq!(
        app.forgot_password(&user.email).await.status(),
        StatusCode::OK
    );
    app.service.flush().await;

    let mails = app.outbox_texts(2).await;
    let verify = mails
        .iter()
        .find(|m| m.contains("confirm your email"))
        .expect("verification");
    let reset = mails
        .iter()
        .find(|m| m.contains("reset the password"))
        .expect("reset");
    assert!(
        verify.contains("https://app.example.com/verify/"),
        "{verify}"
    );
    assert!(
        reset.contains("https://app.example.com/reset#token="),
        "{reset}"
    );
    assert!(verify.contains("valid for 24 hours"), "{verify}");
    assert!(reset.contains("valid for 1 hour "), "{reset}");
}

#[tokio::test]
async fn every_link_in_the_mails_leads_to_a_real_page() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    assert_eq!(
        app.forgot_password(&user.email).await.status(),
        StatusCode::OK
    );
    let changed = app
        .change_password(&user.access, PASSWORD, "Difference9Engine")
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    app.service.flush().await;

    let mails = app.outbox_texts(3).await;
    assert_eq!(mails.len(), 3, "{mails:?}");
    let browser = app.pages();
    for mail in &mails {
        let links: Vec<&str> = mail
            .split_whitespace()
            .filter(|w| w.starts_with(&app.address))
            .collect();
        assert!(!links.is_empty(), "no link in {mail}");
        for link in links {
            let mut page = browser.get(&link[app.address.len()..]).await;
            while page.status == StatusCode::SEE_OTHER {
                page = browser.get(page.header("location")).await;
            }
            assert_eq!(page.status, StatusCode::OK, "{link}: {}", page.html);
            assert!(
                page.header("content-type").starts_with("text/html"),
                "{link}"
            );
        }
    }
}

#[tokio::test]
async fn operator_templates_replace_pages_one_file_at_a_time_and_branding_applies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pages")).unwrap();
    std::fs::write(
        dir.path().join("pages/forgot_password.html"),
        "{% extends \"layout.html\" %}{% block content %}<p>Ask the front desk.</p>{% endblock %}",
    )
    .unwrap();
    let templates = dir.path().display().to_string();
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_TEMPLATES_DIR", &templates),
        ("AUTHGATE_BRAND_NAME", "Example <Corp>"),
        ("AUTHGATE_BRAND_ACCENT", "#C0FFEE"),
        (
            "AUTHGATE_BRAND_LOGO_URL",
            "https://cdn.example.com/logo.svg",
        ),
    ])
    .await;
    let browser = app.pages();

    let forgot = browser.get("/forgot-password").await;
    assert!(
        forgot.html.contains("Ask the front desk."),
        "{}",
        forgot.html
    );
    let login = browser.get("/login").await;
    assert!(
        login.html.contains("Sign in · Example &lt;Corp&gt;"),
        "escaped brand"
    );
    assert!(login
        .html
        .contains("<img src=\"https://cdn.example.com/logo.svg\""));
    assert!(login
        .header("content-security-policy")
        .contains("img-src 'self' https://cdn.example.com;"));
    let href = between(&login.html, "rel=\"stylesheet\" href=\"", "\"");
    let css = browser.get(&href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert_eq!(
        css.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(css.html.contains("--accent: #c0ffee;"), "{}", css.html);
    assert_eq!(
        browser
            .get("/assets/authgate-000000000000.css")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_broken_page_template_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pages")).unwrap();
    std::fs::write(dir.path().join("pages/login.html"), "{{ no_such_thing }}").unwrap();
    let mut env = std::collections::HashMap::new();
    env.insert(
        "AUTHGATE_TEMPLATES_DIR".to_owned(),
        dir.path().display().to_string(),
    );
    env.insert("AUTHGATE_BIND".to_owned(), "127.0.0.1:0".to_owned());
    env.insert(
        "AUTHGATE_DATABASE_URL".to_owned(),
        "sqlite::memory:".to_owned(),
    );
    let config = authgate_server::Config::from_sources(None, &env).unwrap();
    let err = authgate_server::App::build(config)
        .await
        .err()
        .expect("a start-up error");
    let text = err.to_string();
    assert!(
        text.contains("AUTHGATE_TEMPLATES_DIR") && text.contains("login.html"),
        "{text}"
    );
}

#[tokio::test]
async fn the_public_url_itself_leads_to_the_account_page_or_the_sign_in() {
    let app = TestApp::spawn().await;
    let browser = app.pages();
    let root = browser.get("/").await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.header("location"), "/account");
    let account = browser.get("/account").await;
    assert_eq!(account.header("location"), "/login?rd=%2Faccount");
}

#[tokio::test]
async fn with_pages_off_their_paths_are_the_apis_404() {
    let app = TestApp::spawn_with(&[("AUTHGATE_PAGES", "false")]).await;
    for path in ["/", "/login", "/account", "/verify-email?token=x"] {
        Answer::of(app.get(path).await)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn page_sign_ins_count_against_the_apis_login_limit() {
    let app = TestApp::spawn_with(&[("AUTHGATE_RATE_LIMIT_LOGIN", "3/min")]).await;
    let user = app.register_user().await;
    let browser = app.pages();
    for _ in 0..2 {
        let refused = browser.sign_in(&user.email, "Wrong7Password", None).await;
        assert!(
            refused.html.contains("Invalid email or password"),
            "{}",
            refused.html
        );
    }
    app.login_as(&user).await;

    let limited = browser.sign_in(&user.email, PASSWORD, None).await;

    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.html
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        limited.html.contains("Too many requests"),
        "{}",
        limited.html
    );
}

#[tokio::test]
async fn a_sign_in_answers_an_unknown_account_and_a_wrong_password_alike() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let browser = app.pages();
    let unknown = browser
        .sign_in("nobody@example.com", "Wrong7Password", None)
        .await;
    let wrong = browser.sign_in(&user.email, "Wrong7Password", None).await;
    assert_eq!(unknown.status, wrong.status);
    let strip = |p: &crate::helpers::Page, login: &str| {
        p.html.replace(login, "LOGIN").replace(&p.csrf(), "CSRF")
    };
    assert_eq!(
        strip(&unknown, "nobody@example.com"),
        strip(&wrong, &user.email)
    );
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect("the start marker") + start.len();
    let to = text[from..].find(end).expect("the end marker") + from;
    text[from..to].to_owned()
}
