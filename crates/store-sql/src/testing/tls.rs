//! Certificates for the TLS test cluster, made fresh for every test process.
//!
//! A throwaway CA signs a server certificate for `127.0.0.1` and `localhost`, so a client can
//! verify the full chain and the host name (`sslmode=verify-full&sslrootcert=<ca.pem>`). A
//! self-signed leaf would not do: rustls refuses a CA certificate as a server's end entity.
//! The keys are ECDSA P-256, which both OpenSSL (the server) and rustls (sqlx) accept.

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};

/// The names the server certificate is valid for: the address the cluster listens on, and
/// the name a developer may type.
const SERVER_NAMES: &[&str] = &["127.0.0.1", "localhost"];

/// Writes `server.crt` and `server.key` into `data` (owned by `owner`, the key readable by it
/// alone, as PostgreSQL demands) and the CA certificate to `root/ca.pem`; returns the latter.
pub(super) fn write_certificates(
    root: &Path,
    data: &Path,
    owner: Option<(u32, u32)>,
) -> Result<PathBuf, String> {
    let (ca_pem, cert_pem, key_pem) =
        make_certificates().map_err(|e| format!("making test certificates: {e}"))?;
    let ca_file = root.join("ca.pem");
    write(&ca_file, &ca_pem, 0o644, owner)?;
    write(&data.join("server.crt"), &cert_pem, 0o644, owner)?;
    write(&data.join("server.key"), &key_pem, 0o600, owner)?;
    Ok(ca_file)
}

/// The CA certificate, the server certificate it signed, and the server's private key (PEM).
fn make_certificates() -> Result<(String, String, String), rcgen::Error> {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "authgate test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key)?;

    let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let names: Vec<String> = SERVER_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let mut server_params = CertificateParams::new(names)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "authgate test server");
    let issuer = Issuer::new(ca_params, ca_key);
    let server = server_params.signed_by(&server_key, &issuer)?;
    Ok((ca.pem(), server.pem(), server_key.serialize_pem()))
}

/// Writes `contents` to `path` with `mode`, handed to `owner` when given.
fn write(path: &Path, contents: &str, mode: u32, owner: Option<(u32, u32)>) -> Result<(), String> {
    let shown = path.display();
    std::fs::write(path, contents).map_err(|e| format!("writing {shown}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("setting the mode of {shown}: {e}"))?;
    if let Some((uid, gid)) = owner {
        chown(path, Some(uid), Some(gid)).map_err(|e| format!("handing {shown} over: {e}"))?;
    }
    Ok(())
}
