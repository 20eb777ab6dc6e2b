//! The admin API beyond disable/enable: finding accounts, showing one, changing its role,
//! erasing it, its sessions, reset links, the audit trail across users, and every refusal
//! (non-admin 403, unknown id 404, bad cursor or filter 400, last admin 409).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{unique_email, Answer, TestApp, TestUser, PASSWORD};

/// An app where `admin` may be self-assigned, with an administrator and an ordinary user.
async fn app_with_admin() -> (TestApp, TestUser, TestUser) {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin"),
        ("AUTHGATE_ROLES", "user,admin,editor"),
    ])
    .await;
    let admin = app
        .register_with(
            json!({ "email": unique_email(), "password": PASSWORD, "name": "Root", "role": "admin" }),
        )
        .await;
    let user = app.register_user().await;
    (app, admin, user)
}

/// `method path` with `access` as bearer and an optional JSON body.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    access: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = app.api.request(method, app.url(path)).bearer_auth(access);
    if let Some(body) = body {
        req = req.json(&body);
    }
    Answer::of(req.send().await.expect("request sent")).await
}

async fn get(app: &TestApp, path: &str, access: &str) -> Answer {
    call(app, Method::GET, path, access, None).await
}

fn user_path(user: &TestUser) -> String {
    format!("/api/auth/admin/users/{}", user.id)
}

const UNKNOWN: &str = "01900000-0000-7000-8000-000000000000";

#[tokio::test]
async fn users_are_found_by_email_prefix_in_any_case_and_paged_with_a_cursor() {
    let (app, admin, _user) = app_with_admin().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let email = format!("Pager{i}.{}", unique_email());
        let body = json!({ "email": email, "password": PASSWORD, "name": "P" });
        ids.push(app.register_with(body).await.id);
    }

    let mut seen = Vec::new();
    let mut path = "/api/auth/admin/users?query=PAGER&limit=2".to_owned();
    loop {
        let page = get(&app, &path, &admin.access).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let users = page.body["users"].as_array().unwrap();
        assert!(users.len() <= 2);
        seen.extend(users.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/auth/admin/users?query=pager&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every match once, in creation order");
    let admins = get(&app, "/api/auth/admin/users?role=admin", &admin.access).await;
    assert_eq!(admins.body["users"].as_array().unwrap().len(), 1);
    assert_eq!(admins.str("/users/0/id"), admin.id);
    assert_eq!(admins.body["users"][0]["disabled"], false);
}

#[tokio::test]
async fn a_bad_cursor_limit_or_filter_returns_400_naming_it() {
    let (app, admin, _user) = app_with_admin().await;
    for (query, field) in [
        ("cursor=not-a-cursor", "cursor"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("disabled=maybe", "disabled"),
        ("role=Not%20A%20Role", "role"),
    ] {
        let res = get(
            &app,
            &format!("/api/auth/admin/users?{query}"),
            &admin.access,
        )
        .await;
        res.assert_error(StatusCode::BAD_REQUEST, "validation_error");
        res.assert_invalid_field(field);
    }
    let audit = get(&app, "/api/auth/admin/audit?cursor=eDox", &admin.access).await;
    audit.assert_invalid_field("cursor");
    let since = get(&app, "/api/auth/admin/audit?since=yesterday", &admin.access).await;
    since.assert_invalid_field("since");
    // A cursor of the user list is not one of the audit trail.
    let page = get(&app, "/api/auth/admin/users?limit=1", &admin.access).await;
    let cursor = page.str("/nextCursor").to_owned();
    let other = get(
        &app,
        &format!("/api/auth/admin/audit?cursor={cursor}"),
        &admin.access,
    )
    .await;
    other.assert_invalid_field("cursor");
}

#[tokio::test]
async fn a_user_who_is_not_an_administrator_gets_403_from_every_admin_route() {
    let (app, admin, user) = app_with_admin().await;
    let target = user_path(&admin);
    let routes = [
        (Method::GET, "/api/auth/admin/users".to_owned(), None),
        (Method::GET, target.clone(), None),
        (
            Method::PATCH,
            target.clone(),
            Some(json!({ "role": "user" })),
        ),
        (Method::DELETE, target.clone(), None),
        (Method::GET, format!("{target}/sessions"), None),
        (Method::DELETE, format!("{target}/sessions"), None),
        (Method::DELETE, format!("{target}/sessions/{UNKNOWN}"), None),
        (Method::POST, format!("{target}/send-reset"), None),
        (Method::GET, "/api/auth/admin/audit".to_owned(), None),
    ];
    for (method, path, body) in routes {
        let res = call(&app, method.clone(), &path, &user.access, body).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            res.body
        );
        res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let me = Answer::of(app.me(&admin.access).await).await;
    assert_eq!(me.str("/user/role"), "admin", "nothing was changed");
}

#[tokio::test]
async fn unknown_user_ids_return_404_from_every_route_that_names_one() {
    let (app, admin, _user) = app_with_admin().await;
    let target = format!("/api/auth/admin/users/{UNKNOWN}");
    let routes = [
        (Method::GET, target.clone(), None),
        (Method::PATCH, target.clone(), Some(json!({ "name": "X" }))),
        (Method::DELETE, target.clone(), None),
        (Method::GET, format!("{target}/sessions"), None),
        (Method::DELETE, format!("{target}/sessions"), None),
        (Method::DELETE, format!("{target}/sessions/{UNKNOWN}"), None),
        (Method::POST, format!("{target}/send-reset"), None),
    ];
    for (method, path, body) in routes {
        let res = call(&app, method.clone(), &path, &admin.access, body).await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            res.body
        );
        res.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn showing_a_user_gives_their_live_session_count_and_last_login() {
    let (app, admin, user) = app_with_admin().await;
    app.login_as(&user).await;

    let res = get(&app, &user_path(&user), &admin.access).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.str("/user/id"), user.id);
    assert_eq!(res.body["sessionCount"], 2);
    assert!(res.body["user"]["lastLoginAt"].is_string());
    assert_eq!(res.body["user"]["disabled"], false);
}

#[tokio::test]
async fn a_promotion_takes_effect_on_the_users_next_request_with_the_same_token() {
    let (app, admin, user) = app_with_admin().await;
    get(&app, "/api/auth/admin/users", &user.access)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let res = call(
        &app,
        Method::PATCH,
        &user_path(&user),
        &admin.access,
        Some(json!({ "role": "admin" })),
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.str("/user/role"), "admin");
    let now = get(&app, "/api/auth/admin/users", &user.access).await;
    assert_eq!(
        now.status,
        StatusCode::OK,
        "the old token now administers: {}",
        now.body
    );
    let me = Answer::of(app.me(&user.access).await).await;
    assert_eq!(me.str("/user/role"), "admin");
}

#[tokio::test]
async fn a_demotion_takes_effect_on_the_next_request_and_unknown_roles_are_refused() {
    let (app, admin, user) = app_with_admin().await;
    let path = user_path(&user);
    call(
        &app,
        Method::PATCH,
        &path,
        &admin.access,
        Some(json!({ "role": "admin" })),
    )
    .await;
    let back = call(
        &app,
        Method::PATCH,
        &path,
        &admin.access,
        Some(json!({ "role": "editor" })),
    )
    .await;
    assert_eq!(back.str("/user/role"), "editor");
    get(&app, "/api/auth/admin/users", &user.access)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let unknown = call(
        &app,
        Method::PATCH,
        &path,
        &admin.access,
        Some(json!({ "role": "wizard" })),
    )
    .await;
    unknown.assert_error(StatusCode::BAD_REQUEST, "validation_error");
    unknown.assert_invalid_field("role");
}

#[tokio::test]
async fn name_and_verified_flag_can_be_changed_and_are_audited_with_the_admins_id() {
    let (app, admin, user) = app_with_admin().await;
    let body = json!({ "name": "Countess Lovelace", "emailVerified": true });

    let res = call(
        &app,
        Method::PATCH,
        &user_path(&user),
        &admin.access,
        Some(body),
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.str("/user/name"), "Countess Lovelace");
    assert_eq!(res.body["user"]["emailVerified"], true);
    app.service.flush().await;
    let path = format!("/api/auth/admin/audit?type=user_updated&user={}", user.id);
    let trail = get(&app, &path, &admin.access).await;
    let detail = trail.body["events"][0]["detail"].to_string();
    assert!(detail.contains(&admin.id), "{}", trail.body);
    assert_eq!(trail.str("/events/0/userId"), user.id);
}

#[tokio::test]
async fn the_last_administrator_cannot_be_demoted_and_a_disabled_one_does_not_count() {
    let (app, admin, user) = app_with_admin().await;
    let own = call(
        &app,
        Method::PATCH,
        &user_path(&admin),
        &admin.access,
        Some(json!({ "role": "user" })),
    )
    .await;
    own.assert_error(StatusCode::CONFLICT, "last_admin");

    // A second administrator, disabled: still the last enabled one.
    let path = user_path(&user);
    call(
        &app,
        Method::PATCH,
        &path,
        &admin.access,
        Some(json!({ "role": "admin" })),
    )
    .await;
    let off = call(
        &app,
        Method::POST,
        &format!("{path}/disable"),
        &admin.access,
        None,
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let again = call(
        &app,
        Method::PATCH,
        &user_path(&admin),
        &admin.access,
        Some(json!({ "role": "user" })),
    )
    .await;
    again.assert_error(StatusCode::CONFLICT, "last_admin");

    // Once the second one is enabled, the first may step down.
    call(
        &app,
        Method::POST,
        &format!("{path}/enable"),
        &admin.access,
        None,
    )
    .await;
    let down = call(
        &app,
        Method::PATCH,
        &user_path(&admin),
        &admin.access,
        Some(json!({ "role": "user" })),
    )
    .await;
    assert_eq!(down.status, StatusCode::OK, "{}", down.body);
}

#[tokio::test]
async fn deleting_a_user_kills_their_tokens_frees_their_email_and_keeps_their_audit_by_id() {
    let (app, admin, user) = app_with_admin().await;
    let device = app.login_as(&user).await;

    let res = call(&app, Method::DELETE, &user_path(&user), &admin.access, None).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    Answer::of(app.me(&user.access).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    Answer::of(app.refresh_body(&device.refresh).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    get(&app, &user_path(&user), &admin.access)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let again = json!({ "email": user.email, "password": PASSWORD, "name": "New" });
    app.register_with(again).await;
    app.service.flush().await;
    let trail = get(
        &app,
        &format!("/api/auth/admin/audit?user={}", user.id),
        &admin.access,
    )
    .await;
    let kinds: Vec<&str> = trail.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"user_deleted") && kinds.contains(&"register"),
        "{kinds:?}"
    );
    assert!(
        !trail.body.to_string().contains(&user.email),
        "no email in the kept trail"
    );
}

#[tokio::test]
async fn an_administrator_cannot_delete_their_own_account_through_the_admin_api() {
    let (app, admin, _user) = app_with_admin().await;
    let res = call(
        &app,
        Method::DELETE,
        &user_path(&admin),
        &admin.access,
        None,
    )
    .await;
    res.assert_error(StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(app.me(&admin.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_users_sessions_are_listed_and_ended_one_or_all_at_once() {
    let (app, admin, user) = app_with_admin().await;
    let second = app.login_as(&user).await;
    let third = app.login_as(&user).await;
    let path = format!("{}/sessions", user_path(&user));

    let listed = get(&app, &path, &admin.access).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let sessions = listed.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    let newest = sessions[0]["id"].as_str().unwrap().to_owned();

    let one = call(
        &app,
        Method::DELETE,
        &format!("{path}/{newest}"),
        &admin.access,
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(
        app.me(&third.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&second.access).await.status(), StatusCode::OK);
    let gone = call(
        &app,
        Method::DELETE,
        &format!("{path}/{newest}"),
        &admin.access,
        None,
    )
    .await;
    gone.assert_error(StatusCode::NOT_FOUND, "not_found");

    let all = call(&app, Method::DELETE, &path, &admin.access, None).await;
    assert_eq!(all.body["revoked"], 2, "{}", all.body);
    assert_eq!(
        app.me(&second.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn send_reset_mails_a_working_link_and_can_end_every_session() {
    let (app, admin, user) = app_with_admin().await;
    let path = format!("{}/send-reset", user_path(&user));

    let res = call(
        &app,
        Method::POST,
        &path,
        &admin.access,
        Some(json!({ "endSessions": true })),
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Waits for the reset mail itself: both registrations' verification mails may come first.
    let reset = app
        .outbox_text_containing("reset-password?token=")
        .await
        .expect("a reset mail");
    let token = reset
        .split("reset-password?token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let done = Answer::of(app.reset_password(token, "Babbage1Difference").await).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

#[tokio::test]
async fn the_audit_trail_across_users_is_filtered_by_type_and_user_and_paged() {
    let (app, admin, user) = app_with_admin().await;
    let bad = json!({ "email": user.email, "password": "Wrong1Password" });
    for _ in 0..3 {
        app.login(&bad).await;
    }
    app.service.flush().await;

    let failed = get(
        &app,
        "/api/auth/admin/audit?type=login_failed&limit=2",
        &admin.access,
    )
    .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    let events = failed.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e["type"] == "login_failed" && e["userId"] == user.id.as_str()));
    let cursor = failed.str("/nextCursor");
    let rest = get(
        &app,
        &format!("/api/auth/admin/audit?type=login_failed&limit=2&cursor={cursor}"),
        &admin.access,
    )
    .await;
    assert_eq!(
        rest.body["events"].as_array().unwrap().len(),
        1,
        "{}",
        rest.body
    );

    let of_admin = get(
        &app,
        &format!("/api/auth/admin/audit?user={}", admin.id),
        &admin.access,
    )
    .await;
    let events = of_admin.body["events"].as_array().unwrap();
    assert!(!events.is_empty() && events.iter().all(|e| e["userId"] == admin.id.as_str()));
}

#[tokio::test]
async fn every_admin_route_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = Answer::of(app.get("/api/auth/openapi.json").await).await;
    let paths = &doc.body["paths"];
    for (path, method) in [
        ("/api/auth/admin/users", "get"),
        ("/api/auth/admin/users/{id}", "get"),
        ("/api/auth/admin/users/{id}", "patch"),
        ("/api/auth/admin/users/{id}", "delete"),
        ("/api/auth/admin/users/{id}/sessions", "get"),
        ("/api/auth/admin/users/{id}/sessions", "delete"),
        ("/api/auth/admin/users/{id}/sessions/{sid}", "delete"),
        ("/api/auth/admin/users/{id}/send-reset", "post"),
        ("/api/auth/admin/audit", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is missing");
        assert!(
            op["responses"]["403"].is_object(),
            "{method} {path} lists no 403"
        );
    }
}

/// `who` gives up the administrator role.
async fn step_down(app: &TestApp, who: &TestUser) -> Answer {
    let body = Some(json!({ "role": "user" }));
    call(app, Method::PATCH, &user_path(who), &who.access, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_administrators_stepping_down_at_the_same_instant_leave_one_administrator() {
    let (app, first, second) = app_with_admin().await;
    let promote = Some(json!({ "role": "admin" }));
    let promoted = call(
        &app,
        Method::PATCH,
        &user_path(&second),
        &first.access,
        promote,
    )
    .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);

    for round in 0..5 {
        let (a, b) = tokio::join!(step_down(&app, &first), step_down(&app, &second));

        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "round {round}: {} / {}",
            a.body,
            b.body
        );
        let (stayed, left) = if a.status == StatusCode::OK {
            (&second, &first)
        } else {
            (&first, &second)
        };
        let promote = Some(json!({ "role": "admin" }));
        let back = call(
            &app,
            Method::PATCH,
            &user_path(left),
            &stayed.access,
            promote,
        )
        .await;
        assert_eq!(back.status, StatusCode::OK, "round {round}: {}", back.body);
    }
}
