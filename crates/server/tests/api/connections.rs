//! Clients that hold connections instead of using them (issue 14, defect 2): half-sent
//! headers are closed after `AUTHGATE_HEADER_READ_TIMEOUT`, and past
//! `AUTHGATE_MAX_CONNECTIONS` a new connection gets a 503 in the contract's JSON instead of
//! an accept error, while everyone else is still served. Real sockets, real timeouts.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Answer, TestApp};

/// The `host:port` the test server listens on.
fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Whether the server closes `socket` (end of file or a reset) before `deadline`.
async fn closed_before(socket: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// `GET /health` from a new client, so on a new connection. A pooled keep-alive connection
/// would race the header read timeout, which also closes idle keep-alive connections: a
/// request written as the server closes it fails in the client, which says nothing about the
/// server.
async fn served_on_a_new_connection(app: &TestApp) -> reqwest::Response {
    app.browser()
        .get(app.url("/health"))
        .send()
        .await
        .expect("an answer")
}

/// Opens a keep-alive connection and completes one `GET /health` on it, so the server has
/// certainly accepted it; returns the open socket.
async fn held_connection(addr: &str) -> TcpStream {
    let mut socket = TcpStream::connect(addr).await.expect("a connection");
    socket
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("a request written");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&head).contains("\r\n\r\n") {
        let n = socket.read(&mut buf).await.expect("an answer");
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_half_sent_headers_are_closed_after_the_timeout_while_others_are_served() {
    let app = TestApp::spawn_with(&[("AUTHGATE_HEADER_READ_TIMEOUT", "1s")]).await;
    let addr = host_port(&app);
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut socket = TcpStream::connect(&addr).await.expect("a connection");
        socket
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .expect("half a header written");
        slow.push(socket);
    }

    let res = served_on_a_new_connection(&app).await;
    assert_eq!(res.status(), StatusCode::OK);

    // One second of timeout plus a generous margin for a loaded machine; without a header
    // read timeout they stay open forever.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut still_open = 0;
    for socket in &mut slow {
        if !closed_before(socket, deadline).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "half-sent headers still open after 15 s");
    let res = served_on_a_new_connection(&app).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_sends_anything_is_closed_after_the_timeout() {
    let app = TestApp::spawn_with(&[("AUTHGATE_HEADER_READ_TIMEOUT", "1s")]).await;
    let mut silent = TcpStream::connect(host_port(&app))
        .await
        .expect("a connection");

    let closed = closed_before(&mut silent, Instant::now() + Duration::from_secs(15)).await;

    assert!(closed, "a silent connection was still open after 15 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_the_next_connection_gets_503_overloaded_in_json() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_MAX_CONNECTIONS", "3"),
        ("AUTHGATE_HEADER_READ_TIMEOUT", "30s"),
    ])
    .await;
    let addr = host_port(&app);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(held_connection(&addr).await);
    }

    let refused = Answer::of(
        app.api
            .get(app.url("/health"))
            .send()
            .await
            .expect("an answer"),
    )
    .await;

    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["code"], "overloaded", "{}", refused.body);
    assert!(refused.body["message"].is_string(), "{}", refused.body);
    assert_eq!(refused.headers["retry-after"], "1");
    assert!(refused.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    // A slot freed is a slot served (the server notices the close asynchronously).
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let fresh = reqwest::Client::new();
        let res = fresh
            .get(app.url("/health"))
            .send()
            .await
            .expect("an answer");
        if res.status() == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still refused after a connection closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
