//! [`ParsedMail`]: a received message, parsed with `mail-parser`.

use mail_parser::{MessageParser, PartType};

/// A mail as the test SMTP server received it.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// Decoded subject.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
    /// Every header in order, as (name, raw value unfolded). The server adds `X-MailFrom`
    /// and `X-RcptTo` with the SMTP envelope.
    pub headers: Vec<(String, String)>,
    /// The whole message as received.
    pub raw: String,
}

impl ParsedMail {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses an RFC 5322 message (also usable on outbox `.eml` files).
    pub fn parse(raw: &[u8]) -> Option<ParsedMail> {
        let message = MessageParser::default().parse(raw)?;
        let mut text = String::new();
        let mut html = String::new();
        for part in &message.parts {
            match &part.body {
                PartType::Text(t) if text.is_empty() => text = t.to_string(),
                PartType::Html(h) if html.is_empty() => html = h.to_string(),
                _ => {}
            }
        }
        let headers = message
            .headers()
            .iter()
            .map(|h| {
                let value = raw
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .map(|v| {
                        String::from_utf8_lossy(v)
                            .replace("\r\n", "")
                            .replace('\n', "")
                    })
                    .unwrap_or_default();
                (h.name.as_str().to_owned(), value.trim().to_owned())
            })
            .collect();
        Some(ParsedMail {
            subject: message.subject().unwrap_or_default().to_owned(),
            text,
            html,
            headers,
            raw: String::from_utf8_lossy(raw).into_owned(),
        })
    }

    /// True if the envelope recipient or the To header contains `to` (case-insensitive).
    pub(super) fn is_for(&self, to: &str) -> bool {
        let to = to.to_ascii_lowercase();
        ["X-RcptTo", "To"].iter().any(|h| {
            self.header(h)
                .is_some_and(|v| v.to_ascii_lowercase().contains(&to))
        })
    }
}
