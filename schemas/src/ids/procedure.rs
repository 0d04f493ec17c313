//! Procedure codes of the national procedures database: `d.dddddd`, optionally with a
//! province suffix such as `.H38`, or in the catalogue's agency-level form
//! `d.dddddd.ddd.dd.dd.Lnn` the national portal sends (`1.003560.000.00.00.H56`).

use std::str::FromStr;

use super::{IdError, all_digits, string_id};

/// A procedure code such as `1.001193`, `1.000948.H38` or `2.000049.000.00.00.H38`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureCode(String);
string_id!(ProcedureCode);

impl ProcedureCode {
    /// The national part without the agency or province suffix (`1.000948.H38` and
    /// `1.000948.000.00.00.H38` → `1.000948`).
    pub fn national(&self) -> &str {
        &self.0[..8]
    }
}

impl FromStr for ProcedureCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| IdError::new("procedure code", s, why);
        let mut parts = s.split('.');
        let group = parts.next().unwrap_or_default();
        let number = parts.next().ok_or_else(|| err("expected d.dddddd"))?;
        if group.len() != 1 || !all_digits(group) || number.len() != 6 || !all_digits(number) {
            return Err(err("expected one digit, a dot and six digits, e.g. 1.001193"));
        }
        let rest: Vec<&str> = parts.collect();
        let province = match rest.as_slice() {
            [] => None,
            [province] => Some(*province),
            // The agency-level form: three groups of digits before the province.
            [a, b, c, province]
                if a.len() == 3 && b.len() == 2 && c.len() == 2 && [a, b, c].iter().all(|g| all_digits(g)) =>
            {
                Some(*province)
            }
            [_, _, _, _] => return Err(err("an agency-level code reads d.dddddd.ddd.dd.dd.Lnn")),
            _ => return Err(err("too many parts")),
        };
        if let Some(suffix) = province {
            let letter = suffix.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if suffix.len() != 3 || !letter || !all_digits(&suffix[1..]) {
                return Err(err("a province suffix is a letter and 2 digits, e.g. .H38"));
            }
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_national_and_provincial_codes() {
        assert_eq!("1.001193".parse::<ProcedureCode>().unwrap().national(), "1.001193");
        let provincial: ProcedureCode = "1.000948.H38".parse().unwrap();
        assert_eq!(provincial.national(), "1.000948");
        assert_eq!(provincial.to_string(), "1.000948.H38");
        let agency: ProcedureCode = "1.003560.000.00.00.H56".parse().unwrap();
        assert_eq!(agency.national(), "1.003560");
        assert_eq!(agency.to_string(), "1.003560.000.00.00.H56");
    }

    #[test]
    fn refuses_malformed_codes() {
        for bad in [
            "",
            "1001193",
            "1.00119",
            "12.001193",
            "1.001193.h38",
            "1.001193.H3",
            "a.001193",
            "1.001193.H38.X",
            "1.003560.000.00.H56",
            "1.003560.00.000.00.H56",
            "1.003560.000.00.00.h56",
        ] {
            assert!(bad.parse::<ProcedureCode>().is_err(), "{bad}");
        }
    }
}
