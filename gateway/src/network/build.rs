//! Building the network from the configuration, with every problem reported at its
//! key path: periods of one code that overlap, parents and successors that do not
//! exist when they are needed, and loops.

use std::collections::HashSet;

use jiff::civil::Date;
use motcua_schemas::UnitCode;

use super::{Desk, MAX_STEPS, Network, Unit};
use crate::config::{
    Problems,
    file::{DeskMode, DeskSection, UnitSection},
};

fn date(path: String, text: Option<&str>, problems: &mut Problems) -> Option<Date> {
    let text = text?;
    text.parse::<Date>().map_err(|_| problems.add(path, format!("{text:?} is not a date YYYY-MM-DD"))).ok()
}

impl Network {
    /// Builds the network, adding every configuration problem to `problems`.
    pub fn build(units: &[UnitSection], desks: &[DeskSection], problems: &mut Problems) -> Network {
        let mut net = Network::default();
        for (i, d) in desks.iter().enumerate() {
            net.add_desk(&format!("desks[{i}]"), d, problems);
        }
        let label = |i: usize, u: &UnitSection| format!("units[{i}] ({})", u.code);
        for (i, u) in units.iter().enumerate() {
            net.add_unit(&label(i, u), u, problems);
        }
        for versions in net.units.values_mut() {
            versions.sort_by_key(|u| u.valid_from.unwrap_or(Date::MIN));
        }
        net.assign_desks(desks, problems);
        for (i, u) in units.iter().enumerate() {
            net.check_unit(&label(i, u), u, problems);
        }
        net
    }

    fn add_desk(&mut self, at: &str, d: &DeskSection, problems: &mut Problems) {
        if d.id.trim().is_empty() {
            problems.add(format!("{at}.id"), "must not be empty");
        }
        let agency = d.agency_code.parse().map_err(|e| problems.add(format!("{at}.agency_code"), e)).ok();
        match (d.mode, &d.url) {
            (DeskMode::Push, None) => problems.add(format!("{at}.url"), "a push desk needs a url"),
            (DeskMode::Pull, Some(_)) => {
                problems.add(format!("{at}.url"), "a pull desk has no url; it calls the gateway")
            }
            (DeskMode::Push, Some(url)) => crate::config::check_url(&format!("{at}.url"), url, problems),
            (DeskMode::Pull, None) => {}
        }
        let desk = Desk {
            id: d.id.clone(),
            name: d.name.clone(),
            // A desk whose agency code is refused still takes part in the other checks.
            agency: agency.unwrap_or_else(placeholder_agency),
            mode: d.mode,
            url: d.url.as_ref().map(|u| u.trim_end_matches('/').to_owned()),
            ca_file: d.ca_file.clone(),
            timeout_secs: d.timeout_secs,
            concurrency: d.concurrency,
            signer: d.signer.clone(),
        };
        if self.desks.insert(d.id.clone(), desk).is_some() {
            problems.add(format!("{at}.id"), format!("desk {:?} is configured twice", d.id));
        }
    }

    fn add_unit(&mut self, at: &str, u: &UnitSection, problems: &mut Problems) {
        let parse = |path: String, code: &str, problems: &mut Problems| -> Option<UnitCode> {
            code.parse().map_err(|e| problems.add(path, e)).ok()
        };
        let Some(code) = parse(format!("{at}.code"), &u.code, problems) else { return };
        let parent = u.parent.as_deref().and_then(|p| parse(format!("{at}.parent"), p, problems));
        let successor = u.successor.as_deref().and_then(|s| parse(format!("{at}.successor"), s, problems));
        let valid_from = date(format!("{at}.valid_from"), u.valid_from.as_deref(), problems);
        let valid_until = date(format!("{at}.valid_until"), u.valid_until.as_deref(), problems);
        if u.level.trim().is_empty() {
            problems.add(format!("{at}.level"), "must name a level, e.g. \"xa\"");
        }
        if let (Some(from), Some(until)) = (valid_from, valid_until)
            && until < from
        {
            problems.add(format!("{at}.valid_until"), "ends before it begins");
        }
        if successor.is_some() && valid_until.is_none() {
            problems.add(format!("{at}.successor"), "only a unit that ended (valid_until) has a successor");
        }
        if let Some(desk) = &u.desk
            && !self.desks.contains_key(desk)
        {
            problems.add(format!("{at}.desk"), format!("desk {desk:?} is not configured"));
        }
        let unit = Unit {
            code: code.clone(),
            name: u.name.clone(),
            level: u.level.clone(),
            parent,
            desk: u.desk.clone(),
            valid_from,
            valid_until,
            successor,
        };
        let versions = self.units.entry(code.clone()).or_default();
        if let Some(other) = versions.iter().find(|v| overlaps(v, &unit)) {
            problems.add(
                format!("{at}.code"),
                format!("unit {code} overlaps in time with {:?}, of the same code", other.name),
            );
        }
        versions.push(unit);
    }

    /// `[[desks]] serves = [...]` gives the desk to the current version of each code.
    fn assign_desks(&mut self, desks: &[DeskSection], problems: &mut Problems) {
        for (i, d) in desks.iter().enumerate() {
            for (j, code) in d.serves.iter().enumerate() {
                let at = format!("desks[{i}].serves[{j}]");
                let current = code
                    .parse::<UnitCode>()
                    .ok()
                    .and_then(|c| self.units.get_mut(&c))
                    .and_then(|versions| versions.iter_mut().rev().find(|v| v.valid_until.is_none()));
                match current {
                    Some(unit) if unit.desk.as_ref().is_some_and(|other| other != &d.id) => {
                        problems.add(at, format!("unit {code} is served by desk {:?} already", unit.desk))
                    }
                    Some(unit) => unit.desk = Some(d.id.clone()),
                    None => problems.add(at, format!("no current unit has code {code:?}")),
                }
            }
        }
    }

    fn check_unit(&self, at: &str, u: &UnitSection, problems: &mut Problems) {
        let Ok(code) = u.code.parse::<UnitCode>() else { return };
        let from = u.valid_from.as_deref().and_then(|d| d.parse::<Date>().ok());
        let Some(unit) = self.versions(&code).iter().find(|v| v.valid_from == from && v.name == u.name) else {
            return;
        };
        let on = unit.valid_until.unwrap_or(Date::MAX);
        if let Some(parent) = &unit.parent {
            if !self.knows(parent) {
                problems.add(format!("{at}.parent"), format!("unit {parent} is not configured"));
            } else if self.unit_on(parent, on).is_none() {
                let when = unit.valid_until.map_or_else(|| "now".to_owned(), |d| format!("on {d}"));
                problems
                    .add(format!("{at}.parent"), format!("unit {parent} does not exist {when}, while this unit does"));
            }
        }
        if let (Some(successor), Some(since)) = (&unit.successor, unit.successor_since()) {
            if !self.knows(successor) {
                problems.add(format!("{at}.successor"), format!("unit {successor} is not configured"));
            } else if self.unit_on(successor, since).is_none() {
                problems.add(
                    format!("{at}.successor"),
                    format!("unit {successor} does not exist on {since}, the day it would take over"),
                );
            }
        }
        if self.parent_chain_loops(unit) {
            problems.add(format!("{at}.parent"), "the parent chain loops back to this unit");
        }
        if self.succession_loops(unit) {
            problems.add(format!("{at}.successor"), "the succession chain loops back to this unit");
        }
    }

    fn parent_chain_loops(&self, unit: &Unit) -> bool {
        let mut seen = HashSet::new();
        self.ancestry_on(&unit.code, unit.valid_until.unwrap_or(Date::MAX)).any(|u| !seen.insert(u.code.clone()))
            || seen.len() >= MAX_STEPS
    }

    /// Follows successors as of the day each takes over; a loop comes back to a
    /// (code, version) already seen.
    fn succession_loops(&self, unit: &Unit) -> bool {
        let mut seen = HashSet::new();
        let mut at = unit;
        for _ in 0..MAX_STEPS {
            if !seen.insert((at.code.clone(), at.valid_from)) {
                return true;
            }
            let (Some(successor), Some(since)) = (&at.successor, at.successor_since()) else { return false };
            match self.unit_on(successor, since) {
                Some(next) => at = next,
                None => return false,
            }
        }
        true
    }
}

#[expect(clippy::expect_used, reason = "a literal agency code that parses")]
fn placeholder_agency() -> motcua_schemas::AgencyCode {
    "000.00.00.H00".parse().expect("a valid placeholder")
}

fn overlaps(a: &Unit, b: &Unit) -> bool {
    let (a_from, a_until) = (a.valid_from.unwrap_or(Date::MIN), a.valid_until.unwrap_or(Date::MAX));
    let (b_from, b_until) = (b.valid_from.unwrap_or(Date::MIN), b.valid_until.unwrap_or(Date::MAX));
    a_from <= b_until && b_from <= a_until
}
