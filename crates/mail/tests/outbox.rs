//! Without SMTP, mail lands in the outbox folder as `.eml` files.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authgate_mail::testing::ParsedMail;
use authgate_mail::{transport_from_settings, MailSettings};
use common::*;
use tokio::sync::Notify;

#[tokio::test]
async fn the_outbox_writes_one_eml_file_per_mail_and_logs_where_without_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("nested/mail-outbox");
    let mut settings = MailSettings::new(FROM);
    settings.outbox_dir = outbox.clone();
    let transport = transport_from_settings(&settings).expect("outbox transport");
    assert!(outbox.is_dir(), "the folder is created at start-up");
    assert_eq!(transport.describe(), format!("outbox {}", outbox.display()));

    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let token = "tok-outbox-5a4b";
    let first = verification_mail("ada@example.com", &link_with_token(token));
    let second = verification_mail("grace@example.com", &link_with_token(token));
    enqueue(&store, &notify, &first).await;
    enqueue(&store, &notify, &second).await;

    let logs = LogCapture::default();
    let worker = RunningWorker::spawn(store.clone(), transport, notify, fast_config(), Some(&logs));
    let deadline = Instant::now() + Duration::from_secs(10);
    while eml_files(&outbox).len() < 2 || store.mail_queue_depth().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "two .eml files within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;

    let files = eml_files(&outbox);
    assert_eq!(files.len(), 2, "{files:?}");
    let mut recipients = Vec::new();
    for file in &files {
        let mail = ParsedMail::parse(&std::fs::read(file).unwrap()).expect("an RFC 5322 message");
        assert_eq!(mail.subject, "Confirm your email address");
        assert!(mail.header("Message-ID").is_some() && mail.header("Date").is_some());
        assert!(mail.text.contains(token) && mail.html.contains(token));
        recipients.push(mail.header("To").unwrap().to_owned());
        let logs = logs.text();
        assert!(
            logs.contains(&format!("mail written to {}", file.display())),
            "{logs}"
        );
    }
    recipients.sort();
    assert_eq!(recipients, ["ada@example.com", "grace@example.com"]);
    assert!(!logs.text().contains(token), "the log never shows the link");
}

#[tokio::test]
async fn next_to_each_eml_a_txt_file_holds_the_text_with_the_long_link_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = MailSettings::new(FROM);
    settings.outbox_dir = dir.path().join("outbox");
    let transport = transport_from_settings(&settings).unwrap();
    let token = "k".repeat(43);
    let link = format!("https://auth.example.com/reset-password?token={token}");
    assert!(
        link.len() > 76,
        "long enough for quoted-printable soft breaks"
    );
    let mail = verification_mail("ada@example.com", &link);

    transport.send(&mail).await.expect("written to the outbox");

    let eml = eml_files(&settings.outbox_dir);
    assert_eq!(eml.len(), 1, "{eml:?}");
    let txt = eml[0].with_extension("txt");
    let text = std::fs::read_to_string(&txt).expect("a .txt beside the .eml");
    assert!(text.starts_with("To: ada@example.com\nSubject: Confirm your email address\n\n"));
    assert!(
        text.lines().any(|line| line == link),
        "the link is one line to copy: {text}"
    );
    assert!(text.ends_with(&mail.text_body), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(&settings.outbox_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_unusable_outbox_folder_fails_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let mut settings = MailSettings::new(FROM);
    settings.outbox_dir = file.join("outbox");
    let err = transport_from_settings(&settings).unwrap_err();
    assert!(
        err.to_string().starts_with("outbox: cannot create"),
        "{err}"
    );
}

#[test]
fn a_bad_from_address_fails_at_start() {
    let err =
        transport_from_settings(&MailSettings::new("authgate at example dot com")).unwrap_err();
    assert!(err.to_string().contains("From address"), "{err}");
    assert!(
        matches!(err, authgate_mail::MailError::Sender(_)),
        "{err:?}"
    );
}
