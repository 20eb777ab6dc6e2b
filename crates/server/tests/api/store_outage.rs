//! A database that goes away under a running server: every request that needs it gets a
//! 503 JSON error (never a 500 or a hang), `/ready` says so, nothing is half-written, and
//! the server serves again once the database is back, without a restart. PostgreSQL, reached
//! through a TCP proxy the test can cut.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authgate_store_sql::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{unique_email, Answer, TestApp, PASSWORD};

/// Forwards 127.0.0.1:<port> to the database until cut; while cut, new connections are
/// closed at once and the open ones have been dropped.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let up = Arc::new(AtomicBool::new(true));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (up2, links2) = (up.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().unwrap().push(link.abort_handle());
            }
        })
        .abort_handle();
        Proxy {
            port,
            up,
            links,
            accept,
        }
    }

    /// The database is gone: open connections die, new ones are refused.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// `postgres://user@host:port/db?...` with host and port replaced by the proxy's.
fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').expect("a database path");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let proxied = format!("{scheme}://{userinfo}127.0.0.1:{port}/{path}");
    (proxied, hostport.to_owned())
}

async fn wait_until_ready(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/ready").await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "/ready never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_database_that_goes_away_gets_503s_and_the_server_recovers_when_it_is_back() {
    let Some(db) = TestDatabase::create("HTTP store outage (postgres)").await else {
        return;
    };
    let (_, upstream) = through(db.url(), 0);
    let proxy = Proxy::start(upstream).await;
    let (url, _) = through(db.url(), proxy.port);
    let app = TestApp::spawn_with(&[("AUTHGATE_DATABASE_URL", &url)]).await;
    let user = app.register_user().await;
    let login = json!({ "email": user.email, "password": user.password });
    let newcomer = json!({ "email": unique_email(), "password": PASSWORD, "name": "Late Larry" });

    proxy.cut();

    let started = Instant::now();
    let ready = Answer::of(app.get("/ready").await).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.body
    );
    assert_eq!(ready.body["status"], "unavailable", "{}", ready.body);
    Answer::of(app.login(&login).await)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    Answer::of(app.register(&newcomer).await)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    Answer::of(app.me(&user.access).await)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the refusals took {:?}",
        started.elapsed()
    );

    proxy.restore();
    wait_until_ready(&app).await;

    let again = Answer::of(app.login(&login).await).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let registered = Answer::of(app.register(&newcomer).await).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "the refused registration left something behind: {}",
        registered.body
    );
}
