//! Opaque pagination cursors: the last id of a page, tagged with what it pages, in unpadded
//! base64url. Clients pass them back unchanged; anything else is a validation error on
//! `cursor` (400), never a silent first page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::AuthError;

/// What a cursor pages through; a cursor of one list is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    /// The user list (ascending ids).
    Users,
    /// The audit trail (descending ids).
    Audit,
}

impl CursorKind {
    fn tag(self) -> &'static str {
        match self {
            CursorKind::Users => "u",
            CursorKind::Audit => "a",
        }
    }
}

/// The cursor that resumes after `id`.
pub fn encode(kind: CursorKind, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.tag()))
}

/// The id a cursor resumes after; `Validation` on `cursor` unless this server issued it for
/// this list.
pub fn decode(kind: CursorKind, cursor: &str) -> Result<String, AuthError> {
    let bad = || AuthError::field("cursor", "is not a cursor this list issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (tag, id) = text.split_once(':').ok_or_else(bad)?;
    if tag != kind.tag() || uuid::Uuid::parse_str(id).is_err() {
        return Err(bad());
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_for_its_own_list_only() {
        let id = uuid::Uuid::now_v7().to_string();
        let c = encode(CursorKind::Users, &id);
        assert_eq!(decode(CursorKind::Users, &c).unwrap(), id);
        assert!(decode(CursorKind::Audit, &c).is_err());
    }

    #[test]
    fn garbage_cursors_are_validation_errors() {
        for bad in ["", "!!", "dTpub3QtYS11dWlk", "eDox"] {
            assert!(matches!(
                decode(CursorKind::Users, bad),
                Err(AuthError::Validation { .. })
            ));
        }
    }
}
