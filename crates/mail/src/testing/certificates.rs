//! [`TestCertificates`]: a throwaway CA and a server certificate it signed, made with `rcgen`
//! for a test's TLS server.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// PEM files of a fresh CA and of a server certificate for `127.0.0.1` and `localhost`.
#[derive(Debug)]
pub(super) struct TestCertificates {
    /// The CA certificate: what a client must trust.
    pub ca: PathBuf,
    /// The server certificate followed by the CA certificate.
    pub chain: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
}

impl TestCertificates {
    /// Generates the CA and the server certificate and writes them into `dir`.
    pub(super) fn write_to(dir: &Path) -> TestCertificates {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "authgate test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("a CA certificate");

        let server_key = KeyPair::generate().expect("a server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "authgate test SMTP server");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("a server certificate");

        let files = TestCertificates {
            ca: dir.join("ca.pem"),
            chain: dir.join("server-chain.pem"),
            key: dir.join("server-key.pem"),
        };
        let write = |path: &Path, pem: String| {
            std::fs::write(path, pem).expect("cannot write a test certificate");
        };
        write(&files.ca, ca_cert.pem());
        write(&files.chain, server_cert.pem() + &ca_cert.pem());
        write(&files.key, server_key.serialize_pem());
        files
    }
}
