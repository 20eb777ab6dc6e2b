//! The README's five-minute tour, run as written (only the port differs) with `bash` and
//! `curl` against the real `authgate serve` on the backend `AUTHGATE_TEST_BACKEND` names.

use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::{database_url_for, Backend};
use crate::process::Server;

const README: &str = include_str!("../../../../README.md");
const TOUR_API: &str = "API=http://127.0.0.1:8080/api/auth";

/// The first `sh` block under the "Five-minute tour" heading.
fn tour_script() -> String {
    let section = README
        .split("## Five-minute tour")
        .nth(1)
        .expect("the README has a five-minute tour");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the tour has a sh block");
    assert!(
        block.contains(TOUR_API),
        "the tour no longer sets {TOUR_API}"
    );
    block.to_owned()
}

/// `curl` is what the tour uses; a machine without it cannot run this test.
fn curl_installed() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn the_readme_tour_works_as_written() {
    if !curl_installed() {
        assert!(
            std::env::var_os("AUTHGATE_TEST_REQUIRE_ALL").is_none(),
            "curl is required (AUTHGATE_TEST_REQUIRE_ALL is set)"
        );
        eprintln!("NOT RUN: the README tour needs curl");
        return;
    }
    let dir = TempDir::new().expect("a temporary directory");
    let (url, _db) = database_url_for(Backend::from_env()).await;
    let server = Server::start(dir.path(), &[("AUTHGATE_DATABASE_URL", &url)]).await;
    let script = tour_script().replace(TOUR_API, &format!("API={}/api/auth", server.base));
    // Every curl answer on a line of its own, so each can be read back as JSON.
    let prelude = "set -euo pipefail\ncurl() { command curl \"$@\"; echo; }\n";

    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .current_dir(dir.path())
        .output()
        .expect("bash runs");

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the tour failed ({}): {stdout}\n{}\nserver: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.stderr()
    );
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let [register, me, refresh, sessions, logout, me_after] = answers.as_slice() else {
        panic!("expected six answers, got: {stdout}");
    };
    assert_eq!(register["user"]["email"], "ada@example.com", "{register}");
    assert!(register["accessToken"].is_string(), "{register}");
    assert_eq!(me["user"]["name"], "Ada Lovelace", "{me}");
    assert!(refresh["refreshToken"].is_string(), "{refresh}");
    assert_eq!(
        sessions["sessions"].as_array().map(Vec::len),
        Some(2),
        "{sessions}"
    );
    assert_eq!(logout["message"], "Logged out successfully", "{logout}");
    assert_eq!(me_after["code"], "unauthenticated", "{me_after}");
}
