//! Vietnamese phone numbers, kept in the national `0…` form.

use std::str::FromStr;

use super::{IdError, all_digits, string_id};

/// A Vietnamese phone number normalized to `0` followed by 9 digits. `+84…` and
/// `84…` (11 digits) forms are accepted and rewritten; spaces, dots and dashes
/// between digit groups are ignored.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);
string_id!(PhoneNumber);

impl std::fmt::Debug for PhoneNumber {
    /// Personal data stays out of debug output and therefore out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber(***{})", &self.0[self.0.len() - 2..])
    }
}

impl FromStr for PhoneNumber {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else if compact.len() == 11 && compact.starts_with("84") {
            format!("0{}", &compact[2..])
        } else {
            compact
        };
        let subscriber = &national.get(1..).unwrap_or_default();
        if !national.starts_with('0') || subscriber.len() != 9 || !all_digits(subscriber) {
            return Err(IdError::personal("phone number", "expected 0 and 9 digits, or +84 and 9 digits"));
        }
        if subscriber.starts_with('0') {
            return Err(IdError::personal("phone number", "the digit after the leading 0 cannot be 0"));
        }
        Ok(Self(national))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_international_forms() {
        for input in ["0912345678", "+84912345678", "84912345678", "091 234 5678", "+84 912.345.678"] {
            assert_eq!(input.parse::<PhoneNumber>().unwrap().as_str(), "0912345678", "{input}");
        }
    }

    #[test]
    fn refuses_wrong_lengths_and_prefixes() {
        for bad in ["", "912345678", "09123456789", "091234567", "+85912345678", "0012345678", "09123a5678"] {
            assert!(bad.parse::<PhoneNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_do_not_repeat_the_number() {
        let e = "09123a5678".parse::<PhoneNumber>().unwrap_err();
        assert!(!e.to_string().contains("09123"));
    }
}
