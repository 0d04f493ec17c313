//! On-time statistics (DOMAIN §8), kept incrementally: one small record of counters
//! per unit and Vietnam calendar day, updated in the same batch as the dossier
//! change that causes it. A query for a unit and period adds up the days of the unit
//! and its sub-units, so it costs a few thousand small reads however many dossiers
//! the store holds.
//!
//! Flows (received, resolved, refused, apologies, …) count on the day they happened.
//! "Open" and "open overdue" are states: they are kept as daily changes, and their
//! value at the end of the period is the sum of all changes up to its last day.

use std::collections::BTreeSet;

use jiff::civil::Date;
use motcua_schemas::UnitCode;
use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::store::{Space, Store, StoreError, Tx};

/// The counters of one unit on one day (or summed over a period).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayStats {
    /// Dossiers received.
    #[serde(default)]
    pub received: u64,
    /// Resolved (status 9) on an earlier day than the due day.
    #[serde(default)]
    pub resolved_before_due: u64,
    /// Resolved on the due day, not after the due time.
    #[serde(default)]
    pub resolved_on_due: u64,
    /// Resolved after the due time.
    #[serde(default)]
    pub resolved_late: u64,
    /// Refused (status 3).
    #[serde(default)]
    pub refused: u64,
    /// Withdrawn by the applicant (status 7).
    #[serde(default)]
    pub withdrawn: u64,
    /// Processing stopped (status 8).
    #[serde(default)]
    pub stopped: u64,
    /// Apology letters sent.
    #[serde(default)]
    pub apologies: u64,
    /// Dossiers that became overdue without an apology before their due time.
    #[serde(default)]
    pub apologies_missing: u64,
    /// Explanations not given within the grace.
    #[serde(default)]
    pub explanations_missing: u64,
    /// Ratings: không hài lòng, hài lòng, rất hài lòng.
    #[serde(default)]
    pub ratings: [u64; 3],
    /// Resolutions reported later than the tolerance after the time they give, and
    /// so judged by the time they arrived.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub late_reports: u64,
    /// Change of the number of open dossiers.
    #[serde(default)]
    pub open_change: i64,
    /// Change of the number of open overdue dossiers.
    #[serde(default)]
    pub open_overdue_change: i64,
}

impl DayStats {
    fn add_flows(&mut self, other: &DayStats) {
        self.received += other.received;
        self.resolved_before_due += other.resolved_before_due;
        self.resolved_on_due += other.resolved_on_due;
        self.resolved_late += other.resolved_late;
        self.refused += other.refused;
        self.withdrawn += other.withdrawn;
        self.stopped += other.stopped;
        self.apologies += other.apologies;
        self.apologies_missing += other.apologies_missing;
        self.explanations_missing += other.explanations_missing;
        self.late_reports += other.late_reports;
        for (mine, theirs) in self.ratings.iter_mut().zip(other.ratings) {
            *mine += theirs;
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn key(unit: &UnitCode, date: Date) -> Vec<u8> {
    format!("{unit}|{}", date.strftime("%Y%m%d")).into_bytes()
}

/// Changes the counters of `unit` on `date`.
pub fn update(
    tx: &mut Tx<'_>,
    unit: &UnitCode,
    date: Date,
    change: impl FnOnce(&mut DayStats),
) -> Result<(), StoreError> {
    let key = key(unit, date);
    let mut day: DayStats = tx.get_json(Space::Stats, &key)?.unwrap_or_default();
    change(&mut day);
    tx.put_json(Space::Stats, &key, &day)
}

/// The measures of DOMAIN §8 for a unit (with its sub-units) and a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The unit asked for.
    pub unit: String,
    /// First day (inclusive).
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// Units counted.
    pub units: Vec<String>,
    /// Dossiers received in the period.
    pub received: u64,
    /// Dossiers resolved in the period.
    pub resolved: u64,
    /// … before the due day.
    pub resolved_before_due: u64,
    /// … on the due day.
    pub resolved_on_due: u64,
    /// … after the due time.
    pub resolved_late: u64,
    /// (before + on due) / resolved; `null` when nothing was resolved.
    pub on_time_rate: Option<f64>,
    /// Open and not yet overdue at the end of the period.
    pub open_not_due: i64,
    /// Open and overdue at the end of the period.
    pub open_overdue: i64,
    /// Refused in the period.
    pub refused: u64,
    /// Withdrawn in the period.
    pub withdrawn: u64,
    /// Stopped in the period.
    pub stopped: u64,
    /// Apologies sent in the period.
    pub apologies: u64,
    /// Overdue without an apology before the due time (violations) in the period.
    pub apologies_missing: u64,
    /// Explanations missing in the period.
    pub explanations_missing: u64,
    /// Ratings given in the period, by level.
    pub satisfaction: Satisfaction,
    /// Resolutions reported beyond the tolerance, judged by the time they arrived.
    pub late_reports: u64,
}

/// Ratings by level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Satisfaction {
    /// Không hài lòng.
    pub khong_hai_long: u64,
    /// Hài lòng.
    pub hai_long: u64,
    /// Rất hài lòng.
    pub rat_hai_long: u64,
}

/// Adds up the counters of `unit` and its sub-units for the days `from..=to`.
pub fn report(store: &Store, network: &Network, unit: &UnitCode, from: Date, to: Date) -> Result<Report, StoreError> {
    let units: BTreeSet<UnitCode> = network.subtree(unit).into_iter().collect();
    let mut flows = DayStats::default();
    let (mut open, mut overdue) = (0i64, 0i64);
    let (first, last) = (from.strftime("%Y%m%d").to_string(), to.strftime("%Y%m%d").to_string());
    for u in &units {
        let start = format!("{u}|").into_bytes();
        let end = format!("{u}|{last}~").into_bytes();
        for item in store.range(Space::Stats, &start, &end) {
            let (key, value) = item?;
            let day: DayStats = crate::store::decode(Space::Stats, &key, &value)?;
            open += day.open_change;
            overdue += day.open_overdue_change;
            let date = &key[key.len() - 8..];
            if date >= first.as_bytes() {
                flows.add_flows(&day);
            }
        }
    }
    let resolved = flows.resolved_before_due + flows.resolved_on_due + flows.resolved_late;
    Ok(Report {
        unit: unit.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        units: units.iter().map(ToString::to_string).collect(),
        received: flows.received,
        resolved,
        resolved_before_due: flows.resolved_before_due,
        resolved_on_due: flows.resolved_on_due,
        resolved_late: flows.resolved_late,
        on_time_rate: (resolved > 0)
            .then(|| (flows.resolved_before_due + flows.resolved_on_due) as f64 / resolved as f64),
        open_not_due: open - overdue,
        open_overdue: overdue,
        refused: flows.refused,
        withdrawn: flows.withdrawn,
        stopped: flows.stopped,
        apologies: flows.apologies,
        apologies_missing: flows.apologies_missing,
        explanations_missing: flows.explanations_missing,
        satisfaction: Satisfaction {
            khong_hai_long: flows.ratings[0],
            hai_long: flows.ratings[1],
            rat_hai_long: flows.ratings[2],
        },
        late_reports: flows.late_reports,
    })
}
