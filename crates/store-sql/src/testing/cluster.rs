//! A throwaway PostgreSQL cluster, one per test process.
//!
//! `initdb` creates it in a private temporary directory; `postgres` then runs on a free port of
//! 127.0.0.1 (socket files in the same directory) with durability off (`fsync=off`).
//!
//! Stopping it reliably: a Rust test process never drops its statics and has no exit hook, and
//! `pg_ctl start` daemonizes, so nothing would stop a cluster started that way. Instead a small
//! `sh` keeper is spawned with a pipe as its stdin and the write end held by this process for
//! its whole life. The keeper starts `postgres` as its own child; when the test process ends,
//! however it ends (normal exit, panic, `SIGKILL`), the kernel closes the pipe, the keeper
//! reads end-of-file, stops `postgres` (`SIGQUIT`: immediate shutdown, nothing worth keeping)
//! and deletes the directory. The keeper runs in its own process group, so a Ctrl-C aimed at
//! `cargo test` reaches it only through that same end-of-file.
//!
//! `initdb` and `postgres` refuse to run as root: as root, they (and the keeper) run as the
//! `postgres` OS user, which owns the directory.
//!
//! A second, TLS-only cluster ([`shared_tls`]) serves the TLS tests: `ssl=on` with a server
//! certificate for `127.0.0.1` and `localhost`, signed by a throwaway CA made at start-up (see
//! `tls.rs`). It is separate so that a TLS set-up problem never takes the other suites down.

use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The keeper: `$1` is the directory, the rest is the `postgres` command line. It waits for
/// end-of-file on its stdin (kept on fd 3 for a background reader) or for `postgres` to exit.
/// If `postgres` exits by itself (failed start), the directory is left for the caller to read
/// the log from.
const KEEPER: &str = r#"
root=$1; shift
exec 3<&0 </dev/null
"$@" 3<&- >"$root/postgres.log" 2>&1 &
pg=$!
{ while read -r _ <&3; do :; done; : >"$root/stop"; kill -QUIT "$pg" 2>/dev/null; } &
watcher=$!
trap ': >"$root/stop"; kill -QUIT "$pg" 2>/dev/null' HUP INT TERM
while kill -0 "$pg" 2>/dev/null; do wait "$pg"; done
kill "$watcher" 2>/dev/null
if [ -e "$root/stop" ]; then rm -rf "$root"; fi
"#;

/// Server settings: local TCP only, room for many test pools, no durability (the cluster is
/// deleted at exit anyway), English messages in the log.
const SETTINGS: &[&str] = &[
    "listen_addresses=127.0.0.1",
    "max_connections=300",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "lc_messages=C",
];

/// Extra settings of the TLS cluster: the certificate and key `tls.rs` writes into the data
/// directory (the paths are relative to it).
const TLS_SETTINGS: &[&str] = &[
    "ssl=on",
    "ssl_cert_file=server.crt",
    "ssl_key_file=server.key",
];

/// How long `postgres` gets to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The running cluster: its admin URL, its CA file when it serves TLS, and the keeper whose
/// stdin pipe is its lifeline.
pub(super) struct Cluster {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub(super) admin_url: String,
    /// The PEM file of the CA that signed the server's certificate (TLS clusters only).
    pub(super) ca_file: Option<PathBuf>,
    _keeper: Mutex<Child>,
}

/// Whether a cluster serves TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Off,
    On,
}

/// The directory holding `initdb` and `postgres`, if any is found.
pub(super) fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(super::BINDIR_VAR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    on_path
        .into_iter()
        .chain(debian.into_iter().map(|(_, dir)| dir))
        .chain([PathBuf::from("/usr/local/pgsql/bin")])
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .map(|dir| real_bindir(&dir))
}

/// The directory `dir/initdb` really lives in (PATH often holds symlinks to it), where its
/// siblings such as `pg_isready` are; `dir` itself when that directory lacks `postgres`.
fn real_bindir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir.join("initdb"))
        .ok()
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        .filter(|real| real.join("postgres").is_file())
        .unwrap_or_else(|| dir.to_path_buf())
}

/// The admin URL of this process's cluster, started on first use.
pub(super) fn shared(bindir: &Path) -> Result<&'static str, String> {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| start(bindir, Tls::Off))
        .as_ref()
        .map(|c| c.admin_url.as_str())
        .map_err(Clone::clone)
}

/// This process's TLS cluster (`ssl=on`, certificate from a throwaway CA), started on first use.
pub(super) fn shared_tls(bindir: &Path) -> Result<&'static Cluster, String> {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| start(bindir, Tls::On))
        .as_ref()
        .map_err(Clone::clone)
}

/// Creates and starts a cluster; on failure removes what it created.
fn start(bindir: &Path, tls: Tls) -> Result<Cluster, String> {
    let owner = run_as()?;
    let root = std::env::temp_dir().join(format!(
        "authgate-pg-{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    std::fs::create_dir(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    let started = init_and_run(bindir, &root, owner, tls);
    if started.is_err() {
        let _ = std::fs::remove_dir_all(&root);
    }
    started
}

/// `initdb` into `root/data` (with certificates when `tls` is on), then start `postgres` under
/// the keeper.
fn init_and_run(
    bindir: &Path,
    root: &Path,
    owner: Option<(u32, u32)>,
    tls: Tls,
) -> Result<Cluster, String> {
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("securing {}: {e}", root.display()))?;
    if let Some((uid, gid)) = owner {
        chown(root, Some(uid), Some(gid))
            .map_err(|e| format!("handing {} to the postgres user: {e}", root.display()))?;
    }
    let data = root.join("data");
    let initdb = command(&bindir.join("initdb"), root, owner)
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
        .args(["--no-locale", "--no-instructions"])
        .output()
        .map_err(|e| format!("running {}/initdb: {e}", bindir.display()))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed ({}): {}{}",
            initdb.status,
            String::from_utf8_lossy(&initdb.stdout),
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let (ca_file, settings) = match tls {
        Tls::Off => (None, SETTINGS.to_vec()),
        Tls::On => {
            let ca_file = super::tls::write_certificates(root, &data, owner)?;
            (Some(ca_file), [SETTINGS, TLS_SETTINGS].concat())
        }
    };
    // A port picked here may be taken before postgres binds it: then try another.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        match run(bindir, root, &data, port, owner, &settings) {
            Ok(keeper) => {
                return Ok(Cluster {
                    admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    ca_file,
                    _keeper: Mutex::new(keeper),
                })
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// Starts `postgres` on `port` under the keeper and waits until it accepts connections.
fn run(
    bindir: &Path,
    root: &Path,
    data: &Path,
    port: u16,
    owner: Option<(u32, u32)>,
    settings: &[&str],
) -> Result<Child, String> {
    let port_arg = port.to_string();
    let mut keeper = command(Path::new("sh"), root, owner)
        .args(["-c", KEEPER, "authgate-pg-keeper"])
        .arg(root)
        .arg(bindir.join("postgres"))
        .arg("-D")
        .arg(data)
        .args(["-p", &port_arg, "-k"])
        .arg(root)
        .args(settings.iter().flat_map(|setting| ["-c", setting]))
        .stdin(Stdio::piped())
        // Not the test's stdout: nothing may hold the harness's pipes open after it exits.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting the postgres keeper (sh): {e}"))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = keeper.try_wait() {
            let log = std::fs::read_to_string(root.join("postgres.log")).unwrap_or_default();
            return Err(format!("postgres exited at start-up ({status}):\n{log}"));
        }
        if ready(bindir, port) {
            return Ok(keeper);
        }
        if Instant::now() > deadline {
            drop(keeper.stdin.take()); // end-of-file: the keeper stops postgres
            return Err(format!(
                "postgres did not accept connections on port {port}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server accepts connections: `pg_isready`, or a TCP connect when it is missing
/// (the admin connection then retries while the server finishes starting).
fn ready(bindir: &Path, port: u16) -> bool {
    let pg_isready = bindir.join("pg_isready");
    if pg_isready.is_file() {
        return Command::new(pg_isready)
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    }
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// A command run in `dir` (as the `postgres` user when `owner` is given), no stdin.
fn command(program: &Path, dir: &Path, owner: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).stdin(Stdio::null());
    if let Some((uid, gid)) = owner {
        cmd.uid(uid)
            .gid(gid)
            .env("HOME", dir)
            .env("USER", "postgres");
    }
    cmd
}

/// `None` when not root; as root, the uid and gid of the `postgres` OS user.
fn run_as() -> Result<Option<(u32, u32)>, String> {
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    let uid = id(&["-u", "postgres"]).map_err(|e| {
        format!("running as root, and initdb refuses root; no `postgres` OS user to use: {e}")
    })?;
    Ok(Some((uid, id(&["-g", "postgres"])?)))
}

/// Runs `id` with `args` and parses the number it prints.
fn id(args: &[&str]) -> Result<u32, String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("running id: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().map_err(|_| {
        format!(
            "id {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A TCP port on 127.0.0.1 that is free right now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}
