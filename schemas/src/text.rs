//! Vietnamese text normalization: everything the gateway stores or compares is NFC.
//!
//! Portals and old systems send the same name composed (NFC), decomposed (NFD) or
//! half-way; "Nguyễn" must compare equal whatever form it arrived in.

use unicode_normalization::{UnicodeNormalization, is_nfc_quick};

/// Returns `s` in Unicode Normalization Form C, trimmed of surrounding whitespace.
pub fn nfc(s: &str) -> String {
    let s = s.trim();
    match is_nfc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => s.to_owned(),
        _ => s.nfc().collect(),
    }
}

/// Normalizes an optional text field, mapping an empty result to `None`.
pub fn nfc_opt(s: Option<&str>) -> Option<String> {
    s.map(nfc).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_and_nfc_compare_equal_after_normalization() {
        let composed = "Nguyễn";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        assert_eq!(nfc(&decomposed), composed);
        assert_eq!(nfc(composed), composed);
    }

    #[test]
    fn trims_and_drops_empty_optionals() {
        assert_eq!(nfc("  Giàng A Sử "), "Giàng A Sử");
        assert_eq!(nfc_opt(Some("   ")), None);
        assert_eq!(nfc_opt(None), None);
    }
}
