//! Forward-auth behind a real nginx (Debian's package): the README's nginx configuration, as
//! written except for the addresses, in front of authgate and of a tiny app that echoes the
//! headers it received. nginx runs as [`Nginx`] (in the foreground, killed with the test).
//!
//! Without nginx each test prints `NOT RUN: ...` and returns; under
//! `AUTHGATE_TEST_REQUIRE_ALL` a missing nginx fails instead.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::Json;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::nginx::{nginx_or_skip, Nginx};
use crate::helpers::{unique_email, Answer, TestApp, TestUser, PASSWORD};

const README: &str = include_str!("../../../../README.md");
const LOGIN: &str = "https://auth.example.com/login";
/// The addresses the README's configuration names.
const README_AUTHGATE: &str = "http://127.0.0.1:8080";
const README_APP: &str = "http://127.0.0.1:3000";
const README_LISTEN: &str = "listen 80;";

/// The `nginx` block under the README's "nginx (`auth_request`)" heading.
fn readme_nginx_config() -> String {
    let section = README
        .split("#### nginx (`auth_request`)")
        .nth(1)
        .expect("the README has an nginx (`auth_request`) section");
    let block = section
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("that section has an nginx block");
    for placeholder in [README_AUTHGATE, README_APP, README_LISTEN] {
        assert!(
            block.contains(placeholder),
            "the README's nginx block no longer has {placeholder}"
        );
    }
    block.to_owned()
}

/// The app behind nginx: answers every request with its method, URI and headers, and
/// counts the requests that reached it.
struct EchoApp {
    address: SocketAddr,
    hits: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl EchoApp {
    async fn start() -> EchoApp {
        let hits = Arc::new(AtomicUsize::new(0));
        let router = axum::Router::new().fallback(echo).with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        EchoApp {
            address,
            hits,
            server,
        }
    }
}

impl Drop for EchoApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn echo(State(hits): State<Arc<AtomicUsize>>, req: Request) -> Json<Value> {
    hits.fetch_add(1, Ordering::SeqCst);
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Json(
        json!({ "method": req.method().as_str(), "uri": req.uri().to_string(), "headers": headers }),
    )
}

/// authgate, the echo app and nginx in front of both, as the README sets them up.
struct Stack {
    authgate: TestApp,
    app: EchoApp,
    nginx: Nginx,
    /// `http://127.0.0.1:<nginx port>`: the origin the browser sees.
    origin: String,
}

impl Stack {
    async fn start() -> Option<Stack> {
        let bin = nginx_or_skip()?;
        let port = free_port();
        let origin = format!("http://127.0.0.1:{port}");
        let authgate = TestApp::spawn_with(&[
            ("AUTHGATE_LOGIN_URL", LOGIN),
            ("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1"),
            ("AUTHGATE_ALLOWED_ORIGINS", &origin),
            ("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin"),
        ])
        .await;
        let app = EchoApp::start().await;
        let server = readme_nginx_config()
            .replace(README_AUTHGATE, &authgate.address)
            .replace(README_APP, &format!("http://{}", app.address))
            .replace(README_LISTEN, &format!("listen 127.0.0.1:{port};"));
        let nginx = Nginx::start(&bin, port, &server);
        Some(Stack {
            authgate,
            app,
            nginx,
            origin,
        })
    }

    /// A request to nginx, with a bearer token (if any) and extra headers.
    async fn get(
        &self,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, bearer, headers).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .authgate
            .api
            .request(method, format!("{}{path}", self.origin));
        if let Some(bearer) = bearer {
            req = req.bearer_auth(bearer);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("sent to nginx")
    }

    fn hits(&self) -> usize {
        self.app.hits.load(Ordering::SeqCst)
    }

    /// What went wrong, for an assertion message.
    fn logs(&self) -> String {
        format!("nginx error log:\n{}", self.nginx.error_log())
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn registered(stack: &Stack, role: Option<&str>) -> TestUser {
    let email = unique_email();
    let username = email.split('@').next().expect("a local part").to_owned();
    let mut body = json!({
        "email": email, "username": username, "password": PASSWORD, "name": "Ada Lovelace"
    });
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    stack.authgate.register_with(body).await
}

const BROWSER: (&str, &str) = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");

#[tokio::test]
async fn a_good_token_reaches_the_app_with_the_remote_headers_and_spoofed_ones_are_replaced() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let user = registered(&stack, None).await;
    let me = Answer::of(stack.authgate.me(&user.access).await).await;
    let spoofed = [
        ("remote-user", "root"),
        ("remote-groups", "admin"),
        ("remote-user-id", "x"),
    ];

    let res = stack
        .get("/orders?id=7", Some(&user.access), &spoofed)
        .await;

    assert_eq!(res.status(), StatusCode::OK, "{}", stack.logs());
    let echo = Answer::of(res).await.body;
    assert_eq!(echo["uri"], "/orders?id=7");
    let headers = &echo["headers"];
    assert_eq!(
        headers["remote-user"], me.body["user"]["username"],
        "{echo}"
    );
    assert_eq!(headers["remote-email"], user.email.as_str(), "{echo}");
    assert_eq!(headers["remote-name"], "Ada Lovelace", "{echo}");
    assert_eq!(headers["remote-groups"], "user", "{echo}");
    assert_eq!(headers["remote-user-id"], user.id.as_str(), "{echo}");
    let sid = crate::helpers::jwt_part(&user.access, 1)["sid"].clone();
    assert_eq!(headers["remote-session-id"], sid, "{echo}");
    assert_eq!(stack.hits(), 1);
}

#[tokio::test]
async fn no_token_gets_401_and_never_reaches_the_app() {
    let Some(stack) = Stack::start().await else {
        return;
    };

    let res = Answer::of(
        stack
            .get("/orders", None, &[("accept", "application/json")])
            .await,
    )
    .await;

    res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(res
        .header("www-authenticate")
        .is_some_and(|v| v.contains("Bearer")));
    assert_eq!(res.header("location"), None);
    assert_eq!(stack.hits(), 0, "the app was reached");
}

#[tokio::test]
async fn a_token_whose_session_just_logged_out_gets_401_on_the_next_request() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let user = registered(&stack, None).await;
    assert_eq!(
        stack.get("/", Some(&user.access), &[]).await.status(),
        StatusCode::OK
    );

    // Logged out through the same nginx, on the app's origin.
    let out = stack
        .send(
            reqwest::Method::POST,
            "/api/auth/logout",
            Some(&user.access),
            &[],
        )
        .await;
    assert_eq!(out.status(), StatusCode::OK, "{}", stack.logs());

    let res = stack.get("/", Some(&user.access), &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        stack.hits(),
        1,
        "only the request before the logout reached the app"
    );
}

#[tokio::test]
async fn the_role_guard_refuses_an_ordinary_user_with_403_and_admits_an_administrator() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let user = registered(&stack, None).await;
    let admin = registered(&stack, Some("admin")).await;

    let refused = stack.get("/admin/users", Some(&user.access), &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{}", stack.logs());
    assert_eq!(stack.hits(), 0);

    let admitted = stack.get("/admin/users", Some(&admin.access), &[]).await;
    assert_eq!(admitted.status(), StatusCode::OK, "{}", stack.logs());
    let echo = Answer::of(admitted).await.body;
    assert_eq!(echo["headers"]["remote-groups"], "admin", "{echo}");
    assert_eq!(echo["uri"], "/admin/users");
}

#[tokio::test]
async fn a_browser_navigation_is_redirected_to_the_login_url_with_rd() {
    let Some(stack) = Stack::start().await else {
        return;
    };

    let res = stack.get("/orders?id=7", None, &[BROWSER]).await;

    assert_eq!(res.status(), StatusCode::FOUND, "{}", stack.logs());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).expect("an absolute Location");
    assert_eq!(location.split('?').next(), Some(LOGIN), "{location}");
    let rd: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "rd")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(rd, [format!("{}/orders?id=7", stack.origin)], "{location}");
    assert_eq!(stack.hits(), 0);
}

#[tokio::test]
async fn a_foreign_rd_is_dropped() {
    let Some(stack) = Stack::start().await else {
        return;
    };

    // The Host header names another site: nginx builds the original URL from it.
    let res = stack
        .get("/orders", None, &[BROWSER, ("host", "evil.example")])
        .await;

    assert_eq!(res.status(), StatusCode::FOUND, "{}", stack.logs());
    assert_eq!(res.headers()["location"].to_str().unwrap(), LOGIN);
}

#[tokio::test]
async fn a_post_with_a_body_reaches_the_app_after_the_check() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let user = registered(&stack, None).await;

    let res = stack
        .authgate
        .api
        .post(format!("{}/orders", stack.origin))
        .bearer_auth(&user.access)
        .json(&json!({ "item": "teapot" }))
        .send()
        .await
        .expect("sent");

    assert_eq!(res.status(), StatusCode::OK, "{}", stack.logs());
    let echo = Answer::of(res).await.body;
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["headers"]["remote-user-id"], user.id.as_str());
}

#[tokio::test]
async fn the_api_on_the_apps_origin_accepts_the_refresh_cookie_from_that_origin() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let user = registered(&stack, None).await;

    let res = stack
        .send(
            reqwest::Method::POST,
            "/api/auth/refresh",
            None,
            &[
                ("cookie", &format!("refreshToken={}", user.refresh)),
                ("origin", &stack.origin),
            ],
        )
        .await;

    let res = Answer::of(res).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body["accessToken"].is_string());
}
