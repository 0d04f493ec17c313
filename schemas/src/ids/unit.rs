//! Administrative unit codes of the statistics office: province 2 digits, district 3
//! digits, commune 5 digits.

use std::str::FromStr;

use super::{IdError, all_digits, string_id};

/// An administrative unit code such as `15`, `139` or `04585`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitCode(String);
string_id!(UnitCode);

/// Which shape of code a unit has; the configured tree gives the real level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitCodeKind {
    /// Two digits.
    Province,
    /// Three digits.
    District,
    /// Five digits.
    Commune,
}

impl UnitCode {
    /// The shape of this code.
    pub fn kind(&self) -> UnitCodeKind {
        match self.0.len() {
            2 => UnitCodeKind::Province,
            3 => UnitCodeKind::District,
            _ => UnitCodeKind::Commune,
        }
    }
}

impl FromStr for UnitCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !all_digits(s) || !matches!(s.len(), 2 | 3 | 5) {
            return Err(IdError::new("unit code", s, "expected 2 (province), 3 (district) or 5 (commune) digits"));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_three_shapes() {
        assert_eq!("15".parse::<UnitCode>().unwrap().kind(), UnitCodeKind::Province);
        assert_eq!("139".parse::<UnitCode>().unwrap().kind(), UnitCodeKind::District);
        assert_eq!("04585".parse::<UnitCode>().unwrap().kind(), UnitCodeKind::Commune);
    }

    #[test]
    fn refuses_other_lengths_and_letters() {
        for bad in ["", "1", "1234", "045850", "04a85", " 15"] {
            assert!(bad.parse::<UnitCode>().is_err(), "{bad}");
        }
    }
}
