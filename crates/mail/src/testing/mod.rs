//! Test helpers (feature `testing`): a real SMTP server (Python `aiosmtpd`) as a child
//! process storing mail in a Maildir, and a reader for what it received. The server speaks
//! plain SMTP by default; [`SmtpTestOptions`] turn on STARTTLS or implicit TLS (with a CA and
//! certificate generated for the test, see [`SmtpTestServer::ca_file`]) and required AUTH.
//!
//! The Python interpreter is `AUTHGATE_TEST_PYTHON` if set, else the workspace's
//! `target/test-venv/bin/python`, else `python3`, whichever can import `aiosmtpd`. Set it up
//! with `python3 -m venv target/test-venv && target/test-venv/bin/pip install aiosmtpd`.
//! Without it, [`SmtpTestServer::new`] prints `NOT RUN: SMTP tests (aiosmtpd not found)` and
//! returns `None` (the test returns early), or panics when `AUTHGATE_TEST_REQUIRE_ALL` is set.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use authgate_mail::testing::SmtpTestServer;
//! let Some(smtp) = SmtpTestServer::launch().await else { return };
//! // ... configure the code under test with smtp.url() and make it send ...
//! let mail = smtp.wait_for_mail("ada@example.com", Duration::from_secs(10)).await;
//! assert_eq!(mail.subject, "Confirm your email address");
//! # }
//! ```

use std::collections::HashSet;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

mod certificates;
mod parsed_mail;

pub use parsed_mail::ParsedMail;

use crate::SmtpSecurity;
use certificates::TestCertificates;

/// The server script: aiosmtpd with optional TLS and AUTH, exiting when its stdin closes.
const LAUNCHER: &str = include_str!("smtp_server.py");

/// How a [`SmtpTestServer`] protects its port and whom it lets send.
#[derive(Debug, Clone)]
pub struct SmtpTestOptions {
    /// Plain SMTP, STARTTLS (required before MAIL and AUTH), or implicit TLS.
    pub security: SmtpSecurity,
    /// With a user name and password, AUTH is required and accepts only this pair.
    pub credentials: Option<(String, String)>,
}

impl Default for SmtpTestOptions {
    /// Plain SMTP without AUTH.
    fn default() -> Self {
        SmtpTestOptions {
            security: SmtpSecurity::None,
            credentials: None,
        }
    }
}

impl SmtpTestOptions {
    /// TLS of kind `security` and AUTH with `user` and `password`.
    pub fn tls_with_auth(security: SmtpSecurity, user: &str, password: &str) -> Self {
        SmtpTestOptions {
            security,
            credentials: Some((user.to_owned(), password.to_owned())),
        }
    }
}

/// A Python interpreter that can run `aiosmtpd`, if there is one (looked up once).
pub fn smtp_python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = workspace_root().join("target/test-venv/bin/python");
            let candidates = match std::env::var_os("AUTHGATE_TEST_PYTHON") {
                Some(p) => vec![PathBuf::from(p)],
                None => vec![venv, PathBuf::from("python3")],
            };
            candidates.into_iter().find(|p| can_import_aiosmtpd(p))
        })
        .clone()
}

fn can_import_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A port on 127.0.0.1 that nothing listens on right now.
pub fn unused_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind an ephemeral port on 127.0.0.1")
}

/// A real SMTP server on 127.0.0.1 for tests, killed when dropped. Received mail is kept in
/// a Maildir in a temporary folder, which survives [`stop`](Self::stop)/[`start`](Self::start).
pub struct SmtpTestServer {
    python: PathBuf,
    port: u16,
    options: SmtpTestOptions,
    certificates: Option<TestCertificates>,
    maildir: tempfile::TempDir,
    child: Option<Child>,
    taken: Mutex<HashSet<PathBuf>>,
}

impl std::fmt::Debug for SmtpTestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTestServer")
            .field("port", &self.port)
            .field("security", &self.options.security)
            .field("maildir", &self.maildir.path())
            .field("running", &self.child.is_some())
            .finish()
    }
}

impl SmtpTestServer {
    /// A server on a free port, not started yet (to test an SMTP outage first). `None`, with
    /// a `NOT RUN` line on stderr, when aiosmtpd is unavailable; a panic instead if
    /// `AUTHGATE_TEST_REQUIRE_ALL` is set.
    pub fn new() -> Option<SmtpTestServer> {
        SmtpTestServer::with_options(SmtpTestOptions::default())
    }

    /// Like [`new`](Self::new), set up as `options` say; a TLS server gets a fresh CA and a
    /// certificate for `127.0.0.1` and `localhost` signed by it.
    pub fn with_options(options: SmtpTestOptions) -> Option<SmtpTestServer> {
        let Some(python) = smtp_python() else {
            if std::env::var_os("AUTHGATE_TEST_REQUIRE_ALL").is_some() {
                panic!(
                    "AUTHGATE_TEST_REQUIRE_ALL is set but no Python with aiosmtpd was found; run \
                     `python3 -m venv target/test-venv && target/test-venv/bin/pip install aiosmtpd` \
                     in the workspace root, or set AUTHGATE_TEST_PYTHON"
                );
            }
            // Once, straight to the process's stderr: the test harness captures `eprintln!`.
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::Relaxed) {
                let _ = writeln!(
                    std::io::stderr(),
                    "NOT RUN: SMTP tests (aiosmtpd not found)"
                );
            }
            return None;
        };
        let maildir = tempfile::Builder::new()
            .prefix("authgate-smtp-")
            .tempdir()
            .expect("cannot create a temporary Maildir");
        let certificates = (options.security != SmtpSecurity::None)
            .then(|| TestCertificates::write_to(maildir.path()));
        Some(SmtpTestServer {
            python,
            port: unused_port(),
            options,
            certificates,
            maildir,
            child: None,
            taken: Mutex::new(HashSet::new()),
        })
    }

    /// [`new`](Self::new) and [`start`](Self::start): a running server, or `None` (see `new`).
    pub async fn launch() -> Option<SmtpTestServer> {
        SmtpTestServer::launch_with(SmtpTestOptions::default()).await
    }

    /// [`with_options`](Self::with_options) and [`start`](Self::start).
    pub async fn launch_with(options: SmtpTestOptions) -> Option<SmtpTestServer> {
        let mut server = SmtpTestServer::with_options(options)?;
        server.start().await;
        Some(server)
    }

    /// The port (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>` (or `smtp+starttls://`, `smtps://` as the server speaks),
    /// without credentials, for the transport under test.
    pub fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}",
            self.options.security.scheme(),
            self.port
        )
    }

    /// The PEM file of the CA that signed a TLS server's certificate (what
    /// `AUTHGATE_SMTP_CA_FILE` must name to trust it); `None` for plain SMTP.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.certificates.as_ref().map(|c| c.ca.clone())
    }

    /// The Maildir received mail is written to.
    pub fn maildir(&self) -> PathBuf {
        self.maildir.path().join("mail")
    }

    /// Starts the server (if not running) and waits until it accepts connections.
    pub async fn start(&mut self) {
        if self.child.is_some() {
            return;
        }
        let quiet = std::env::var_os("TEST_LOG").is_none();
        let output = || {
            if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            }
        };
        let mode = match self.options.security {
            SmtpSecurity::None => "none",
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::ImplicitTls => "smtps",
        };
        let mut command = Command::new(&self.python);
        command
            .args(["-c", LAUNCHER, "127.0.0.1", &self.port.to_string()])
            .arg(self.maildir())
            .arg(mode);
        if let Some(certificates) = &self.certificates {
            command
                .env("SMTP_TEST_CERT", &certificates.chain)
                .env("SMTP_TEST_KEY", &certificates.key);
        }
        if let Some((user, password)) = &self.options.credentials {
            command
                .env("SMTP_TEST_USER", user)
                .env("SMTP_TEST_PASSWORD", password);
        }
        let child = command
            .stdin(Stdio::piped())
            .stdout(output())
            .stderr(output())
            .spawn()
            .expect("cannot start the aiosmtpd test server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                break;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                panic!("aiosmtpd exited at start ({status}); run with TEST_LOG=1 to see why");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {} within 20 s",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server (its port then refuses connections); received mail stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every mail received so far, oldest first.
    pub fn received(&self) -> Vec<ParsedMail> {
        self.mail_files()
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|raw| ParsedMail::parse(&raw))
            .collect()
    }

    /// Waits for a mail to `to` that no earlier call returned; panics after `timeout`.
    pub async fn wait_for_mail(&self, to: &str, timeout: Duration) -> ParsedMail {
        let deadline = Instant::now() + timeout;
        loop {
            for path in self.mail_files() {
                let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
                if taken.contains(&path) {
                    continue;
                }
                let Some(mail) = std::fs::read(&path)
                    .ok()
                    .and_then(|r| ParsedMail::parse(&r))
                else {
                    continue;
                };
                if mail.is_for(to) {
                    taken.insert(path);
                    return mail;
                }
            }
            if Instant::now() >= deadline {
                let seen: Vec<String> = self
                    .received()
                    .iter()
                    .map(|m| format!("{:?} to {:?}", m.subject, m.header("X-RcptTo")))
                    .collect();
                panic!("no new mail to {to} within {timeout:?}; received: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Delivered files in `new/` and `cur/`, oldest first.
    fn mail_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<(SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir().join(sub)).ok())
            .flat_map(|entries| entries.flatten())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        files.into_iter().map(|(_, p)| p).collect()
    }
}

impl Drop for SmtpTestServer {
    fn drop(&mut self) {
        self.stop();
    }
}
