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

/// `s` as it may be printed on a terminal: every control and format character (an
/// escape sequence, a carriage return, a bidi override) written out as `\u{…}`, so
/// that text from a peer can neither move the cursor nor read other than it is.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() || refused_char(c).is_some();
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What a masked number shows instead of its digits.
pub const MASKED: &str = "[đã ẩn]";

/// `s` with every run of nine or more digits that stands as a word of its own —
/// identity numbers (9 or 12 digits), tax codes, phone numbers, written with or
/// without spaces, dots or a leading `+` — replaced by [`MASKED`]. Text from a peer
/// (an error, a tracking message) is personal data until proven otherwise; dossier
/// codes and S10 codes, whose digits are joined to letters or dashes, stay readable.
pub fn scrub_personal(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        let bounded_before = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '-');
        if !(starts && bounded_before) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, each group joined by at most one space or dot.
        let mut end = i + 1;
        let mut digits = usize::from(chars[i].is_ascii_digit());
        while end < chars.len() {
            if chars[end].is_ascii_digit() {
                digits += 1;
                end += 1;
            } else if matches!(chars[end], ' ' | '.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
                end += 1;
            } else {
                break;
            }
        }
        let bounded_after = chars.get(end).is_none_or(|c| !(c.is_alphanumeric() || *c == '-'));
        if digits >= 9 && bounded_after {
            out.push_str(MASKED);
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
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
    fn terminal_text_shows_its_control_characters() {
        assert_eq!(printable("Tất cả hàng đợi trống"), "Tất cả hàng đợi trống");
        assert_eq!(printable("a\u{1b}[2Jb\r\n"), "a\\u{1b}[2Jb\\u{d}\\u{a}");
        assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn personal_numbers_are_scrubbed_and_codes_kept() {
        let text = "Lỗi: Lò Văn A, CCCD 015090007777, ĐT 0987654321 / 0987 654 321 / +84 987.654.321; \
                    hồ sơ 000.07.20.H38-261201-0001, bưu gửi EE123456785VN, mã 100";
        let scrubbed = scrub_personal(text);
        for gone in ["015090007777", "0987654321", "0987 654 321", "987.654.321"] {
            assert!(!scrubbed.contains(gone), "{gone} in {scrubbed}");
        }
        for kept in ["000.07.20.H38-261201-0001", "EE123456785VN", "mã 100", "Lò Văn A"] {
            assert!(scrubbed.contains(kept), "{kept} lost in {scrubbed}");
        }
        assert_eq!(scrub_personal("CMND 012345678."), format!("CMND {MASKED}."));
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
