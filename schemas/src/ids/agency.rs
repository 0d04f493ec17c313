//! Agency codes in the shape of QCVN 102:2016/BTTTT: `V1V2V3.Z1Z2.Y1Y2.MX1X2`.

use std::str::FromStr;

use super::{IdError, all_digits, string_id};

/// An agency code such as `000.00.15.H63`: three digits, two digits, two digits and
/// a letter followed by two digits (`H01`–`H63` for provinces, `G` for central bodies).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);
string_id!(AgencyCode);

impl FromStr for AgencyCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| IdError::new("agency code", s, why);
        let parts: Vec<&str> = s.split('.').collect();
        let [v, z, y, m] = parts.as_slice() else {
            return Err(err("expected four dot-separated parts, e.g. 000.00.15.H63"));
        };
        if v.len() != 3 || !all_digits(v) {
            return Err(err("first part must be 3 digits"));
        }
        if z.len() != 2 || !all_digits(z) || y.len() != 2 || !all_digits(y) {
            return Err(err("second and third parts must be 2 digits each"));
        }
        let mut last = m.chars();
        let letter_ok = last.next().is_some_and(|c| c.is_ascii_uppercase());
        if m.len() != 3 || !letter_ok || !all_digits(&m[1..]) {
            return Err(err("last part must be an upper-case letter and 2 digits, e.g. H63"));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_qcvn_shapes() {
        for ok in ["000.00.15.H63", "000.00.00.H49", "000.04.39.H38", "000.00.00.G01"] {
            assert_eq!(ok.parse::<AgencyCode>().unwrap().to_string(), ok);
        }
    }

    #[test]
    fn refuses_malformed_codes() {
        for bad in [
            "",
            "000.00.15",
            "00.00.15.H63",
            "000.0a.15.H63",
            "000.00.15.h63",
            "000.00.15.H6",
            "000.00.15.H634",
            "000.00.15.663",
            "000.00.15.H63.1",
        ] {
            let e = bad.parse::<AgencyCode>().unwrap_err();
            assert_eq!(e.kind, "agency code", "{bad}");
        }
    }
}
