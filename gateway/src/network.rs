//! The administrative network: units as a tree of any depth, their desks, unit
//! succession after mergers, and routing a dossier to the desk that handles it
//! (docs/DOMAIN.md §4).

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use motcua_schemas::{AgencyCode, UnitCode};
use serde::Serialize;

use crate::config::{
    Problems,
    file::{DeskMode, DeskSection, UnitSection},
};

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
}

/// An administrative unit.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Statistics office code.
    pub code: UnitCode,
    /// Name.
    pub name: String,
    /// Level name.
    pub level: String,
    /// Parent unit.
    pub parent: Option<UnitCode>,
    /// Its own desk, if it has one.
    pub desk: Option<String>,
    /// Retirement date and successor.
    pub retired: Option<(Date, UnitCode)>,
}

/// One decision taken while routing, recorded in the dossier's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RouteStep {
    /// A retired unit was replaced by its successor.
    Succession {
        /// The retired unit.
        from: UnitCode,
        /// Its successor.
        to: UnitCode,
        /// The retirement date.
        since: Date,
    },
    /// A retired unit was replaced by the applicant's own commune inside it.
    ApplicantCommune {
        /// The retired unit (a former district).
        from: UnitCode,
        /// The applicant's commune, resolved.
        to: UnitCode,
    },
    /// The unit's level may not handle the procedure; an ancestor's may.
    Competence {
        /// The unit that may not.
        from: UnitCode,
        /// The ancestor that may.
        to: UnitCode,
        /// That ancestor's level.
        level: String,
    },
    /// The unit has no desk; an ancestor's desk serves it.
    DeskFallback {
        /// The unit without a desk.
        unit: UnitCode,
        /// The ancestor whose desk serves it.
        served_by: UnitCode,
        /// That desk.
        desk: String,
    },
}

/// Where a dossier goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The unit that handles it.
    pub target: UnitCode,
    /// The desk that receives it.
    pub desk: String,
    /// The decisions taken, in order.
    pub steps: Vec<RouteStep>,
}

/// Why a dossier cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The unit code is not in the network.
    #[error("unit {0} is not known")]
    UnknownUnit(UnitCode),
    /// Neither the unit nor an ancestor has a level that may handle the procedure.
    #[error("neither unit {unit} nor any unit above it may handle this procedure (levels: {levels})")]
    NoCompetentUnit {
        /// The resolved unit.
        unit: UnitCode,
        /// The competent levels.
        levels: String,
    },
    /// Neither the unit nor an ancestor has a desk.
    #[error("no desk serves unit {0}")]
    NoDesk(UnitCode),
}

/// Units and desks.
#[derive(Debug, Clone, Default)]
pub struct Network {
    units: HashMap<UnitCode, Unit>,
    desks: BTreeMap<String, Desk>,
}

impl Network {
    /// Builds the network, adding every configuration problem to `problems`.
    pub fn build(units: &[UnitSection], desks: &[DeskSection], problems: &mut Problems) -> Network {
        let mut net = Network::default();
        for (i, d) in desks.iter().enumerate() {
            let at = format!("desks[{i}]");
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
                agency: agency.unwrap_or_else(|| "000.00.00.H00".parse().expect("a valid placeholder")),
                mode: d.mode,
                url: d.url.as_ref().map(|u| u.trim_end_matches('/').to_owned()),
                ca_file: d.ca_file.clone(),
                timeout_secs: d.timeout_secs,
                concurrency: d.concurrency,
            };
            if net.desks.insert(d.id.clone(), desk).is_some() {
                problems.add(format!("{at}.id"), format!("desk {:?} is configured twice", d.id));
            }
        }

        let label = |i: usize, u: &UnitSection| format!("units[{i}] ({})", u.code);
        let parse = |path: String, code: &str, problems: &mut Problems| -> Option<UnitCode> {
            code.parse().map_err(|e| problems.add(path, e)).ok()
        };
        for (i, u) in units.iter().enumerate() {
            let at = label(i, u);
            let Some(code) = parse(format!("{at}.code"), &u.code, problems) else {
                continue;
            };
            let parent = u.parent.as_deref().and_then(|p| parse(format!("{at}.parent"), p, problems));
            let retired = u.retired.as_ref().and_then(|r| {
                let on = r.on.parse::<Date>().map_err(|_| {
                    problems.add(format!("{at}.retired.on"), format!("{:?} is not a date YYYY-MM-DD", r.on))
                });
                let successor = parse(format!("{at}.retired.successor"), &r.successor, problems);
                Some((on.ok()?, successor?))
            });
            if u.level.trim().is_empty() {
                problems.add(format!("{at}.level"), "must name a level, e.g. \"xa\"");
            }
            if let Some(desk) = &u.desk
                && !net.desks.contains_key(desk)
            {
                problems.add(format!("{at}.desk"), format!("desk {desk:?} is not configured"));
            }
            let unit = Unit {
                code: code.clone(),
                name: u.name.clone(),
                level: u.level.clone(),
                parent,
                desk: u.desk.clone(),
                retired,
            };
            if net.units.insert(code.clone(), unit).is_some() {
                problems.add(format!("{at}.code"), format!("unit {code} is configured twice"));
            }
        }

        for (i, u) in units.iter().enumerate() {
            let at = label(i, u);
            let Some(unit) = u.code.parse().ok().and_then(|c: UnitCode| net.units.get(&c)) else {
                continue;
            };
            if let Some(parent) = &unit.parent
                && !net.units.contains_key(parent)
            {
                problems.add(format!("{at}.parent"), format!("unit {parent} is not configured"));
            }
            if let Some((_, successor)) = &unit.retired {
                if !net.units.contains_key(successor) {
                    problems.add(format!("{at}.retired.successor"), format!("unit {successor} is not configured"));
                } else if successor == &unit.code {
                    problems.add(format!("{at}.retired.successor"), "a unit cannot succeed itself");
                }
            }
            if net.chain_has_cycle(&unit.code, |u| u.parent.as_ref()) {
                problems.add(format!("{at}.parent"), "the parent chain loops back to this unit");
            }
            if net.chain_has_cycle(&unit.code, |u| u.retired.as_ref().map(|(_, s)| s)) {
                problems.add(format!("{at}.retired.successor"), "the succession chain loops back to this unit");
            }
        }
        net
    }

    fn chain_has_cycle(&self, start: &UnitCode, next: impl Fn(&Unit) -> Option<&UnitCode>) -> bool {
        let mut seen = HashSet::new();
        let mut at = start;
        while let Some(unit) = self.units.get(at) {
            if !seen.insert(at) {
                return true;
            }
            match next(unit) {
                Some(n) => at = n,
                None => return false,
            }
        }
        false
    }

    /// A unit by code.
    pub fn unit(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)
    }

    /// All units.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// A desk by id.
    pub fn desk(&self, id: &str) -> Option<&Desk> {
        self.desks.get(id)
    }

    /// All desks, by id.
    pub fn desks(&self) -> impl Iterator<Item = &Desk> {
        self.desks.values()
    }

    /// True when the unit's levels are known to some unit (for procedure validation).
    pub fn has_level(&self, level: &str) -> bool {
        self.units.values().any(|u| u.level == level)
    }

    /// The unit and its ancestors, nearest first.
    pub fn ancestry<'a>(&'a self, code: &'a UnitCode) -> impl Iterator<Item = &'a Unit> + 'a {
        let mut next = self.units.get(code);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let unit = next.take()?;
            steps += 1;
            if steps <= self.units.len() {
                next = unit.parent.as_ref().and_then(|p| self.units.get(p));
            }
            Some(unit)
        })
    }

    /// True when `inner` is `outer` or lies below it.
    pub fn lies_within(&self, inner: &UnitCode, outer: &UnitCode) -> bool {
        self.ancestry(inner).any(|u| &u.code == outer)
    }

    /// Follows succession from `code` as of `on`, recording each step.
    fn resolve(&self, code: &UnitCode, on: Date, steps: &mut Vec<RouteStep>) -> Result<UnitCode, RouteError> {
        let mut at = self.units.get(code).ok_or_else(|| RouteError::UnknownUnit(code.clone()))?;
        for _ in 0..=self.units.len() {
            match &at.retired {
                Some((since, successor)) if *since <= on => {
                    steps.push(RouteStep::Succession { from: at.code.clone(), to: successor.clone(), since: *since });
                    at = self.units.get(successor).ok_or_else(|| RouteError::UnknownUnit(successor.clone()))?;
                }
                _ => return Ok(at.code.clone()),
            }
        }
        Ok(at.code.clone())
    }

    /// True when `code` names a known unit, current or retired.
    pub fn knows(&self, code: &UnitCode) -> bool {
        self.units.contains_key(code)
    }

    /// Routes a dossier addressed to `requested`, from an applicant living in
    /// `applicant_commune`, for a procedure that `levels` may handle, received on `on`.
    pub fn route(
        &self,
        requested: &UnitCode,
        applicant_commune: Option<&UnitCode>,
        levels: &[String],
        on: Date,
    ) -> Result<Route, RouteError> {
        let mut steps = Vec::new();
        let requested_unit = self.units.get(requested).ok_or_else(|| RouteError::UnknownUnit(requested.clone()))?;
        let retired_now = requested_unit.retired.as_ref().is_some_and(|(since, _)| *since <= on);
        let own_commune =
            applicant_commune.filter(|c| retired_now && *c != requested && self.lies_within(c, requested));
        let mut target = match own_commune {
            Some(commune) => {
                let mut inner = Vec::new();
                let resolved = self.resolve(commune, on, &mut inner)?;
                steps.push(RouteStep::ApplicantCommune { from: requested.clone(), to: resolved.clone() });
                resolved
            }
            None => self.resolve(requested, on, &mut steps)?,
        };

        if !levels.is_empty() {
            let competent = self
                .ancestry(&target)
                .find(|u| levels.contains(&u.level))
                .ok_or_else(|| RouteError::NoCompetentUnit { unit: target.clone(), levels: levels.join(", ") })?;
            if competent.code != target {
                steps.push(RouteStep::Competence {
                    from: target.clone(),
                    to: competent.code.clone(),
                    level: competent.level.clone(),
                });
                target = competent.code.clone();
            }
        }

        let serving =
            self.ancestry(&target).find(|u| u.desk.is_some()).ok_or_else(|| RouteError::NoDesk(target.clone()))?;
        let desk = serving.desk.clone().expect("found by having a desk");
        if serving.code != target {
            steps.push(RouteStep::DeskFallback {
                unit: target.clone(),
                served_by: serving.code.clone(),
                desk: desk.clone(),
            });
        }
        Ok(Route { target, desk, steps })
    }

    /// The unit codes at or below `code` (for statistics over sub-units).
    pub fn subtree(&self, code: &UnitCode) -> Vec<UnitCode> {
        self.units.values().filter(|u| self.lies_within(&u.code, code)).map(|u| u.code.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn unit(
        code: &str,
        level: &str,
        parent: Option<&str>,
        desk: Option<&str>,
        retired: Option<(&str, &str)>,
    ) -> UnitSection {
        UnitSection {
            code: code.into(),
            name: format!("Unit {code}"),
            level: level.into(),
            parent: parent.map(Into::into),
            desk: desk.map(Into::into),
            retired: retired.map(|(on, s)| crate::config::file::RetiredSection { on: on.into(), successor: s.into() }),
        }
    }

    fn desk(id: &str) -> DeskSection {
        DeskSection {
            id: id.into(),
            name: id.into(),
            agency_code: "000.00.15.H63".into(),
            mode: DeskMode::Pull,
            url: None,
            ca_file: None,
            timeout_secs: None,
            concurrency: None,
        }
    }

    /// Province 10 with a desk; retired province 15 → 10; retired district 139 → 04600;
    /// old communes 04585 → 04600 and 04606 → 04615; current communes 04600 (desk)
    /// and 04615 (no desk).
    fn network() -> Network {
        let units = vec![
            unit("10", "tinh", None, Some("province"), None),
            unit("15", "tinh", None, None, Some(("2025-07-01", "10"))),
            unit("139", "huyen", Some("15"), None, Some(("2025-07-01", "04600"))),
            unit("04585", "xa", Some("139"), None, Some(("2025-07-01", "04600"))),
            unit("04606", "xa", Some("139"), None, Some(("2025-07-01", "04615"))),
            unit("04600", "xa", Some("10"), Some("tram-tau"), None),
            unit("04615", "xa", Some("10"), None, None),
        ];
        let mut problems = Problems::default();
        let net = Network::build(&units, &[desk("province"), desk("tram-tau")], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        net
    }

    fn code(s: &str) -> UnitCode {
        s.parse().unwrap()
    }

    fn xa() -> Vec<String> {
        vec!["xa".into()]
    }

    #[test]
    fn a_current_commune_routes_to_its_own_desk() {
        let route = network().route(&code("04600"), None, &xa(), date(2026, 11, 25)).unwrap();
        assert_eq!(route, Route { target: code("04600"), desk: "tram-tau".into(), steps: vec![] });
    }

    #[test]
    fn a_merged_commune_routes_to_its_successor() {
        let route = network().route(&code("04585"), None, &xa(), date(2026, 11, 25)).unwrap();
        assert_eq!(route.target, code("04600"));
        assert_eq!(
            route.steps,
            vec![RouteStep::Succession { from: code("04585"), to: code("04600"), since: date(2025, 7, 1) }]
        );
    }

    #[test]
    fn before_the_reform_no_succession_applies() {
        let err = network().route(&code("04585"), None, &xa(), date(2025, 6, 30)).unwrap_err();
        assert_eq!(err, RouteError::NoDesk(code("04585")), "the old network had no desk configured here");
    }

    #[test]
    fn a_retired_district_prefers_the_applicants_own_commune() {
        let net = network();
        let route = net.route(&code("139"), Some(&code("04606")), &xa(), date(2026, 11, 25)).unwrap();
        assert_eq!(route.target, code("04615"));
        assert_eq!(route.desk, "province");
        assert_eq!(
            route.steps,
            vec![
                RouteStep::ApplicantCommune { from: code("139"), to: code("04615") },
                RouteStep::DeskFallback { unit: code("04615"), served_by: code("10"), desk: "province".into() },
            ]
        );
        // An applicant from elsewhere: the district's successor.
        let route = net.route(&code("139"), Some(&code("04615")), &xa(), date(2026, 11, 25)).unwrap();
        assert_eq!(route.target, code("04600"));
    }

    #[test]
    fn competence_walks_up_to_the_nearest_competent_ancestor() {
        let route = network().route(&code("04585"), None, &["tinh".into()], date(2026, 11, 25)).unwrap();
        assert_eq!(route.target, code("10"));
        assert_eq!(route.desk, "province");
        assert!(matches!(route.steps.last(), Some(RouteStep::Competence { level, .. }) if level == "tinh"));
        let err = network().route(&code("10"), None, &xa(), date(2026, 11, 25)).unwrap_err();
        assert!(matches!(err, RouteError::NoCompetentUnit { .. }));
    }

    #[test]
    fn unknown_units_are_refused() {
        assert_eq!(
            network().route(&code("99999"), None, &xa(), date(2026, 11, 25)),
            Err(RouteError::UnknownUnit(code("99999")))
        );
    }

    #[test]
    fn configuration_problems_are_all_reported() {
        let units = vec![
            unit("10", "tinh", None, Some("nowhere"), None),
            unit("11", "", Some("12"), None, Some(("2025-07-01", "12"))),
            unit("12", "tinh", Some("11"), None, Some(("2025-13-01", "11"))),
            unit("13", "xa", Some("99"), None, Some(("2025-07-01", "13"))),
            unit("1x", "xa", None, None, None),
            unit("10", "tinh", None, None, None),
        ];
        let mut problems = Problems::default();
        Network::build(&units, &[desk("a"), desk("a")], &mut problems);
        let paths: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
        for expected in [
            "desks[1].id",
            "units[0] (10).desk",
            "units[1] (11).level",
            "units[2] (12).retired.on",
            "units[4] (1x).code",
            "units[5] (10).code",
            "units[1] (11).parent",
            "units[3] (13).parent",
            "units[3] (13).retired.successor",
        ] {
            assert!(paths.contains(&expected.to_owned()), "missing {expected} in {paths:#?}");
        }
    }
}
