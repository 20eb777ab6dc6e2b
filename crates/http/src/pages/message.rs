//! Message pages: a heading, a few sentences and a link on (a verified address, a reset
//! link that no longer works, a form that could not be read).

use axum::http::StatusCode;
use axum::response::Response;

use super::respond::{html, Cookies};
use super::site::Site;
use super::templates::Page;
use super::view::{LinkView, PageView};

/// What a message page says.
pub(crate) struct Message {
    title: String,
    paragraphs: Vec<String>,
    next: Option<LinkView>,
}

impl Message {
    /// A message titled `title` saying `text`.
    pub(crate) fn new(title: &str, text: &str) -> Message {
        Message {
            title: title.to_owned(),
            paragraphs: vec![text.to_owned()],
            next: None,
        }
    }

    /// Adds a paragraph.
    pub(crate) fn and(mut self, text: &str) -> Message {
        self.paragraphs.push(text.to_owned());
        self
    }

    /// Ends with a link to `href` reading `label`.
    pub(crate) fn next(mut self, href: &str, label: &str) -> Message {
        self.next = Some(LinkView {
            href: href.to_owned(),
            label: label.to_owned(),
        });
        self
    }
}

/// The message page (it has no form, so no CSRF token).
pub(crate) fn message_page(
    site: &Site,
    status: StatusCode,
    message: Message,
    cookies: Cookies,
) -> Response {
    let mut view = PageView::new(&site.pages, &message.title, "");
    view.paragraphs = message.paragraphs;
    view.next = message.next;
    html(site, status, Page::Message, &view, cookies)
}
