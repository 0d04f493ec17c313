//! UPU S10 postal item codes: 2 letters, 8 digits, a check digit, 2-letter country.

use std::str::FromStr;

use super::{IdError, all_digits, string_id};

/// A postal item code such as `EE123456785VN`, with a verified check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S10ItemCode(String);
string_id!(S10ItemCode);

const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

impl S10ItemCode {
    /// The check digit of an 8-digit serial number: weights 8,6,4,2,3,5,9,7;
    /// c = 11 − (sum mod 11), with 10 → 0 and 11 → 5. `None` unless `serial` is 8 digits.
    pub fn check_digit(serial: &str) -> Option<u8> {
        if serial.len() != 8 || !all_digits(serial) {
            return None;
        }
        let sum: u32 = serial.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
        Some(match 11 - sum % 11 {
            10 => 0,
            11 => 5,
            c => c as u8,
        })
    }

    /// Builds a valid code from a service indicator, a serial and a country code.
    pub fn build(service: &str, serial: u32, country: &str) -> Result<Self, IdError> {
        let serial = format!("{serial:08}");
        let digit = Self::check_digit(&serial)
            .ok_or_else(|| IdError::new("S10 item code", &serial, "serial must have 8 digits"))?;
        format!("{service}{serial}{digit}{country}").parse()
    }
}

impl FromStr for S10ItemCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| IdError::new("S10 item code", s, why);
        let letters = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_uppercase());
        if s.len() != 13 || !s.is_ascii() {
            return Err(err("expected 13 characters: 2 letters, 9 digits, 2 letters"));
        }
        let (service, serial, check, country) = (&s[..2], &s[2..10], &s[10..11], &s[11..]);
        if !letters(service) || !letters(country) || !all_digits(serial) || !all_digits(check) {
            return Err(err("expected 2 upper-case letters, 9 digits, 2 upper-case letters"));
        }
        let expected = Self::check_digit(serial).ok_or_else(|| err("serial must have 8 digits"))?;
        if check.as_bytes()[0] - b'0' != expected {
            return Err(err(&format!("check digit is {check}, expected {expected}")));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_domain_example() {
        assert_eq!(S10ItemCode::check_digit("12345678"), Some(5));
        assert!("EE123456785VN".parse::<S10ItemCode>().is_ok());
        let e = "EE123456784VN".parse::<S10ItemCode>().unwrap_err();
        assert!(e.reason.contains("expected 5"), "{e}");
    }

    #[test]
    fn the_two_special_remainders() {
        assert_eq!(S10ItemCode::check_digit("00000001"), Some(4)); // sum 7 → 11 − 7
        assert_eq!(S10ItemCode::check_digit("00300000"), Some(0)); // sum 12 ≡ 1 → 10 → 0
        assert_eq!(S10ItemCode::check_digit("00000000"), Some(5)); // sum 0 → 11 → 5
        assert_eq!(S10ItemCode::check_digit("1234567"), None);
    }

    #[test]
    fn refuses_malformed_codes() {
        for bad in
            ["", "EE12345678VN", "E1123456785VN", "ee123456785VN", "EE123456785V1", "EE1234567855VN", "EÉ12345678VN"]
        {
            assert!(bad.parse::<S10ItemCode>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn built_codes_parse_and_every_other_digit_fails(serial in 0u32..100_000_000) {
            let code = S10ItemCode::build("RR", serial, "VN").unwrap();
            let text = code.to_string();
            prop_assert!(text.parse::<S10ItemCode>().is_ok());
            let good = text.as_bytes()[10];
            for d in b'0'..=b'9' {
                if d != good {
                    let mut wrong = text.clone().into_bytes();
                    wrong[10] = d;
                    prop_assert!(String::from_utf8(wrong).unwrap().parse::<S10ItemCode>().is_err());
                }
            }
        }
    }
}
