//! Field-by-field validation that collects every failure with its location, and
//! the text rules every field follows (NFC, no control characters, bounded length).

use std::{fmt::Display, str::FromStr};

use motcua_schemas::{FieldError, text::nfc};

use crate::InboundError;

/// Longest free-text field accepted, in characters.
pub const MAX_TEXT: usize = 1000;
/// Longest name-like field accepted, in characters.
pub const MAX_NAME: usize = 300;
/// Most documents one dossier may list.
pub const MAX_DOCUMENTS: usize = 200;
/// Most fees one dossier may list.
pub const MAX_FEES: usize = 50;

/// Collects validation failures.
///
/// Its checks take the failure's location as anything that displays as a JSON
/// pointer (`format_args!("{at}/Name")` as well as a `&str`), so that a location is
/// written out only when something fails there, not for every valid field.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    /// Records a failure at `pointer`.
    pub fn fail(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, message));
    }

    /// A required text field: NFC-normalized, trimmed, non-empty, at most `max`
    /// characters, without control characters (tabs and line breaks allowed).
    pub fn text(&mut self, pointer: impl Display, value: &str, max: usize) -> String {
        let text = nfc(value);
        if text.is_empty() {
            self.fail(pointer.to_string(), "must not be empty");
        } else {
            self.check_text(pointer, &text, max);
        }
        text
    }

    /// An optional text field: as `text`, with empty meaning absent.
    pub fn opt_text(&mut self, pointer: impl Display, value: Option<&str>, max: usize) -> Option<String> {
        let text = nfc(value?);
        if text.is_empty() {
            return None;
        }
        self.check_text(pointer, &text, max);
        Some(text)
    }

    fn check_text(&mut self, pointer: impl Display, text: &str, max: usize) {
        if let Some(reason) = motcua_schemas::text::refused_in(text) {
            self.fail(pointer.to_string(), reason);
        } else if text.chars().count() > max {
            self.fail(pointer.to_string(), format!("longer than {max} characters"));
        }
    }

    /// Parses a validated identifier, recording its error.
    pub fn parse<T>(&mut self, pointer: impl Display, value: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match value.trim().parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(pointer.to_string(), e.to_string());
                None
            }
        }
    }

    /// True when nothing failed so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` when nothing failed so far, else every failure so far (leaving none).
    pub fn checkpoint(&mut self) -> Result<(), InboundError> {
        std::mem::take(self).finish()
    }

    /// `Ok` when nothing failed, else every failure.
    pub fn finish(self) -> Result<(), InboundError> {
        if self.errors.is_empty() { Ok(()) } else { Err(InboundError::Invalid(self.errors)) }
    }
}

/// The portal's digitization codes of one document (`DuocSoHoa`, `DuocTaiSuDung`,
/// `DuocLayTuKhoDMQG`, each `"0"` or `"1"`, `DuocTaiSuDung` also `"2"`; docs/PORTAL.md,
/// "Digitization"), read through `field`; an absent or empty code is `"0"`.
pub fn digitization(c: &mut Checker, at: &str, field: impl Fn(&str) -> Option<String>) -> motcua_schemas::Digitization {
    let mut flag = |name: &str, allowed: &[&str]| match field(name).as_deref().map(str::trim) {
        None | Some("") | Some("0") => false,
        Some(v) if allowed.contains(&v) => true,
        Some(_) => {
            c.fail(format!("{at}/{name}"), format!("must be one of 0, {}", allowed.join(", ")));
            false
        }
    };
    motcua_schemas::Digitization {
        digitized: flag("DuocSoHoa", &["1"]),
        reused: flag("DuocTaiSuDung", &["1", "2"]),
        from_national_store: flag("DuocLayTuKhoDMQG", &["1"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        let mut c = Checker::default();
        assert_eq!(c.text("/a", "  Nguyễn ", 10), "Nguyễn");
        c.text("/b", "", 10);
        c.text("/c", "a\u{0}b", 10);
        c.text("/d", "dài quá mười ký tự", 10);
        c.text("/f", "An\u{202E}h", 10);
        assert_eq!(c.opt_text("/e", Some("  "), 10), None);
        let Err(InboundError::Invalid(errors)) = c.finish() else { panic!() };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/b", "/c", "/d", "/f"]);
    }
}
