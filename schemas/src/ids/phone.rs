//! Vietnamese phone numbers, kept in the national `0…` form.

use std::str::FromStr;

use super::{IdError, all_digits, string_id};

/// A Vietnamese phone number in the national form: a mobile number (`0` and 9
/// digits, the first not `0`) or a landline (`02`, a two- or three-digit area code and
/// the subscriber: 11 digits in all since the area codes changed in 2017). `+84…` and
/// `84…` forms are accepted and rewritten; spaces, dots and dashes between digit
/// groups are ignored.
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
        let international = compact.strip_prefix("+84").or_else(|| {
            // Without the `+`, `84` starts an international form only at its lengths
            // (a national number never starts with 8).
            compact.strip_prefix("84").filter(|rest| rest.len() == 9 || rest.len() == 10)
        });
        let national = match international {
            Some(rest) => format!("0{rest}"),
            None => compact,
        };
        let digits = national.get(1..).unwrap_or_default();
        if !national.starts_with('0') || !all_digits(digits) {
            return Err(IdError::personal(
                "phone number",
                "expected 0 and 9 digits (mobile) or 02 and 9 digits (landline), or +84 for the 0",
            ));
        }
        match digits.len() {
            9 if digits.starts_with('0') => {
                Err(IdError::personal("phone number", "the digit after the leading 0 cannot be 0"))
            }
            9 => Ok(Self(national)),
            10 if digits.starts_with('2') => Ok(Self(national)),
            10 => Err(IdError::personal("phone number", "an 11-digit number is a landline and starts with 02")),
            _ => Err(IdError::personal(
                "phone number",
                "expected 0 and 9 digits (mobile) or 02 and 9 digits (landline), or +84 for the 0",
            )),
        }
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
    fn takes_landlines_with_their_area_codes() {
        // Hà Nội 024, Yên Bái (now Lào Cai) 0216, in every written form.
        for (input, national) in [
            ("02438253536", "02438253536"),
            ("024 3825 3536", "02438253536"),
            ("+842438253536", "02438253536"),
            ("842163852222", "02163852222"),
            ("0216.385.2222", "02163852222"),
        ] {
            assert_eq!(input.parse::<PhoneNumber>().unwrap().as_str(), national, "{input}");
        }
    }

    #[test]
    fn refuses_wrong_lengths_and_prefixes() {
        for bad in [
            "",
            "912345678",
            "09123456789",
            "091234567",
            "+85912345678",
            "0012345678",
            "09123a5678",
            "021638522221",
            "09163852222",
        ] {
            assert!(bad.parse::<PhoneNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_do_not_repeat_the_number() {
        let e = "09123a5678".parse::<PhoneNumber>().unwrap_err();
        assert!(!e.to_string().contains("09123"));
    }
}
