//! Dossier codes of Circular 01/2018/TT-VPCP art. 19: `<agency code>-YYMMDD-NNNN`.

use std::str::FromStr;

use jiff::civil::Date;

use super::{AgencyCode, IdError, all_digits, string_id};

/// A dossier code such as `000.00.15.H63-261125-0007`: the receiving agency, the
/// receipt date in Vietnam time and a per-day, per-agency sequence that starts at
/// 1, is written with at least four digits and widens instead of wrapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierCode(String);
string_id!(DossierCode);

impl DossierCode {
    /// Builds the code of the `seq`-th dossier received by `agency` on `date`;
    /// refuses dates outside 2000–2099 (the code has a two-digit year) and `seq` 0.
    pub fn new(agency: &AgencyCode, date: Date, seq: u64) -> Result<Self, IdError> {
        let shown = format!("{agency}-{date}-{seq}");
        if !(2000..=2099).contains(&date.year()) {
            return Err(IdError::new("dossier code", &shown, "year must be 2000–2099"));
        }
        if seq == 0 {
            return Err(IdError::new("dossier code", &shown, "sequence starts at 1"));
        }
        Ok(Self(format!("{agency}-{:02}{:02}{:02}-{seq:04}", date.year() - 2000, date.month(), date.day())))
    }

    /// The agency part.
    #[expect(clippy::expect_used, reason = "a code is checked whole when it is made")]
    pub fn agency(&self) -> AgencyCode {
        let (agency, _, _) = split(&self.0).expect("validated at construction");
        agency.parse().expect("validated at construction")
    }

    /// The receipt date part.
    #[expect(clippy::expect_used, reason = "a code is checked whole when it is made")]
    pub fn date(&self) -> Date {
        let (_, date, _) = split(&self.0).expect("validated at construction");
        parse_date(date).expect("validated at construction")
    }

    /// The per-day sequence number.
    #[expect(clippy::expect_used, reason = "a code is checked whole when it is made")]
    pub fn seq(&self) -> u64 {
        let (_, _, seq) = split(&self.0).expect("validated at construction");
        seq.parse().expect("validated at construction")
    }
}

fn split(s: &str) -> Option<(&str, &str, &str)> {
    let mut parts = s.rsplitn(3, '-');
    let seq = parts.next()?;
    let date = parts.next()?;
    let agency = parts.next()?;
    Some((agency, date, seq))
}

fn parse_date(yymmdd: &str) -> Option<Date> {
    if yymmdd.len() != 6 || !all_digits(yymmdd) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| yymmdd[r].parse::<i8>().ok();
    Date::new(2000 + i16::from(n(0..2)?), n(2..4)?, n(4..6)?).ok()
}

impl FromStr for DossierCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| IdError::new("dossier code", s, why);
        let (agency, date, seq) = split(s).ok_or_else(|| err("expected <agency code>-YYMMDD-NNNN"))?;
        agency.parse::<AgencyCode>().map_err(|e| err(&format!("agency part: {}", e.reason)))?;
        parse_date(date).ok_or_else(|| err("date part must be a real date as YYMMDD"))?;
        if seq.len() < 4 || !all_digits(seq) {
            return Err(err("sequence must be at least 4 digits"));
        }
        if seq.len() > 4 && seq.starts_with('0') {
            return Err(err("a sequence longer than 4 digits has no leading zero"));
        }
        if seq.len() > 19 || seq.bytes().all(|b| b == b'0') {
            return Err(err("sequence must be a number from 1"));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn agency() -> AgencyCode {
        "000.00.15.H63".parse().unwrap()
    }

    #[test]
    fn builds_the_circular_example() {
        let code = DossierCode::new(&agency(), date(2026, 11, 25), 7).unwrap();
        assert_eq!(code.as_str(), "000.00.15.H63-261125-0007");
        assert_eq!(code.agency(), agency());
        assert_eq!(code.date(), date(2026, 11, 25));
        assert_eq!(code.seq(), 7);
    }

    #[test]
    fn widens_past_9999_instead_of_wrapping() {
        let code = DossierCode::new(&agency(), date(2026, 1, 2), 10_000).unwrap();
        assert_eq!(code.as_str(), "000.00.15.H63-260102-10000");
        assert_eq!(code.as_str().parse::<DossierCode>().unwrap().seq(), 10_000);
    }

    #[test]
    fn refuses_malformed_codes() {
        for bad in [
            "000.00.15.H63-261125-007",
            "000.00.15.H63-261325-0007",
            "000.00.15.H63-261125-00007",
            "000.00.15.H63-261125-0000",
            "000.00.15.H63261125-0007",
            "000.00.15-261125-0007",
            "000.00.15.H63-261125-00a7",
        ] {
            assert!(bad.parse::<DossierCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_sequence_zero_and_other_centuries() {
        assert!(DossierCode::new(&agency(), date(2026, 1, 2), 0).is_err());
        assert!(DossierCode::new(&agency(), date(2126, 1, 2), 1).is_err());
    }
}
