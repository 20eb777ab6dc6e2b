//! The hosted pages' defences, over HTTP: every form's CSRF token and origin check, the
//! Content-Security-Policy of every page, `rd` validation (never an open redirect) and the
//! browser session's cookies.

use reqwest::StatusCode;

use crate::helpers::{cookie_attributes, cookie_value, Page, TestApp, PASSWORD};

/// Every page a person can open.
const PAGES: &[&str] = &[
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password?token=x",
    "/verify-email?token=x",
];

/// The `Location` of a sign-in posted with `rd`.
async fn landing(app: &TestApp, rd: &str) -> String {
    let user = app.register_user().await;
    let answer = app.pages().sign_in(&user.email, PASSWORD, Some(rd)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    answer.header("location").to_owned()
}

#[tokio::test]
async fn every_page_has_a_strict_content_security_policy_and_no_framing() {
    let app = TestApp::spawn_with(&[("AUTHGATE_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    for path in PAGES {
        let page = app.pages().get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{path}"
        );
        let csp = page.header("content-security-policy");
        for part in [
            "default-src 'self'",
            "script-src 'none'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            &format!(
                "form-action 'self' {} https://app.example.com;",
                app.address
            ),
        ] {
            assert!(csp.contains(part), "{path}: {csp} lacks {part}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(page.header("x-frame-options"), "DENY");
        assert_eq!(page.header("cache-control"), "no-store");
        assert!(
            !page.html.contains("<script") && !page.html.contains("style="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_sign_in_without_the_csrf_token_or_with_a_wrong_one_is_refused_and_opens_no_session() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let browser = app.pages();
    let real = browser.get("/login").await.csrf();
    let credentials = [("identifier", user.email.as_str()), ("password", PASSWORD)];

    for csrf in [
        None,
        Some("x".repeat(43)),
        // The real token with its last character changed (to one it does not already have).
        Some(format!(
            "{}{}",
            &real[..42],
            if real.ends_with('A') { 'B' } else { 'A' }
        )),
    ] {
        let mut fields = credentials.to_vec();
        if let Some(csrf) = &csrf {
            fields.push(("csrf", csrf));
        }
        let answer = browser.post("/login", &fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert!(
            answer.html.contains("did not come from this site"),
            "{}",
            answer.html
        );
        assert!(!session_cookie_set(&answer), "a session for a forged form");
    }
    let sessions = crate::helpers::Answer::of(app.sessions(&user.access).await).await;
    assert_eq!(sessions.body["sessions"].as_array().unwrap().len(), 1);

    let mut fields = credentials.to_vec();
    fields.push(("csrf", &real));
    let answer = browser.post("/login", &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    assert!(session_cookie_set(&answer));
}

#[tokio::test]
async fn a_form_posted_from_a_foreign_origin_is_refused_even_with_the_right_token() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let browser = app.pages();
    let csrf = browser.get("/login").await.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("identifier", user.email.as_str()),
        ("password", PASSWORD),
    ];
    for origin in ["https://evil.example", "null"] {
        let answer = browser.post_from("/login", &fields, Some(origin)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "Origin {origin}");
        assert!(!session_cookie_set(&answer));
    }
}

#[tokio::test]
async fn account_actions_need_the_csrf_token_too() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let other_device = app.login_as(&user).await;
    let browser = app.pages();
    browser.sign_in(&user.email, PASSWORD, None).await;

    let forged = browser
        .post("/account/sessions/end-others", &[("csrf", "nope")])
        .await;

    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.html);
    assert_eq!(app.me(&other_device.access).await.status(), StatusCode::OK);
    let csrf = browser.get("/account").await.csrf();
    let genuine = browser
        .post("/account/sessions/end-others", &[("csrf", &csrf)])
        .await;
    assert_eq!(genuine.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.me(&other_device.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn rd_is_followed_only_to_this_site_and_allowed_origins() {
    let app = TestApp::spawn_with(&[("AUTHGATE_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let on_this_site = format!("{}/account?tab=devices", app.address);
    let followed = [
        ("/account?tab=devices", on_this_site.as_str()),
        (on_this_site.as_str(), on_this_site.as_str()),
        (
            "https://app.example.com/orders?id=7",
            "https://app.example.com/orders?id=7",
        ),
    ];
    for (rd, target) in followed {
        assert_eq!(landing(&app, rd).await, target, "rd {rd}");
    }
    let ignored = [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "https://app.example.com.evil.example/",
        "https://user@app.example.com/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "http://app.example.com/",
        "/account\r\nSet-Cookie: x=1",
    ];
    for rd in ignored {
        assert_eq!(
            landing(&app, rd).await,
            "/account",
            "rd {rd:?} was followed"
        );
    }
}

#[tokio::test]
async fn without_a_usable_rd_a_sign_in_lands_on_the_app_url_whose_origin_forms_may_reach() {
    let app = TestApp::spawn_with(&[("AUTHGATE_APP_URL", "https://shop.example.com/home")]).await;
    assert_eq!(
        landing(&app, "https://evil.example/").await,
        "https://shop.example.com/home"
    );
    // The app URL is where a sign-in lands, not an allowed rd origin (that takes
    // AUTHGATE_ALLOWED_ORIGINS: the same rule as forward-auth's).
    assert_eq!(
        landing(&app, "https://shop.example.com/cart").await,
        "https://shop.example.com/home"
    );
    let csp = app
        .pages()
        .get("/login")
        .await
        .header("content-security-policy")
        .to_owned();
    assert!(csp.contains("https://shop.example.com"), "{csp}");
}

#[tokio::test]
async fn on_https_the_session_cookies_are_host_prefixed_secure_http_only_and_lax() {
    let app = TestApp::spawn_with(&[("AUTHGATE_PUBLIC_URL", "https://auth.example.com")]).await;
    let user = app.register_user().await;
    let form = Page::of(app.api.get(app.url("/login")).send().await.unwrap()).await;
    let csrf_cookie = form.set_cookies().join("\n");
    assert!(
        csrf_cookie.starts_with("__Host-authgate-csrf="),
        "{csrf_cookie}"
    );
    assert!(cookie_attributes(&csrf_cookie)
        .iter()
        .any(|a| a == "secure"));
    let csrf = form.csrf();
    let answer = app
        .api
        .post(app.url("/login"))
        .header("origin", "https://auth.example.com")
        .header("cookie", format!("__Host-authgate-csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("identifier", &user.email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let answer = Page::of(answer).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    let cookies = answer.set_cookies();
    for name in ["__Host-authgate-session=", "__Host-authgate-access="] {
        let cookie = cookies.iter().find(|c| c.starts_with(name)).expect(name);
        let attributes = cookie_attributes(cookie);
        for wanted in ["httponly", "secure", "samesite=lax", "path=/"] {
            assert!(
                attributes.iter().any(|a| a == wanted),
                "{cookie} lacks {wanted}"
            );
        }
        assert!(
            !attributes.iter().any(|a| a.starts_with("domain")),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn the_pages_session_is_a_real_session_listed_by_the_api_and_ended_by_signing_out() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let browser = app.pages();
    let answer = browser.sign_in(&user.email, PASSWORD, None).await;
    let access = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("authgate-access="))
        .expect("the access cookie");
    let access = cookie_value(&access).to_owned();

    let listed = crate::helpers::Answer::of(app.sessions(&access).await).await;
    assert_eq!(listed.status, StatusCode::OK);
    let sessions = listed.body["sessions"].as_array().unwrap();
    assert_eq!(
        sessions.len(),
        2,
        "registration's and the page's: {}",
        listed.body
    );
    assert!(sessions.iter().any(|s| s["current"] == true));

    let csrf = browser.get("/logout").await.csrf();
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.header("location"), "/login?notice=signed-out");
    assert_eq!(app.me(&access).await.status(), StatusCode::UNAUTHORIZED);
    let after = browser.get("/account").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.header("location"), "/login?rd=%2Faccount");
}

#[tokio::test]
async fn with_an_access_cookie_set_a_page_sign_in_lets_forward_auth_through_until_sign_out() {
    let app = TestApp::spawn_with(&[("AUTHGATE_ACCESS_COOKIE", "app_access")]).await;
    let user = app.register_user().await;
    let browser = app.pages();
    let signed_in = browser.sign_in(&user.email, PASSWORD, None).await;
    let cookie = signed_in
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("app_access="))
        .expect("the AUTHGATE_ACCESS_COOKIE cookie");
    let token = cookie_value(&cookie).to_owned();
    assert!(
        cookie_attributes(&cookie).iter().any(|a| a == "httponly"),
        "{cookie}"
    );
    let forward_auth = |token: String| {
        let app = &app;
        async move {
            app.api
                .get(app.url("/api/auth/forward-auth"))
                .header("cookie", format!("app_access={token}"))
                .send()
                .await
                .unwrap()
        }
    };
    let allowed = forward_auth(token.clone()).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["remote-email"], user.email.as_str());

    let csrf = browser.get("/logout").await.csrf();
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    let cleared = out
        .set_cookies()
        .into_iter()
        .any(|c| c.starts_with("app_access=;"));
    assert!(cleared, "{:?}", out.set_cookies());
    assert_eq!(forward_auth(token).await.status(), StatusCode::UNAUTHORIZED);
}

fn session_cookie_set(page: &Page) -> bool {
    page.set_cookies()
        .iter()
        .any(|c| c.contains("authgate-session=") && !cookie_value(c).is_empty())
}
