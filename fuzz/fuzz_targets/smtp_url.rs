//! Arbitrary text as `AUTHGATE_SMTP_URL`.
//!
//! Invariants: nothing panics; a parsed endpoint has a host, and user name and password come
//! together (the password not empty); its display (what the logs show) has no credentials and
//! parses back to the same security, host and port; `Debug` never shows the password; an
//! error never depends on (so never repeats) the URL's password.
#![no_main]

use authgate_mail::SmtpEndpoint;
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

fn check_ok(e: &SmtpEndpoint) {
    assert!(!e.host.is_empty());
    assert_eq!(e.username.is_some(), e.password.is_some());
    if let Some(p) = &e.password {
        assert!(!p.expose_secret().is_empty());
    }
    let shown = e.to_string();
    assert!(!shown.contains('@'), "{shown:?} shows credentials");
    let again = SmtpEndpoint::parse(&shown, None, None)
        .unwrap_or_else(|err| panic!("{shown:?} (display of {e:?}) does not parse: {err}"));
    assert_eq!(
        (again.security, &again.host, again.port),
        (e.security, &e.host, e.port),
        "{shown:?}"
    );
    let mut other = e.clone();
    other.password = e.password.as_ref().map(|_| SecretString::from("x"));
    assert_eq!(
        format!("{e:?}"),
        format!("{other:?}"),
        "Debug depends on the password"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match SmtpEndpoint::parse(raw, None, None) {
        Ok(e) => check_ok(&e),
        Err(err) => {
            // The same URL with another password fails with the very same message.
            let Ok(mut url) = url::Url::parse(raw.trim()) else {
                return;
            };
            if url.password().is_none() || url.set_password(Some("Zq9-other")).is_err() {
                return;
            }
            let other = SmtpEndpoint::parse(url.as_str(), None, None);
            let other = other.err().map(|e| e.to_string()).unwrap_or_default();
            let message = err.to_string();
            if !message.contains("not valid UTF-8") {
                assert_eq!(message, other, "the error depends on the password");
            }
        }
    }
});
