//! Personal and organisational identity numbers: the 12-digit citizen ID (CCCD), the
//! legacy 9-digit ID, and tax codes (10 digits, or 10 + `-` + 3 for a branch).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{IdError, all_digits, string_id};

/// A citizen identity number: 12 digits (CCCD) or the legacy 9-digit ID card.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CitizenId(String);
string_id!(CitizenId);

/// The national portal's `LoaiDinhDanh`: which kind of identity number an applicant gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// `LoaiDinhDanh` 1: the 12-digit citizen ID.
    CitizenId,
    /// `LoaiDinhDanh` 2: the legacy 9-digit ID card.
    LegacyId,
    /// A tax code, for organisations.
    TaxCode,
}

impl IdKind {
    /// The national portal's numeric code (`LoaiDinhDanh`); tax codes have none and use 3.
    pub fn portal_code(self) -> u8 {
        match self {
            IdKind::CitizenId => 1,
            IdKind::LegacyId => 2,
            IdKind::TaxCode => 3,
        }
    }

    /// The kind for a national portal `LoaiDinhDanh` code.
    pub fn from_portal_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(IdKind::CitizenId),
            2 => Some(IdKind::LegacyId),
            3 => Some(IdKind::TaxCode),
            _ => None,
        }
    }
}

impl CitizenId {
    /// Parses a number that must be of the given kind (12 digits for `CitizenId`,
    /// 9 for `LegacyId`).
    pub fn parse_as(s: &str, kind: IdKind) -> Result<Self, IdError> {
        let id: CitizenId = s.parse()?;
        match (kind, id.0.len()) {
            (IdKind::CitizenId, 12) | (IdKind::LegacyId, 9) => Ok(id),
            (IdKind::CitizenId, _) => Err(IdError::personal("citizen ID", "a CCCD has 12 digits")),
            (IdKind::LegacyId, _) => Err(IdError::personal("citizen ID", "a legacy ID has 9 digits")),
            (IdKind::TaxCode, _) => Err(IdError::personal("citizen ID", "a tax code is not a citizen ID")),
        }
    }

    /// The kind this number's length implies.
    pub fn kind(&self) -> IdKind {
        if self.0.len() == 12 { IdKind::CitizenId } else { IdKind::LegacyId }
    }

    /// The last four digits, which the public lookup compares against.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl std::fmt::Debug for CitizenId {
    /// Personal data stays out of debug output and therefore out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CitizenId(***{})", &self.0[self.0.len() - 2..])
    }
}

impl FromStr for CitizenId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !all_digits(s) || !matches!(s.len(), 9 | 12) {
            return Err(IdError::personal("citizen ID", "expected 12 digits (CCCD) or 9 digits (legacy ID)"));
        }
        Ok(Self(s.to_owned()))
    }
}

/// A tax code: 10 digits, or 10 digits, `-` and 3 digits for a branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaxCode(String);
string_id!(TaxCode);

impl FromStr for TaxCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (main, branch) = match s.split_once('-') {
            Some((main, branch)) => (main, Some(branch)),
            None => (s, None),
        };
        let main_ok = main.len() == 10 && all_digits(main);
        let branch_ok = branch.is_none_or(|b| b.len() == 3 && all_digits(b));
        if !main_ok || !branch_ok {
            return Err(IdError::personal("tax code", "expected 10 digits, or 10 digits-3 digits for a branch"));
        }
        Ok(Self(s.to_owned()))
    }
}

/// An applicant's identity number of any kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PersonalId {
    /// A citizen ID (12 or 9 digits).
    Citizen(CitizenId),
    /// An organisation's tax code.
    Tax(TaxCode),
}

impl PersonalId {
    /// Parses `s` as the kind the caller declared.
    pub fn parse_as(s: &str, kind: IdKind) -> Result<Self, IdError> {
        match kind {
            IdKind::TaxCode => s.parse().map(PersonalId::Tax),
            _ => CitizenId::parse_as(s, kind).map(PersonalId::Citizen),
        }
    }

    /// The kind of this number.
    pub fn kind(&self) -> IdKind {
        match self {
            PersonalId::Citizen(id) => id.kind(),
            PersonalId::Tax(_) => IdKind::TaxCode,
        }
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        match self {
            PersonalId::Citizen(id) => id.as_str(),
            PersonalId::Tax(code) => code.as_str(),
        }
    }

    /// The last four characters, which the public lookup compares against.
    pub fn last4(&self) -> &str {
        let s = self.as_str();
        &s[s.len() - 4..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizen_ids_by_kind() {
        assert!(CitizenId::parse_as("015090001234", IdKind::CitizenId).is_ok());
        assert!(CitizenId::parse_as("015090001", IdKind::LegacyId).is_ok());
        assert!(CitizenId::parse_as("015090001", IdKind::CitizenId).is_err());
        assert!(CitizenId::parse_as("015090001234", IdKind::LegacyId).is_err());
        assert!("01509000123a".parse::<CitizenId>().is_err());
        assert!("0150900012345".parse::<CitizenId>().is_err());
        assert_eq!("015090001234".parse::<CitizenId>().unwrap().last4(), "1234");
    }

    #[test]
    fn debug_output_hides_the_number() {
        let id: CitizenId = "015090001234".parse().unwrap();
        assert!(!format!("{id:?}").contains("015090001234"));
    }

    #[test]
    fn tax_codes_with_and_without_branch() {
        assert!("0101243150".parse::<TaxCode>().is_ok());
        assert!("0101243150-001".parse::<TaxCode>().is_ok());
        for bad in ["010124315", "0101243150-01", "0101243150-0011", "0101243150_001", "01012431a0"] {
            assert!(bad.parse::<TaxCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn personal_ids_follow_the_declared_kind() {
        assert_eq!(PersonalId::parse_as("0101243150-001", IdKind::TaxCode).unwrap().kind(), IdKind::TaxCode);
        assert!(PersonalId::parse_as("015090001234", IdKind::TaxCode).is_err());
        assert_eq!(PersonalId::parse_as("015090001234", IdKind::CitizenId).unwrap().last4(), "1234");
    }
}
