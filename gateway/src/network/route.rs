//! Routing a dossier: the unit its code named on the day of receipt, through the
//! succession of units that ended, the applicant's own commune for a former
//! district, the level competent for the procedure, and the nearest desk.

use jiff::civil::Date;
use motcua_schemas::UnitCode;
use serde::Serialize;

use super::{MAX_STEPS, Network, Unit};

/// One decision taken while routing, recorded in the dossier's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RouteStep {
    /// The code named a unit that had ended; its successor took over.
    Succession {
        /// The code.
        from: UnitCode,
        /// The unit it named until it ended.
        from_name: String,
        /// Its last day.
        until: Date,
        /// The successor's code.
        to: UnitCode,
        /// The successor's name.
        to_name: String,
    },
    /// A former district: the applicant's own commune inside it decides.
    ApplicantCommune {
        /// The former district.
        from: UnitCode,
        /// Its name.
        from_name: String,
        /// Its last day.
        until: Date,
        /// The commune that handles it now.
        to: UnitCode,
        /// Its name.
        to_name: String,
    },
    /// The code names a unit now that is not the one it named before (a new commune
    /// kept the code of one it absorbed).
    CodeReused {
        /// The code.
        code: UnitCode,
        /// The unit it named before.
        before: String,
        /// The first day of the current unit.
        since: Date,
        /// The unit it names now.
        now: String,
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
    /// The code names no unit on that day and had none before.
    #[error("unit {0} does not exist yet on {1}")]
    NotYet(UnitCode, Date),
    /// The unit ended without a successor.
    #[error("unit {0} ended on {1} and has no successor")]
    NoSuccessor(UnitCode, Date),
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

fn dmy(day: Date) -> String {
    day.strftime("%d/%m/%Y").to_string()
}

impl RouteStep {
    /// The step in words, as the dossier's history tells it.
    pub fn note(&self, network: &Network) -> String {
        let name = |code: &UnitCode| {
            network.unit(code).map_or_else(|| code.to_string(), |u| Network::name_in_sentence(&u.name))
        };
        let lower = |text: &str| Network::name_in_sentence(text);
        match self {
            RouteStep::Succession { from, from_name, until, to, to_name } => format!(
                "Mã đơn vị {from} là {} đến hết ngày {}; từ ngày {}, {} (mã {to}) kế thừa",
                lower(from_name),
                dmy(*until),
                dmy(until.tomorrow().unwrap_or(*until)),
                lower(to_name),
            ),
            RouteStep::ApplicantCommune { from, from_name, until, to, to_name } => format!(
                "{} (mã {from}) không còn từ ngày {}; hồ sơ do {} (mã {to}), nơi người nộp cư trú, tiếp nhận",
                from_name,
                dmy(until.tomorrow().unwrap_or(*until)),
                lower(to_name),
            ),
            RouteStep::CodeReused { code, before, since, now } => format!(
                "Mã đơn vị {code} đến hết ngày {} là {}; từ ngày {} là {}",
                dmy(since.yesterday().unwrap_or(*since)),
                lower(before),
                dmy(*since),
                lower(now),
            ),
            RouteStep::Competence { from, to, level } => {
                format!("Thủ tục không thuộc thẩm quyền của {}; chuyển lên {} (cấp {level})", name(from), name(to))
            }
            RouteStep::DeskFallback { unit, served_by, desk } => {
                let desk = network.desk(desk).map_or_else(|| desk.clone(), |d| d.name.clone());
                let unit = network.unit(unit).map_or_else(|| unit.to_string(), |u| u.name.clone());
                format!("{unit} chưa có Bộ phận Một cửa; hồ sơ do {desk} (thuộc {}) tiếp nhận", name(served_by))
            }
        }
    }
}

impl Network {
    /// The unit `code` names on `day`, following successors of units that ended,
    /// recording each step.
    fn resolve(&self, code: &UnitCode, day: Date, steps: &mut Vec<RouteStep>) -> Result<&Unit, RouteError> {
        let mut code = code.clone();
        for _ in 0..MAX_STEPS {
            let versions = self.versions(&code);
            if versions.is_empty() {
                return Err(RouteError::UnknownUnit(code));
            }
            if let Some(unit) = versions.iter().find(|u| u.valid_on(day)) {
                return Ok(unit);
            }
            let ended = versions
                .iter()
                .rev()
                .find(|u| u.valid_until.is_some_and(|until| until < day))
                .ok_or_else(|| RouteError::NotYet(code.clone(), day))?;
            let until = ended.valid_until.unwrap_or(day);
            let successor = ended.successor.clone().ok_or_else(|| RouteError::NoSuccessor(code.clone(), until))?;
            let since = ended.successor_since().unwrap_or(day);
            let to_name = self.unit_on(&successor, since).map_or_else(String::new, |u| u.name.clone());
            steps.push(RouteStep::Succession {
                from: code.clone(),
                from_name: ended.name.clone(),
                until,
                to: successor.clone(),
                to_name,
            });
            code = successor;
        }
        Err(RouteError::UnknownUnit(code))
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
        if !self.knows(requested) {
            return Err(RouteError::UnknownUnit(requested.clone()));
        }
        // A former district: the applicant's own commune, if it lay inside it, decides.
        let ended_district = match self.unit_on(requested, on) {
            Some(_) => None,
            None => self.versions(requested).iter().rev().find(|u| u.valid_until.is_some_and(|until| until < on)),
        };
        let own_commune = ended_district.and_then(|district| {
            let last_day = district.valid_until?;
            applicant_commune
                .filter(|c| *c != requested && self.lies_within_on(c, requested, last_day))
                .map(|c| (district, c))
        });
        let mut target = match own_commune {
            Some((district, commune)) => {
                let mut inner = Vec::new();
                let unit = self.resolve(commune, on, &mut inner)?;
                steps.push(RouteStep::ApplicantCommune {
                    from: requested.clone(),
                    from_name: district.name.clone(),
                    until: district.valid_until.unwrap_or(on),
                    to: unit.code.clone(),
                    to_name: unit.name.clone(),
                });
                unit
            }
            None => {
                let unit = self.resolve(requested, on, &mut steps)?;
                if steps.is_empty() {
                    // The code is in use: say so if it named another unit before.
                    let before = unit.valid_from.and_then(|since| {
                        let eve = since.yesterday().ok()?;
                        self.versions(requested).iter().find(|v| v.valid_until == Some(eve) && v.name != unit.name)
                    });
                    if let (Some(before), Some(since)) = (before, unit.valid_from) {
                        steps.push(RouteStep::CodeReused {
                            code: requested.clone(),
                            before: before.name.clone(),
                            since,
                            now: unit.name.clone(),
                        });
                    }
                }
                unit
            }
        };

        if !levels.is_empty() {
            let competent = self
                .ancestry_on(&target.code, on)
                .find(|u| levels.contains(&u.level))
                .ok_or_else(|| RouteError::NoCompetentUnit { unit: target.code.clone(), levels: levels.join(", ") })?;
            if competent.code != target.code {
                steps.push(RouteStep::Competence {
                    from: target.code.clone(),
                    to: competent.code.clone(),
                    level: competent.level.clone(),
                });
                target = competent;
            }
        }

        let (serving, desk) = self
            .ancestry_on(&target.code, on)
            .find_map(|u| u.desk.clone().map(|desk| (u, desk)))
            .ok_or_else(|| RouteError::NoDesk(target.code.clone()))?;
        if serving.code != target.code {
            steps.push(RouteStep::DeskFallback {
                unit: target.code.clone(),
                served_by: serving.code.clone(),
                desk: desk.clone(),
            });
        }
        Ok(Route { target: target.code.clone(), desk, steps })
    }
}
