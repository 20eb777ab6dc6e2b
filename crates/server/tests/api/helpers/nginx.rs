//! Debian's nginx in the foreground, on a port of 127.0.0.1, with a prefix, pid and temp
//! directories of its own, killed when dropped: the reverse proxy of the forward-auth tests
//! and the load balancer in front of several nodes.
//!
//! Without nginx, [`nginx_or_skip`] prints `NOT RUN: ...` and the test returns; under
//! `AUTHGATE_TEST_REQUIRE_ALL` a missing nginx fails instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Debian's nginx, or the one on PATH.
fn nginx_binary() -> Option<PathBuf> {
    let candidates = [PathBuf::from("/usr/sbin/nginx"), PathBuf::from("nginx")];
    candidates.into_iter().find(|bin| {
        Command::new(bin)
            .arg("-v")
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// nginx, or `None` after a `NOT RUN` line (a failure under `AUTHGATE_TEST_REQUIRE_ALL`).
pub(crate) fn nginx_or_skip() -> Option<PathBuf> {
    let found = nginx_binary();
    if found.is_none() {
        assert!(
            std::env::var_os("AUTHGATE_TEST_REQUIRE_ALL").is_none(),
            "nginx is required (AUTHGATE_TEST_REQUIRE_ALL is set): apt-get install nginx"
        );
        static SAID: Once = Once::new();
        SAID.call_once(|| eprintln!("NOT RUN: the nginx tests (nginx not found)"));
    }
    found
}

/// nginx in the foreground with a configuration of its own; killed when dropped.
pub(crate) struct Nginx {
    child: Child,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx with `http_block` (the `upstream` and `server` blocks; the latter listens
    /// on 127.0.0.1:`port`) and waits until it accepts connections.
    pub(crate) fn start(bin: &Path, port: u16, http_block: &str) -> Nginx {
        let dir = TempDir::new().expect("a temporary directory");
        let p = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {p}/nginx.pid;\nerror_log {p}/error.log info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {p}/access.log;\n  client_body_temp_path {p}/body;\n  \
             proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  \
             scgi_temp_path {p}/scgi;\n{http_block}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("the nginx configuration is written");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx { child, dir };
        nginx.wait_listening(port);
        nginx
    }

    fn wait_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}):\n{}", self.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx is not listening:\n{}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// nginx's error log so far.
    pub(crate) fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
