//! The admin socket: a Unix socket, readable and writable by the server's user only (mode
//! 0600), on which the server answers the administrative routes as the operator. The CLI's
//! `user` and `audit` commands talk to it, so what they do runs in the server process,
//! through the same core flows as the HTTP API, and takes effect at once: the server's own
//! caches are updated by the change itself, on every store, SQLite included.
//!
//! Why a socket rather than a second process writing to the store: a change written behind
//! the server's back is not seen by its caches (60 s on SQLite by default). Why a Unix socket
//! rather than TCP with a token: the file's owner and mode are the credential, there is no
//! secret to create, store or leak, and nothing listens on the network.

use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use axum::Router;
use tokio::net::UnixListener;

use crate::config::Config;
use crate::error::Error;

/// A bound admin socket; the file is removed when it is dropped.
pub(crate) struct AdminSocket {
    listener: UnixListener,
    file: RemoveOnDrop,
}

impl AdminSocket {
    /// Binds `path` with mode 0600. The socket is created inside a fresh private directory
    /// (mode 0700) beside `path` and renamed into place, so no other user can connect in
    /// the moment before its mode is set. A stale socket left by a crash is replaced; one a
    /// running server answers on is an error.
    pub(crate) fn bind(path: &Path) -> Result<AdminSocket, Error> {
        let io = |what: &str| {
            let context = format!("cannot {what} the admin socket {}", path.display());
            move |source| Error::Io { context, source }
        };
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(Error::Input(format!(
                    "the admin socket path {} exists and is not a socket",
                    path.display()
                )));
            }
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(Error::Input(format!(
                "the admin socket {} is in use: is another authgate server running? \
                 (set AUTHGATE_ADMIN_SOCKET to another path, or to off)",
                path.display()
            )));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let private = parent.join(format!(".authgate-admin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&private);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&private)
            .map_err(io("create a directory for"))?;
        let result = Self::bind_via(&private, path);
        let _ = std::fs::remove_dir_all(&private);
        let listener = result.map_err(io("bind"))?;
        Ok(AdminSocket {
            listener,
            file: RemoveOnDrop(path.to_path_buf()),
        })
    }

    fn bind_via(private: &Path, path: &Path) -> std::io::Result<UnixListener> {
        let temporary = private.join("admin.sock");
        let listener = UnixListener::bind(&temporary)?;
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))?;
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::rename(&temporary, path)?;
        Ok(listener)
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.file.0
    }

    /// Serves `router` (the admin routes, as the operator) until the task is aborted; the
    /// socket file is removed then.
    pub(crate) async fn serve(self, router: Router) {
        let AdminSocket { listener, file } = self;
        let _file = file;
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the admin socket failed");
        }
    }
}

/// Removes a file when dropped (the socket, when its server stops).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds the admin socket where the configuration puts it. At the default place a failure
/// (a read-only directory, another server's socket) is a warning and the server runs
/// without one; at a place set with `AUTHGATE_ADMIN_SOCKET` it stops start-up.
pub(crate) fn bind_configured(config: &Config) -> Result<Option<AdminSocket>, Error> {
    let Some(path) = config.admin_socket_path() else {
        return Ok(None);
    };
    match AdminSocket::bind(&path) {
        Ok(socket) => Ok(Some(socket)),
        Err(e) if config.admin_socket.is_none() => {
            tracing::warn!(error = %e, "no admin socket: the CLI's user and audit commands cannot reach this server");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
