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

/// Why `c` may not appear in stored text, if it may not: control characters (other
/// than tab and line breaks), Unicode format characters (bidi overrides and isolates,
/// zero-width characters, the byte-order mark, soft hyphen, tags, …), which make text
/// display other than it reads, and non-characters (U+FFFE, U+FFFF, U+FDD0–U+FDEF and
/// the last two of every plane), which XML and many peers refuse.
pub fn refused_char(c: char) -> Option<&'static str> {
    let u = u32::from(c);
    if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
        return Some("control characters are not allowed");
    }
    if (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE {
        return Some("Unicode non-characters are not allowed");
    }
    // The general category Cf (format), Unicode 15.1.
    let format = matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    format.then_some("invisible formatting characters (bidi overrides, zero-width characters, …) are not allowed")
}

/// The first reason some character of `s` may not be stored, if any.
pub fn refused_in(s: &str) -> Option<&'static str> {
    s.chars().find_map(refused_char)
}

/// Normalizes an optional text field, mapping an empty result to `None`.
pub fn nfc_opt(s: Option<&str>) -> Option<String> {
    s.map(nfc).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_characters_and_non_characters_are_refused() {
        for bad in [
            "Nguy\u{202E}ễn",
            "A\u{200B}B",
            "\u{FEFF}An",
            "x\u{FFFE}",
            "x\u{FFFF}",
            "\u{2066}a\u{2069}",
            "a\u{1FFFF}",
            "a\u{FDD0}",
            "a\u{0}",
        ] {
            assert!(refused_in(bad).is_some(), "{bad:?}");
        }
        for good in ["Giàng A Sử", "Nguyễn Văn Ánh", "số 12, tổ 3\nphường Yên Bái", "Hồ sơ\t(bản sao)"]
        {
            assert_eq!(refused_in(good), None, "{good:?}");
        }
    }

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
