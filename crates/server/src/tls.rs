//! Built-in HTTPS: the certificate chain and key from `AUTHGATE_TLS_CERT_FILE` and
//! `AUTHGATE_TLS_KEY_FILE` (PEM), served with rustls (ring) offering HTTP/2 and HTTP/1.1 by
//! ALPN. The files are read again every [`POLL_EVERY`] and on SIGHUP; when they changed and
//! still make a valid pair, new handshakes use them while open connections keep theirs.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigError, TlsFiles};
use crate::error::Error;

/// How often the files are checked for a change.
const POLL_EVERY: Duration = Duration::from_secs(5);

const CERT_VAR: &str = "AUTHGATE_TLS_CERT_FILE";
const KEY_VAR: &str = "AUTHGATE_TLS_KEY_FILE";

/// The TLS settings in force, replaceable while the server runs.
pub(crate) struct TlsConfig {
    files: TlsFiles,
    current: RwLock<Loaded>,
    /// The contents last refused, so that a broken pair is reported once, not every poll.
    refused: std::sync::Mutex<Option<(Vec<u8>, Vec<u8>)>>,
}

/// One loaded pair: the rustls configuration and the bytes it came from.
struct Loaded {
    acceptor: TlsAcceptor,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl TlsConfig {
    /// Reads and checks the files; a problem names the variable of the file at fault.
    pub(crate) fn load(files: &TlsFiles) -> Result<TlsConfig, Error> {
        let loaded = read(files).map_err(|problem| {
            Error::Config(ConfigError {
                problems: vec![problem],
            })
        })?;
        Ok(TlsConfig {
            files: files.clone(),
            current: RwLock::new(loaded),
            refused: std::sync::Mutex::new(None),
        })
    }

    /// The acceptor for a new handshake (the newest valid certificate).
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .acceptor
            .clone()
    }

    /// Reads the files again and switches to them when they changed. `Ok(true)`: switched;
    /// `Ok(false)`: unchanged, or refused before; `Err`: they changed but are not a valid
    /// pair (the old one stays in force).
    fn reload_if_changed(&self) -> Result<bool, String> {
        let (cert_pem, key_pem) = read_files(&self.files)?;
        {
            let current = self.current.read().unwrap_or_else(|p| p.into_inner());
            if current.cert_pem == cert_pem && current.key_pem == key_pem {
                return Ok(false);
            }
        }
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if refused
            .as_ref()
            .is_some_and(|(c, k)| *c == cert_pem && *k == key_pem)
        {
            return Ok(false);
        }
        match parse(cert_pem.clone(), key_pem.clone()) {
            Ok(loaded) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = loaded;
                *refused = None;
                Ok(true)
            }
            Err(problem) => {
                *refused = Some((cert_pem, key_pem));
                Err(problem)
            }
        }
    }
}

/// Reloads `tls` every [`POLL_EVERY`] and on SIGHUP, logging each switch and each refusal.
/// SIGHUP is caught from the moment this is called (before the future first runs).
pub(crate) fn keep_fresh(tls: Arc<TlsConfig>) -> impl std::future::Future<Output = ()> + Send {
    let mut hangups = hangup_signals();
    async move {
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.tick().await;
        loop {
            let asked = tokio::select! {
                _ = poll.tick() => false,
                got = next_hangup(&mut hangups) => {
                    if got.is_none() {
                        hangups = None;
                    }
                    got.is_some()
                }
            };
            match tls.reload_if_changed() {
                Ok(true) => tracing::info!("TLS certificate reloaded; new connections use it"),
                Ok(false) if asked => tracing::info!("SIGHUP: the TLS files are unchanged"),
                Ok(false) => {}
                Err(problem) => tracing::error!(
                    "TLS files not reloaded, the previous certificate stays: {problem}"
                ),
            }
        }
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangup_signals() -> Hangups {
    use tokio::signal::unix::{signal, SignalKind};
    signal(SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangups {
    None
}

/// The next SIGHUP; never, when signals are unavailable.
async fn next_hangup(hangups: &mut Hangups) -> Option<()> {
    #[cfg(unix)]
    if let Some(s) = hangups {
        return s.recv().await;
    }
    let _ = hangups;
    std::future::pending().await
}

/// Reads and parses both files.
fn read(files: &TlsFiles) -> Result<Loaded, String> {
    let (cert, key) = read_files(files)?;
    parse(cert, key)
}

fn read_files(files: &TlsFiles) -> Result<(Vec<u8>, Vec<u8>), String> {
    let read = |path: &std::path::Path, var: &str| {
        std::fs::read(path).map_err(|e| format!("{var}: cannot read {}: {e}", path.display()))
    };
    Ok((read(&files.cert, CERT_VAR)?, read(&files.key, KEY_VAR)?))
}

/// The rustls configuration of a PEM chain and key; HTTP/2 preferred, HTTP/1.1 offered.
fn parse(cert_pem: Vec<u8>, key_pem: Vec<u8>) -> Result<Loaded, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{CERT_VAR}: not a PEM certificate chain: {e}"))?;
    if chain.is_empty() {
        return Err(format!("{CERT_VAR}: contains no PEM certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{KEY_VAR}: not a PEM private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("{CERT_VAR}: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            format!("{KEY_VAR}: cannot be used with the certificate of {CERT_VAR}: {e}")
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Loaded {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_pem,
        key_pem,
    })
}
