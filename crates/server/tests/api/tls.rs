//! Built-in HTTPS (`AUTHGATE_TLS_CERT_FILE`, `AUTHGATE_TLS_KEY_FILE`): a CA made per test
//! with rcgen, and reqwest on rustls trusting only that CA. HTTP/1.1 and HTTP/2 by ALPN, a
//! certificate swapped while the server runs, files that stop start-up, and the plain-HTTP
//! listener that only redirects.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use authgate_server::{App, Config};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use reqwest::{StatusCode, Version};
use tempfile::TempDir;

use crate::helpers::TestApp;

/// A CA (its PEM) and a server certificate for 127.0.0.1 it signed (chain and key files).
struct Certs {
    ca_pem: String,
    chain: PathBuf,
    key: PathBuf,
}

impl Certs {
    /// A fresh CA named `name` and a certificate for `127.0.0.1`, written into `dir`.
    fn write(dir: &Path, name: &str) -> Certs {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.distinguished_name.push(DnType::CommonName, name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
        let key = KeyPair::generate().expect("a server key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server params")
            .signed_by(&key, &Issuer::new(ca, ca_key))
            .expect("a server certificate");
        let certs = Certs {
            ca_pem: ca_cert.pem(),
            chain: dir.join("chain.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&certs.chain, leaf.pem() + &ca_cert.pem()).expect("chain written");
        std::fs::write(&certs.key, key.serialize_pem()).expect("key written");
        certs
    }

    fn settings(&self) -> [(&'static str, String); 2] {
        [
            ("AUTHGATE_TLS_CERT_FILE", self.chain.display().to_string()),
            ("AUTHGATE_TLS_KEY_FILE", self.key.display().to_string()),
        ]
    }

    /// A client trusting this CA only (no system roots).
    fn client(&self) -> reqwest::ClientBuilder {
        let root = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("the CA");
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root)
            .redirect(reqwest::redirect::Policy::none())
    }
}

async fn spawn_tls(certs: &Certs, extra: &[(&str, &str)]) -> TestApp {
    let owned = certs.settings();
    let mut settings: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    settings.extend_from_slice(extra);
    TestApp::spawn_with(&settings).await
}

#[tokio::test]
async fn https_serves_the_api_over_http2_and_http1_by_alpn() {
    let dir = TempDir::new().unwrap();
    let certs = Certs::write(dir.path(), "authgate test CA");
    let app = spawn_tls(&certs, &[]).await;
    assert!(
        app.address.starts_with("https://127.0.0.1:"),
        "{}",
        app.address
    );

    let h2 = certs.client().build().unwrap();
    let res = h2
        .get(app.url("/health"))
        .send()
        .await
        .expect("an h2 answer");
    assert_eq!(
        (res.status(), res.version()),
        (StatusCode::OK, Version::HTTP_2)
    );

    let h1 = certs.client().http1_only().build().unwrap();
    let res = h1
        .get(app.url("/health"))
        .send()
        .await
        .expect("an h1 answer");
    assert_eq!(
        (res.status(), res.version()),
        (StatusCode::OK, Version::HTTP_11)
    );

    // The API itself, not just /health: a registration over HTTPS sets a Secure cookie.
    let res = h2
        .post(app.url("/api/auth/register"))
        .json(&serde_json::json!({
            "email": crate::helpers::unique_email(),
            "password": crate::helpers::PASSWORD,
            "name": "Tessa Ellis",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn plain_http_to_the_https_port_gets_no_api_answer() {
    let dir = TempDir::new().unwrap();
    let certs = Certs::write(dir.path(), "authgate test CA");
    let app = spawn_tls(&certs, &[]).await;
    let plain = app.address.replace("https://", "http://");

    let res = reqwest::Client::new()
        .get(format!("{plain}/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;

    assert!(res.is_err(), "plain HTTP was answered: {res:?}");
}

#[tokio::test]
async fn a_swapped_certificate_is_used_by_new_connections_while_an_open_one_keeps_working() {
    let dir = TempDir::new().unwrap();
    let old = Certs::write(dir.path(), "old test CA");
    let app = spawn_tls(&old, &[("AUTHGATE_HEADER_READ_TIMEOUT", "60s")]).await;
    let old_client = old.client().build().unwrap();
    let res = old_client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The same paths, a certificate from another CA (written as a deploy tool would).
    let new_dir = TempDir::new().unwrap();
    let new = Certs::write(new_dir.path(), "new test CA");
    std::fs::copy(&new.chain, &old.chain).unwrap();
    std::fs::copy(&new.key, &old.key).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-s", "HUP", &std::process::id().to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(status.success());

    // A new connection trusting only the new CA succeeds once the server has reloaded.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let fresh = new.client().build().unwrap();
        if let Ok(res) = fresh.get(app.url("/health")).send().await {
            assert_eq!(res.status(), StatusCode::OK);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The old client can only be talking over its old connection: any new connection now
    // presents the new certificate, which it does not trust.
    let res = old_client.get(app.url("/health")).send().await;
    assert_eq!(
        res.expect("the open connection still works").status(),
        StatusCode::OK
    );
    let refused = old
        .client()
        .build()
        .unwrap()
        .get(app.url("/health"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a new connection still got the old certificate"
    );
}

/// What `App::build` says about these TLS settings (it must refuse them).
async fn start_up_refusal(settings: &[(&str, String)]) -> String {
    let dir = TempDir::new().unwrap();
    let mut env = std::collections::HashMap::from([
        ("AUTHGATE_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "AUTHGATE_DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("a.db").display()),
        ),
    ]);
    for (k, v) in settings {
        env.insert((*k).to_owned(), v.clone());
    }
    let config = match Config::from_sources(None, &env) {
        Ok(config) => config,
        Err(e) => return e.to_string(),
    };
    match App::build(config).await {
        Ok(_) => panic!("started with {settings:?}"),
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{e}");
            e.to_string()
        }
    }
}

#[tokio::test]
async fn a_missing_unreadable_or_bad_tls_file_stops_start_up_naming_the_variable() {
    let dir = TempDir::new().unwrap();
    let certs = Certs::write(dir.path(), "authgate test CA");
    let chain = certs.chain.display().to_string();
    let key = certs.key.display().to_string();
    let missing = dir.path().join("nope.pem").display().to_string();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file").unwrap();
    let garbage = garbage.display().to_string();
    let other = Certs::write(&dir.path().join("other").tap_mkdir(), "other CA");

    let cases = [
        (
            vec![("AUTHGATE_TLS_CERT_FILE", chain.clone())],
            "AUTHGATE_TLS_KEY_FILE",
        ),
        (
            vec![("AUTHGATE_TLS_KEY_FILE", key.clone())],
            "AUTHGATE_TLS_CERT_FILE",
        ),
        (
            vec![
                ("AUTHGATE_TLS_CERT_FILE", missing.clone()),
                ("AUTHGATE_TLS_KEY_FILE", key.clone()),
            ],
            "AUTHGATE_TLS_CERT_FILE",
        ),
        (
            vec![
                ("AUTHGATE_TLS_CERT_FILE", chain.clone()),
                ("AUTHGATE_TLS_KEY_FILE", garbage.clone()),
            ],
            "AUTHGATE_TLS_KEY_FILE",
        ),
        (
            vec![
                ("AUTHGATE_TLS_CERT_FILE", garbage.clone()),
                ("AUTHGATE_TLS_KEY_FILE", key.clone()),
            ],
            "AUTHGATE_TLS_CERT_FILE",
        ),
        (
            vec![
                ("AUTHGATE_TLS_CERT_FILE", chain.clone()),
                ("AUTHGATE_TLS_KEY_FILE", other.key.display().to_string()),
            ],
            "AUTHGATE_TLS_KEY_FILE",
        ),
    ];
    for (settings, variable) in cases {
        let message = start_up_refusal(&settings).await;
        assert!(message.starts_with(variable), "{settings:?}: {message}");
    }
}

#[tokio::test]
async fn the_redirect_listener_answers_308_to_the_https_public_url() {
    let dir = TempDir::new().unwrap();
    let certs = Certs::write(dir.path(), "authgate test CA");
    let app = spawn_tls(
        &certs,
        &[
            ("AUTHGATE_HTTP_REDIRECT_ADDR", "127.0.0.1:0"),
            ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
        ],
    )
    .await;
    let redirect = app.redirect_addr.expect("a redirect listener");

    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("http://{redirect}/api/auth/login?next=%2Faccount"))
        .header("Host", "evil.example")
        .send()
        .await
        .expect("an answer");

    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        res.headers()["location"],
        "https://auth.example.com/api/auth/login?next=%2Faccount"
    );
}

#[tokio::test]
async fn a_redirect_listener_without_https_is_refused() {
    let message = start_up_refusal(&[("AUTHGATE_HTTP_REDIRECT_ADDR", "127.0.0.1:0".into())]).await;
    assert!(
        message.starts_with("AUTHGATE_HTTP_REDIRECT_ADDR"),
        "{message}"
    );
}

/// `mkdir -p` in an expression.
trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
