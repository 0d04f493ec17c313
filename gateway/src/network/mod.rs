//! The administrative network: units as a tree of any depth, each valid for a period
//! (one code may name two units at different dates), their desks, the succession of
//! units that ended, and routing a dossier to the desk that handles it
//! (docs/DOMAIN.md §4).

mod build;
mod route;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use motcua_schemas::{AgencyCode, UnitCode};

/// How a desk takes its dossiers, as the configuration names it.
pub use crate::config::file::DeskMode;
pub use route::{Route, RouteError, RouteStep};

/// A one-stop desk.
#[derive(Debug, Clone)]
pub struct Desk {
    /// The desk id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Agency code used in the dossier codes it issues.
    pub agency: AgencyCode,
    /// Push or pull.
    pub mode: DeskMode,
    /// Base URL of a push desk.
    pub url: Option<String>,
    /// Extra CA to trust for the desk's certificate.
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeout of one call, if not the default.
    pub timeout_secs: Option<u64>,
    /// Calls in flight at once, if not the default.
    pub concurrency: Option<usize>,
    /// The signature block of its letters (empty: the default).
    pub signer: Vec<String>,
}

/// An administrative unit as it was during its validity period.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Statistics office code.
    pub code: UnitCode,
    /// Official name.
    pub name: String,
    /// Level name (`tinh`, `huyen`, `xa`, …).
    pub level: String,
    /// Parent unit (the version valid at the same time).
    pub parent: Option<UnitCode>,
    /// Its own desk, if it has one.
    pub desk: Option<String>,
    /// First day of validity; `None` since always.
    pub valid_from: Option<Date>,
    /// Last day of validity; `None` while it lasts.
    pub valid_until: Option<Date>,
    /// For a unit that ended: who takes over the day after (for a district, the
    /// fallback when the applicant's own commune does not decide).
    pub successor: Option<UnitCode>,
}

impl Unit {
    /// True when the unit existed on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_until.is_none_or(|until| day <= until)
    }

    /// The day its successor takes over, if it ended.
    pub fn successor_since(&self) -> Option<Date> {
        self.valid_until.and_then(|until| until.tomorrow().ok())
    }
}

/// Units and desks.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Every version of every code, oldest first.
    units: HashMap<UnitCode, Vec<Unit>>,
    desks: BTreeMap<String, Desk>,
}

/// How many steps a walk through parents or successors may take: a configuration
/// with a loop is refused by `check-config`, this only keeps a broken one finite.
const MAX_STEPS: usize = 64;

impl Network {
    /// The version of `code` valid on `day`.
    pub fn unit_on(&self, code: &UnitCode, day: Date) -> Option<&Unit> {
        self.units.get(code)?.iter().find(|u| u.valid_on(day))
    }

    /// The latest version of `code` (the current one, or the last that ended).
    pub fn unit(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)?.last()
    }

    /// Every version of `code`, oldest first.
    pub fn versions(&self, code: &UnitCode) -> &[Unit] {
        self.units.get(code).map_or(&[], Vec::as_slice)
    }

    /// Every version of every unit.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values().flatten()
    }

    /// A desk by id.
    pub fn desk(&self, id: &str) -> Option<&Desk> {
        self.desks.get(id)
    }

    /// All desks, by id.
    pub fn desks(&self) -> impl Iterator<Item = &Desk> {
        self.desks.values()
    }

    /// True when some unit has this level (for procedure validation).
    pub fn has_level(&self, level: &str) -> bool {
        self.units().any(|u| u.level == level)
    }

    /// True when `code` names a known unit, at any date.
    pub fn knows(&self, code: &UnitCode) -> bool {
        self.units.contains_key(code)
    }

    /// The version of `code` valid on `day`, or else its latest version.
    fn as_of(&self, code: &UnitCode, day: Date) -> Option<&Unit> {
        self.unit_on(code, day).or_else(|| self.unit(code))
    }

    /// The unit and its ancestors as of `day`, nearest first. An ended unit's
    /// parents are taken as of its last day.
    pub fn ancestry_on<'a>(&'a self, code: &UnitCode, day: Date) -> impl Iterator<Item = &'a Unit> + 'a {
        let mut next = self.as_of(code, day);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let unit = next.take()?;
            steps += 1;
            if steps < MAX_STEPS {
                let on = unit.valid_until.unwrap_or(day).min(day);
                next = unit.parent.as_ref().and_then(|p| self.as_of(p, on));
            }
            Some(unit)
        })
    }

    /// The unit and its ancestors today (the latest version of each).
    pub fn ancestry<'a>(&'a self, code: &UnitCode) -> impl Iterator<Item = &'a Unit> + 'a {
        self.ancestry_on(code, jiff::civil::Date::MAX)
    }

    /// True when `inner` is `outer` or lay below it on `day`.
    pub fn lies_within_on(&self, inner: &UnitCode, outer: &UnitCode, day: Date) -> bool {
        self.ancestry_on(inner, day).any(|u| &u.code == outer)
    }

    /// The unit codes at or below `code` at any time (for statistics over sub-units).
    pub fn subtree(&self, code: &UnitCode) -> Vec<UnitCode> {
        self.units
            .iter()
            .filter(|(_, versions)| {
                versions.iter().any(|v| {
                    let day = v.valid_until.or(v.valid_from).unwrap_or(jiff::civil::Date::MAX);
                    self.lies_within_on(&v.code, code, day)
                })
            })
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// "Xã Trạm Tấu" written inside a sentence: the unit type in lower case
    /// ("xã Trạm Tấu", "Ủy ban nhân dân xã Trạm Tấu").
    pub fn name_in_sentence(name: &str) -> String {
        let mut chars = name.chars();
        match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}
