//! Built-in templates, operator overrides and start-up validation.

use authgate_core::mail::{MailContext, MailKind, MailRenderer};
use authgate_mail::{MailError, TemplateRenderer};

fn context(link: Option<&str>) -> MailContext {
    MailContext {
        to: "ada@example.com".into(),
        name: Some("Ada <script>".into()),
        link: link.map(str::to_owned),
        expires_in_minutes: 60,
        expires_in: "1 hour".into(),
        forgot_password_url: "https://auth.example.com/forgot-password".into(),
        public_url: "https://auth.example.com".into(),
    }
}

#[test]
fn built_in_templates_show_the_link_as_a_button_and_as_text() {
    let renderer = TemplateRenderer::new(None).unwrap();
    let link = "https://auth.example.com/reset-password?token=abc&x=1";
    let mail = renderer
        .render(MailKind::ResetPassword, &context(Some(link)))
        .unwrap();
    assert_eq!(mail.subject, "Reset your password");
    assert!(mail.text.contains(link), "{}", mail.text);
    assert!(mail.text.contains("valid for 1 hour and"), "{}", mail.text);
    assert!(!mail.text.contains("minutes"), "{}", mail.text);
    let escaped = "https://auth.example.com/reset-password?token=abc&amp;x=1";
    assert_eq!(
        mail.html.matches(&format!("href=\"{escaped}\"")).count(),
        2,
        "button and text link"
    );
    assert!(mail.html.contains(&format!(">{escaped}</a>")));
    assert!(mail.html.contains("<html lang=\"en\">"));
    assert!(
        !mail.html.contains("<img") && !mail.html.contains("src="),
        "no remote images"
    );
}

#[test]
fn html_templates_escape_values_and_text_templates_do_not() {
    let renderer = TemplateRenderer::new(None).unwrap();
    let mail = renderer
        .render(MailKind::VerifyEmail, &context(Some("https://x/1")))
        .unwrap();
    assert!(
        mail.html.contains("Hello Ada &lt;script&gt;,"),
        "{}",
        mail.html
    );
    assert!(
        mail.text.starts_with("Hello Ada <script>,"),
        "{}",
        mail.text
    );
}

#[test]
fn every_kind_renders_without_a_name_or_link() {
    let renderer = TemplateRenderer::new(None).unwrap();
    let ctx = MailContext {
        name: None,
        ..context(None)
    };
    let mail = renderer.render(MailKind::PasswordChanged, &ctx).unwrap();
    assert_eq!(mail.subject, "Your password was changed");
    assert!(mail.text.starts_with("Hello there,"));
    assert!(mail.html.contains("https://auth.example.com"));
}

#[test]
fn the_password_changed_notice_links_to_the_forgot_password_page() {
    let renderer = TemplateRenderer::new(None).unwrap();
    let mail = renderer
        .render(MailKind::PasswordChanged, &context(None))
        .unwrap();
    let page = "https://auth.example.com/forgot-password";
    assert!(mail.text.contains(page), "{}", mail.text);
    assert!(
        mail.html.contains(&format!("href=\"{page}\"")),
        "{}",
        mail.html
    );
}

#[test]
fn a_pages_subfolder_in_the_template_folder_is_not_a_mail_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pages")).unwrap();
    std::fs::write(dir.path().join("pages").join("login.html"), "{{ oops").unwrap();
    TemplateRenderer::new(Some(dir.path())).expect("pages/ is not read as mail");
}

#[test]
fn operator_templates_override_the_defaults_one_file_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("verify_email.html"),
        "<p>Hi {{ name }}: <a href=\"{{ link }}\">go</a></p>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("verify_email.subject"),
        "  Welcome to\n  Example  \n",
    )
    .unwrap();
    let renderer = TemplateRenderer::new(Some(dir.path())).unwrap();

    let mail = renderer
        .render(MailKind::VerifyEmail, &context(Some("https://x/?a=1&b=2")))
        .unwrap();
    assert_eq!(mail.subject, "Welcome to Example", "one line");
    assert_eq!(
        mail.html,
        "<p>Hi Ada &lt;script&gt;: <a href=\"https://x/?a=1&amp;b=2\">go</a></p>\n"
    );
    assert!(
        mail.text.contains("Please confirm your email address"),
        "text keeps the default"
    );
    let reset = renderer
        .render(MailKind::ResetPassword, &context(Some("https://x/r")))
        .unwrap();
    assert_eq!(
        reset.subject, "Reset your password",
        "other kinds keep the defaults"
    );
}

#[test]
fn a_broken_template_fails_at_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reset_password.txt"), "Hello {{ name ").unwrap();
    let err = TemplateRenderer::new(Some(dir.path())).unwrap_err();
    assert!(matches!(err, MailError::Template(_)));
    assert!(
        err.to_string()
            .contains("operator template reset_password.txt"),
        "{err}"
    );
}

#[test]
fn a_template_using_an_unknown_variable_fails_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("password_changed.html"),
        "<p>{{ lnik }}</p>",
    )
    .unwrap();
    let err = TemplateRenderer::new(Some(dir.path())).unwrap_err();
    assert!(err.to_string().contains("password_changed.html"), "{err}");
}

#[test]
fn a_missing_template_folder_fails_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = TemplateRenderer::new(Some(&dir.path().join("nope"))).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}
