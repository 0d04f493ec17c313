//! Building a province's units file from the official dataset's format (the
//! post-reform list with what each unit was formed from, the pre-reform list of
//! provinces, districts and communes, and the succession table from old communes to
//! new ones): the province and its communes from the reform date, the former
//! provinces, districts and communes until the day before with their successors,
//! and the rows that could not be matched, listed for a person to settle.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use serde::Deserialize;

/// Why the files could not be turned into units.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file is not in the expected format.
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The province is not in the post-reform list.
    #[error("province {0} is not in the post-reform list")]
    NoProvince(String),
}

#[derive(Deserialize)]
struct Current {
    effective: String,
    provinces: Vec<CurrentProvince>,
}

#[derive(Deserialize)]
struct CurrentProvince {
    code: String,
    name: String,
    formed_from: serde_json::Value,
    communes: Vec<CurrentCommune>,
}

#[derive(Deserialize)]
struct CurrentCommune {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct Former {
    provinces: Vec<FormerProvince>,
}

#[derive(Deserialize)]
struct FormerProvince {
    code: String,
    name: String,
    districts: Vec<FormerDistrict>,
}

#[derive(Deserialize)]
struct FormerDistrict {
    code: String,
    name: String,
    communes: Vec<CurrentCommune>,
}

/// One row of the succession table that could not be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// The former commune's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its district.
    pub district: String,
    /// Why.
    pub reason: String,
}

/// The units file and what is left to settle.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The TOML text of the units file.
    pub toml: String,
    /// Communes in force.
    pub communes: usize,
    /// Former units written with their successors.
    pub former: usize,
    /// Rows to settle by hand.
    pub unmatched: Vec<Unmatched>,
}

fn format_error(file: &str, e: impl std::fmt::Display) -> ImportError {
    ImportError::Format { file: file.to_owned(), message: e.to_string() }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn lower(s: &str) -> String {
    motcua_schemas::text::nfc(s).to_lowercase()
}

fn unit(out: &mut String, code: &str, name: &str, level: &str, parent: Option<&str>, period: &str) {
    let _ = writeln!(
        out,
        "[[units]]\ncode = {}\nname = {}\nlevel = {}",
        toml_string(code),
        toml_string(name),
        toml_string(level)
    );
    if let Some(parent) = parent {
        let _ = writeln!(out, "parent = {}", toml_string(parent));
    }
    out.push_str(period);
    out.push('\n');
}

/// Builds the units file of `province` from the three files' contents (`current`
/// and `former` JSON, `succession` tab-separated with a header row).
pub fn import(province: &str, current: &str, former: &str, succession: &str) -> Result<Imported, ImportError> {
    let current: Current = serde_json::from_str(current).map_err(|e| format_error("post-reform list", e))?;
    let former: Former = serde_json::from_str(former).map_err(|e| format_error("pre-reform list", e))?;
    let reform: Date = current.effective.parse().map_err(|e| format_error("post-reform list", e))?;
    let last_day = reform.yesterday().map_err(|e| format_error("post-reform list", e))?;
    let new = current
        .provinces
        .iter()
        .find(|p| p.code == province)
        .ok_or_else(|| ImportError::NoProvince(province.into()))?;
    let formed_from = lower(&new.formed_from.to_string());
    let olds: Vec<&FormerProvince> = former
        .provinces
        .iter()
        .filter(|p| {
            let bare = lower(&p.name).replace("tỉnh ", "").replace("thành phố ", "");
            formed_from.contains(&bare) || p.code == province
        })
        .collect();

    // Former commune → (new code, new name), from the succession table.
    let mut successor: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for (i, line) in succession.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        let [code, name, district, _province, new_code, new_name] = cells[..] else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(format_error("succession table", format!("line {}: expected 6 columns", i + 1)));
        };
        if new_code.trim() == "?" || new_code.trim().is_empty() {
            unmatched.push(Unmatched {
                code: code.into(),
                name: name.into(),
                district: district.into(),
                reason: new_name.into(),
            });
        } else {
            successor.insert(code.into(), (new_code.into(), new_name.into()));
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Units of {} ({province}): the network since {reform} and the former units it\n\
         # replaced, with their successors. Written by `motcua units import` from the\n\
         # official unit lists (General Statistics Office; Decision 19/2025/QĐ-TTg), as\n\
         # published in the dataset described in config/reference/README.md. Do not edit:\n\
         # settle the rows listed at the end in a file of your own and import again.\n",
        new.name
    );
    let since = format!("valid_from = \"{reform}\"");
    let _ = writeln!(out, "# The province since {reform}.\n");
    unit(&mut out, province, &new.name, "tinh", None, &since);
    let _ = writeln!(out, "# Its {} communes and wards since {reform}.\n", new.communes.len());
    for c in &new.communes {
        unit(&mut out, &c.code, &c.name, "xa", Some(province), &since);
    }

    let mut former_count = 0;
    for old in &olds {
        let _ = writeln!(out, "# {} ({}) until {last_day}, its districts and communes.\n", old.name, old.code);
        let ended = |to: &str| format!("valid_until = \"{last_day}\"\nsuccessor = {}", toml_string(to));
        unit(&mut out, &old.code, &old.name, "tinh", None, &ended(province));
        former_count += 1;
        for d in &old.districts {
            // The district's own successor, for applicants from elsewhere: where most
            // of its communes went, the one that took its seat (a thị trấn or phường)
            // breaking a tie.
            let mut votes: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
            for c in &d.communes {
                if let Some((to, _)) = successor.get(&c.code) {
                    let seat = c.name.starts_with("Thị trấn") || c.name.starts_with("Phường");
                    let vote = votes.entry(to.as_str()).or_default();
                    vote.0 += 1;
                    vote.1 |= seat;
                }
            }
            let default = votes.iter().max_by_key(|(_, (n, seat))| (*n, *seat)).map(|(to, _)| (*to).to_owned());
            match default {
                Some(to) => unit(&mut out, &d.code, &d.name, "huyen", Some(&old.code), &ended(&to)),
                None => unmatched.push(Unmatched {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    district: d.name.clone(),
                    reason: "none of its communes has a successor".into(),
                }),
            }
            former_count += 1;
            for c in &d.communes {
                if let Some((to, _)) = successor.get(&c.code) {
                    unit(&mut out, &c.code, &c.name, "xa", Some(&d.code), &ended(to));
                    former_count += 1;
                }
            }
        }
    }
    if !unmatched.is_empty() {
        let _ = writeln!(out, "# Not matched: settle each by hand (a [[units]] entry with its successor).");
        for u in &unmatched {
            let _ = writeln!(out, "#   {}\t{}\t{}\t{}", u.code, u.name, u.district, u.reason);
        }
    }
    Ok(Imported { toml: out, communes: new.communes.len(), former: former_count, unmatched })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = include_str!("../../config/reference/units-2025-lao-cai.json");
    const FORMER: &str = include_str!("../../config/reference/units-2024-lao-cai-yen-bai.json");
    const SUCCESSION: &str = include_str!("../../config/reference/succession-lao-cai-2025.tsv");

    #[test]
    fn the_reference_files_make_the_units_of_lao_cai() {
        let imported = import("15", CURRENT, FORMER, SUCCESSION).unwrap();
        assert_eq!(imported.communes, 99);
        // Two former provinces, 18 districts, 306 communes matched.
        assert_eq!(imported.former, 2 + 18 + 306);
        assert_eq!(imported.unmatched.len(), 13);
        let file: crate::config::file::UnitsFile = toml::from_str(&imported.toml).unwrap();
        let find = |code: &str, name: &str| file.units.iter().find(|u| u.code == code && u.name == name).cloned();
        let hanh_phuc = find("04585", "Xã Hạnh Phúc").unwrap();
        assert_eq!((hanh_phuc.valid_from.as_deref(), hanh_phuc.parent.as_deref()), (Some("2025-07-01"), Some("15")));
        let old = find("04585", "Thị trấn Trạm Tấu").unwrap();
        assert_eq!((old.valid_until.as_deref(), old.successor.as_deref()), (Some("2025-06-30"), Some("04585")));
        assert_eq!(find("04600", "Xã Trạm Tấu").unwrap().successor.as_deref(), Some("04606"));
        assert_eq!(find("139", "Huyện Trạm Tấu").unwrap().successor.as_deref(), Some("04606"));
        assert_eq!(find("10", "Tỉnh Lào Cai").unwrap().successor.as_deref(), Some("15"));
        assert_eq!(find("15", "Tỉnh Yên Bái").unwrap().successor.as_deref(), Some("15"));
        assert!(imported.toml.contains("#   04618\tXã Hát Lìu"), "the unmatched rows are listed");
    }
}
