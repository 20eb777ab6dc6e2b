//! Finding and starting nx-27017 for one test process.
//!
//! The server must not outlive the process, however the process ends (`cargo test` finishing,
//! a panic, a kill). On Linux the child asks the kernel for `SIGKILL` when its parent thread
//! dies (`PR_SET_PDEATHSIG`), and it is spawned from a thread that lives until the process
//! exits (a test's thread would end with its test and take the server with it).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::NX27017_VAR;

/// Where `.ci/run` and developers install nx-27017: a virtualenv in the workspace's target
/// directory (outside git, removed by `cargo clean`).
const VENV_EXECUTABLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/test-venv/bin/nx-27017"
);

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The nx-27017 executable: [`NX27017_VAR`], else the workspace virtualenv, else `PATH`.
///
/// # Panics
/// When [`NX27017_VAR`] names a file that does not exist (a broken setup, not a missing one).
pub(super) fn find_executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(NX27017_VAR).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{NX27017_VAR}={} does not name a file",
            path.display()
        );
        return Some(path);
    }
    let venv = Path::new(VENV_EXECUTABLE);
    if venv.is_file() {
        return Some(venv.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("nx-27017"))
        .find(|p| p.is_file())
}

/// Starts nx-27017 on a free loopback port and returns its URL, once it accepts connections.
pub(super) fn start(exe: &Path) -> io::Result<String> {
    let (tx, rx) = mpsc::channel();
    let exe = exe.to_path_buf();
    std::thread::Builder::new()
        .name("nx-27017".into())
        .spawn(move || match spawn_listening(&exe) {
            Ok((child, url)) => {
                let _ = tx.send(Ok(url));
                // Holding the child (and living) until the process exits: see the module doc.
                let _child = child;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        })?;
    rx.recv()
        .unwrap_or_else(|_| Err(io::Error::other("the nx-27017 thread died")))
}

/// Prefix of the pid and log files of the servers, followed by the test process's id.
const FILE_PREFIX: &str = "authgate-nx27017-";

/// Spawns the server until one listens (a port picked free may be taken before it binds).
fn spawn_listening(exe: &Path) -> io::Result<(Child, String)> {
    remove_stale_files();
    let files = std::env::temp_dir().join(format!("{FILE_PREFIX}{}", std::process::id()));
    let mut last_error = None;
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = files.with_extension(format!("{port}.log"));
        let mut command = command_dying_with_parent(exe);
        command
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--data-dir", "memory"])
            .arg("--pid-file")
            .arg(files.with_extension(format!("{port}.pid")))
            .arg("--log-file")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn()?;
        match wait_until_listening(&mut child, port) {
            Ok(()) => return Ok((child, format!("mongodb://127.0.0.1:{port}"))),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                last_error = Some(io::Error::new(
                    e.kind(),
                    format!("{e} (log: {})", log.display()),
                ));
            }
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no attempt made")))
}

/// Removes the pid and log files left by test processes that have ended (a killed server
/// cannot remove its pid file).
fn remove_stale_files() {
    if !Path::new("/proc/self").exists() {
        return; // no way to tell live processes from dead ones
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(FILE_PREFIX))
            .and_then(|rest| rest.split('.').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Waits until `port` accepts connections, or the child exits, or time runs out.
fn wait_until_listening(child: &mut Child, port: u16) -> io::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!("nx-27017 exited with {status}")));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("nx-27017 did not listen on port {port} within {START_TIMEOUT:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `exe` through the venv's Python, which first asks the kernel to kill it when the
/// spawning thread (alive as long as the test process) dies, then `exec`s the server: no
/// `unsafe` `pre_exec` needed here.
#[cfg(target_os = "linux")]
fn command_dying_with_parent(exe: &Path) -> Command {
    const SCRIPT: &str = "import ctypes, os, sys\n\
        libc = ctypes.CDLL(None, use_errno=True)\n\
        if libc.prctl(1, 9, 0, 0, 0) != 0: sys.exit(1)  # PR_SET_PDEATHSIG, SIGKILL\n\
        if os.getppid() != int(sys.argv[1]): sys.exit(1)  # the parent died before prctl\n\
        os.execv(sys.argv[2], sys.argv[2:])\n";
    let python = exe.with_file_name("python");
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(SCRIPT)
        .arg(std::process::id().to_string())
        .arg(exe);
    command
}

/// Elsewhere there is no parent-death signal: the server may outlive a killed test process.
#[cfg(not(target_os = "linux"))]
fn command_dying_with_parent(exe: &Path) -> Command {
    Command::new(exe)
}
