//! A mixed load over several nodes (register, login, `/me`, refresh), run by a few clients at
//! once, that keeps a ledger of what the nodes acknowledged and of every request that went
//! wrong; and the check afterwards that nothing acknowledged was lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{unique_email, PASSWORD};

/// How a client treats a request that got no HTTP answer (the connection failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnNoAnswer {
    /// Send it again to the next target (clients of nodes that may die).
    RetryElsewhere,
    /// Count it as a failure (clients of a load balancer that must hide restarts).
    Fail,
}

/// Settings that make a node cheap to load on a shared two-core machine: a light hash and no
/// rate limits (every client comes from 127.0.0.1).
pub(crate) const LOAD_SETTINGS: [(&str, &str); 3] = [
    ("AUTHGATE_HASH_MEMORY_KIB", "1024"),
    ("AUTHGATE_HASH_ITERATIONS", "1"),
    ("AUTHGATE_RATE_LIMIT_ENABLED", "false"),
];

/// What the clients learned.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Emails whose registration a node acknowledged (201, or 409 on a retry after the first
    /// attempt's answer was lost: that attempt was written).
    pub(crate) users: Vec<String>,
    /// For each session, the refresh token a node handed out last.
    pub(crate) refresh_tokens: Vec<String>,
    /// Requests that got an HTTP answer.
    pub(crate) answered: usize,
    /// Requests sent again to another target after no answer, and which target failed.
    pub(crate) retries: Vec<usize>,
    /// Of those, the ones that failed on an open connection (cut mid-request, or a pooled
    /// connection the crash closed) rather than being refused: the ones a crash could have
    /// half done.
    pub(crate) cut_mid_request: usize,
    /// Everything that went wrong (a wrong status, no answer where that fails).
    pub(crate) failures: Vec<String>,
}

/// A running load: `clients` tasks sending to `targets` until [`Load::stop`].
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `clients` clients, client `i` beginning at target `i % targets.len()` and
    /// moving to the next target with every request.
    pub(crate) fn start(targets: &[String], clients: usize, on_no_answer: OnNoAnswer) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let tasks = (0..clients)
            .map(|i| {
                let client = Client {
                    http: reqwest::Client::builder()
                        .timeout(Duration::from_secs(20))
                        .build()
                        .expect("a client"),
                    targets: targets.to_vec(),
                    next: i % targets.len(),
                    on_no_answer,
                    ledger: ledger.clone(),
                };
                tokio::spawn(client.run(stop.clone()))
            })
            .collect();
        Load {
            stop,
            ledger,
            tasks,
        }
    }

    /// Requests answered so far (to wait until the load is really running).
    pub(crate) fn answered(&self) -> usize {
        self.ledger.lock().unwrap().answered
    }

    /// Lets every client finish its current user and returns the ledger.
    pub(crate) async fn stop(self) -> Ledger {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("a load client panicked");
        }
        let mut ledger = self.ledger.lock().unwrap();
        std::mem::take(&mut *ledger)
    }

    /// Waits until at least `more` further requests were answered.
    pub(crate) async fn run_for_requests(&self, more: usize) {
        let target = self.answered() + more;
        while self.answered() < target {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One client: a user at a time, registered, logged in, then `/me` and refresh in turns.
struct Client {
    http: reqwest::Client,
    targets: Vec<String>,
    next: usize,
    on_no_answer: OnNoAnswer,
    ledger: Arc<Mutex<Ledger>>,
}

/// An HTTP answer, and whether it came after a retry.
struct Reply {
    status: StatusCode,
    body: Value,
    retried: bool,
}

impl Client {
    async fn run(mut self, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::SeqCst) {
            self.one_user().await;
        }
    }

    async fn one_user(&mut self) {
        let email = unique_email();
        let body = json!({ "email": email, "password": PASSWORD, "name": "Load Lovelace" });
        let Some(reg) = self
            .send(Method::POST, "/api/auth/register", &body, None)
            .await
        else {
            return;
        };
        // A 409 on a retry: the attempt whose answer was lost had written the user.
        let acknowledged = reg.status == StatusCode::CREATED
            || (reg.retried && reg.status == StatusCode::CONFLICT);
        if !self.expect(acknowledged, "register", &reg) {
            return;
        }
        self.ledger.lock().unwrap().users.push(email.clone());
        let login = json!({ "email": email, "password": PASSWORD });
        let Some(session) = self
            .send(Method::POST, "/api/auth/login", &login, None)
            .await
        else {
            return;
        };
        if !self.expect(session.status == StatusCode::OK, "login", &session) {
            return;
        }
        let mut access = text(&session.body, "accessToken");
        let mut refresh = text(&session.body, "refreshToken");
        let slot = {
            let mut ledger = self.ledger.lock().unwrap();
            ledger.refresh_tokens.push(refresh.clone());
            ledger.refresh_tokens.len() - 1
        };
        for _ in 0..3 {
            let Some(me) = self
                .send(Method::GET, "/api/auth/me", &json!({}), Some(&access))
                .await
            else {
                return;
            };
            if !self.expect(me.status == StatusCode::OK, "/me", &me) {
                return;
            }
            let body = json!({ "refreshToken": refresh });
            let Some(next) = self
                .send(Method::POST, "/api/auth/refresh", &body, None)
                .await
            else {
                return;
            };
            if !self.expect(next.status == StatusCode::OK, "refresh", &next) {
                return;
            }
            access = text(&next.body, "accessToken");
            refresh = text(&next.body, "refreshToken");
            self.ledger.lock().unwrap().refresh_tokens[slot] = refresh.clone();
        }
    }

    /// Records a failure unless `ok`; returns `ok`.
    fn expect(&self, ok: bool, what: &str, reply: &Reply) -> bool {
        if !ok {
            let retried = if reply.retried {
                " (after a retry)"
            } else {
                ""
            };
            self.ledger
                .lock()
                .unwrap()
                .failures
                .push(format!("{what}{retried}: {} {}", reply.status, reply.body));
        }
        ok
    }

    /// Sends to the next target; after a connection failure, to the following ones in turn
    /// (or records a failure, per [`OnNoAnswer`]). `None` when no target answered.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: &Value,
        bearer: Option<&str>,
    ) -> Option<Reply> {
        let mut retried = false;
        for _ in 0..self.targets.len() * 2 {
            let target = self.next;
            self.next = (self.next + 1) % self.targets.len();
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.targets[target]));
            if method != Method::GET {
                req = req.json(body);
            }
            if let Some(token) = bearer {
                req = req.bearer_auth(token);
            }
            match read(req).await {
                Ok((status, body)) => {
                    self.ledger.lock().unwrap().answered += 1;
                    return Some(Reply {
                        status,
                        body,
                        retried,
                    });
                }
                Err(e) => {
                    let mut ledger = self.ledger.lock().unwrap();
                    if self.on_no_answer == OnNoAnswer::Fail {
                        ledger
                            .failures
                            .push(format!("{method} {path}: no answer: {e}"));
                        return None;
                    }
                    ledger.retries.push(target);
                    ledger.cut_mid_request += usize::from(!e.is_connect());
                    retried = true;
                }
            }
        }
        let mut ledger = self.ledger.lock().unwrap();
        ledger
            .failures
            .push(format!("{method} {path}: no target answered"));
        None
    }
}

/// Status and JSON body, or why there was no complete answer.
async fn read(req: reqwest::RequestBuilder) -> Result<(StatusCode, Value), reqwest::Error> {
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

fn text(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

/// Checks through `node` (a base URL) that every acknowledged user logs in and every
/// session's last refresh token still refreshes; returns what did not.
pub(crate) async fn lost_writes(node: &str, ledger: &Ledger) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut lost = Vec::new();
    for email in &ledger.users {
        let login = json!({ "email": email, "password": PASSWORD });
        let res = http
            .post(format!("{node}/api/auth/login"))
            .json(&login)
            .send()
            .await
            .expect("the check's login was answered");
        if res.status() != StatusCode::OK {
            lost.push(format!("{email} cannot log in: {}", res.status()));
        }
    }
    for (i, token) in ledger.refresh_tokens.iter().enumerate() {
        let res = http
            .post(format!("{node}/api/auth/refresh"))
            .json(&json!({ "refreshToken": token }))
            .send()
            .await
            .expect("the check's refresh was answered");
        if res.status() != StatusCode::OK {
            let body = res.text().await.unwrap_or_default();
            lost.push(format!("session {i}'s last refresh token: {body}"));
        }
    }
    lost
}
