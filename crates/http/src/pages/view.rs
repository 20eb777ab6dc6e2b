//! [`PageView`]: everything a page template may use. Every page gets the same shape (unused
//! parts empty), so one sample renders every template at start-up under strict undefined
//! checking.

use serde::Serialize;

use super::config::Pages;
use crate::dto::UserDto;

/// What a page template sees.
#[derive(Debug, Default, Serialize)]
pub(crate) struct PageView {
    /// The `<h1>` and the `<title>`.
    pub(crate) title: String,
    pub(crate) brand: BrandView,
    /// The stylesheet's URL (content-hashed, cached for a year).
    pub(crate) stylesheet: String,
    /// The CSRF token every form posts back.
    pub(crate) csrf_token: String,
    /// A confirmation ("Your password was changed").
    pub(crate) notice: Option<String>,
    /// What went wrong with the form as a whole.
    pub(crate) error: Option<String>,
    /// The fields with problems, for the error summary's links.
    pub(crate) error_fields: Vec<FieldRef>,
    /// Problems per field, shown under each field.
    pub(crate) errors: FieldErrors,
    /// What the person typed (never a password), to fill the form again.
    pub(crate) values: FormValues,
    /// Where to go after signing in (carried through the sign-in and sign-up forms).
    pub(crate) rd: Option<String>,
    /// The one-time token of a verification or reset link.
    pub(crate) token: Option<String>,
    /// The password policy in one sentence.
    pub(crate) password_hint: String,
    pub(crate) links: Links,
    /// The signed-in user (account page).
    pub(crate) user: Option<UserDto>,
    /// When the account was created, for people.
    pub(crate) member_since: String,
    /// The user's sessions (account page).
    pub(crate) sessions: Vec<SessionRow>,
    /// The text of a message page.
    pub(crate) paragraphs: Vec<String>,
    /// The message page's way on.
    pub(crate) next: Option<LinkView>,
    /// A one-button form: where it posts and what its button says.
    pub(crate) action: Option<LinkView>,
}

/// The operator's branding.
#[derive(Debug, Default, Serialize)]
pub(crate) struct BrandView {
    pub(crate) name: String,
    pub(crate) logo_url: Option<String>,
}

/// Links between the sign-in and sign-up pages, carrying `rd`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Links {
    pub(crate) login: String,
    pub(crate) register: String,
}

/// A link with its text.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LinkView {
    pub(crate) href: String,
    pub(crate) label: String,
}

/// A field named in the error summary.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FieldRef {
    /// The input's id.
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
}

/// Problems per form field, as the API words them ("must contain a digit"); the template
/// puts the field's label in front.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct FieldErrors {
    pub(crate) identifier: Vec<String>,
    pub(crate) password: Vec<String>,
    pub(crate) name: Vec<String>,
    pub(crate) email: Vec<String>,
    pub(crate) current_password: Vec<String>,
    pub(crate) new_password: Vec<String>,
    /// The account page's change-email form.
    pub(crate) new_email: Vec<String>,
    /// Its password field (the password form on the same page has `currentPassword`).
    pub(crate) email_password: Vec<String>,
}

impl FieldErrors {
    /// The list of the form field the API calls `api_field`; `None` for a field no page has.
    pub(crate) fn slot(&mut self, api_field: &str) -> Option<(&mut Vec<String>, FieldRef)> {
        let (list, id, label) = match api_field {
            "identifier" | "username" => (&mut self.identifier, "identifier", "Email or username"),
            "password" => (&mut self.password, "password", "Password"),
            "name" | "firstName" | "lastName" => (&mut self.name, "name", "Name"),
            "email" => (&mut self.email, "email", "Email"),
            "currentPassword" => (
                &mut self.current_password,
                "currentPassword",
                "Current password",
            ),
            "newPassword" => (&mut self.new_password, "newPassword", "New password"),
            "newEmail" => (&mut self.new_email, "newEmail", "New email address"),
            "emailPassword" => (&mut self.email_password, "emailPassword", "Your password"),
            _ => return None,
        };
        Some((list, FieldRef { id, label }))
    }
}

/// What the person typed, to show the form again.
#[derive(Debug, Default, Serialize)]
pub(crate) struct FormValues {
    pub(crate) identifier: String,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// One session as the account page lists it.
#[derive(Debug, Serialize)]
pub(crate) struct SessionRow {
    pub(crate) id: String,
    /// "Chrome on Linux".
    pub(crate) device: String,
    pub(crate) ip: String,
    pub(crate) created: String,
    pub(crate) last_used: String,
    pub(crate) current: bool,
}

impl PageView {
    /// A view of `title` with the branding, stylesheet and `csrf_token` filled in.
    pub(crate) fn new(pages: &Pages, title: &str, csrf_token: &str) -> PageView {
        PageView {
            title: title.to_owned(),
            brand: BrandView {
                name: pages.config.brand_name.clone(),
                logo_url: pages.config.logo_url.clone(),
            },
            stylesheet: pages.stylesheet.href.clone(),
            csrf_token: csrf_token.to_owned(),
            links: Links {
                login: "/login".into(),
                register: "/register".into(),
            },
            ..PageView::default()
        }
    }

    /// A view with every part filled, for checking the templates at start-up.
    pub(crate) fn sample(pages: &Pages) -> PageView {
        let mut view = PageView::new(pages, "Sample", "sample-csrf");
        let problem = || vec!["is required".to_owned()];
        view.notice = Some("Done.".into());
        view.error = Some("Please correct the fields below.".into());
        view.error_fields = vec![FieldRef {
            id: "email",
            label: "Email",
        }];
        view.errors = FieldErrors {
            identifier: problem(),
            password: problem(),
            name: problem(),
            email: problem(),
            current_password: problem(),
            new_password: problem(),
            new_email: problem(),
            email_password: problem(),
        };
        view.rd = Some("/account".into());
        view.token = Some("sample-token".into());
        view.password_hint = "At least 8 characters.".into();
        view.user = Some(UserDto {
            id: "sample".into(),
            email: Some("ada@example.com".into()),
            username: Some("ada".into()),
            name: Some("Ada Lovelace".into()),
            first_name: None,
            last_name: None,
            role: "user".into(),
            email_verified: false,
            created_at: chrono::DateTime::UNIX_EPOCH,
            last_login_at: None,
        });
        view.member_since = "2025-01-01".into();
        view.sessions = vec![SessionRow {
            id: "s1".into(),
            device: "Chrome on Linux".into(),
            ip: "192.0.2.1".into(),
            created: "2025-01-01 10:00 UTC".into(),
            last_used: "2025-01-01 11:00 UTC".into(),
            current: false,
        }];
        view.paragraphs = vec!["Sample.".into()];
        view.next = Some(LinkView {
            href: "/account".into(),
            label: "Go on".into(),
        });
        view.action = Some(LinkView {
            href: "/confirm-email-change".into(),
            label: "Confirm".into(),
        });
        view
    }
}
