//! On-time statistics (docs/DOMAIN.md §8), kept incrementally: one small record of counters
//! per unit and Vietnam calendar day, updated in the same batch as the dossier
//! change that causes it. A query for a unit and period adds up the days of the unit
//! and its sub-units, so it costs a few thousand small reads however many dossiers
//! the store holds.
//!
//! Flows (received, resolved, refused, apologies, …) count on the day they happened.
//! "Open" and "open overdue" are states: they are kept as daily changes and, beside
//! them, as monthly changes; their value at the end of a period is the sum of the
//! months before its last month and the days of that month up to its last day, so a
//! query reads its period's days and one entry per month of history, not every day
//! since the unit's first dossier.

use jiff::civil::Date;
use motcua_schemas::UnitCode;
use serde::{Deserialize, Serialize};

use crate::store::{Key, Store, StoreError, Tx, keys};

mod report;
pub use report::{Day, Part, Report, Satisfaction, daily, ratings_of, received_agencies, report};

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
    /// Payments asked of applicants (financial obligations).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub payments_requested: u64,
    /// Payments made online through the national payment platform.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub paid_online: u64,
    /// Payments a desk recorded as made there.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub paid_at_desk: u64,
    /// Dossiers whose submitted components were digitized (the index's digitization
    /// score, Decision 766/QĐ-TTg), counted the day the first one was.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub digitized_dossiers: u64,
    /// Dossiers whose result was issued digitized, counted the day it was.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub digitized_results: u64,
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
    /// The agencies whose codes the unit's dossiers received that day carry (a
    /// dossier forwarded to the unit adds its own), so that the day's dossiers of a
    /// unit are found by the codes' agency and day, with no index of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<String>,
}

impl DayStats {
    /// Notes that a dossier coded by `agency` was received by the unit that day.
    pub fn add_agency(&mut self, agency: &str) {
        if !self.agencies.iter().any(|a| a == agency) {
            self.agencies.push(agency.to_owned());
        }
    }
}

impl DayStats {
    pub(crate) fn add_flows(&mut self, other: &DayStats) {
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
        self.payments_requested += other.payments_requested;
        self.paid_online += other.paid_online;
        self.paid_at_desk += other.paid_at_desk;
        self.digitized_dossiers += other.digitized_dossiers;
        self.digitized_results += other.digitized_results;
        for (mine, theirs) in self.ratings.iter_mut().zip(other.ratings) {
            *mine += theirs;
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(crate) fn key(unit: &UnitCode, date: Date) -> Key {
    keys::day_stats(unit.as_str(), &date.strftime("%Y%m%d").to_string())
}

/// The monthly changes of the state counters of `unit`: `{unit}#{yyyymm}`.
pub(crate) fn month_key(unit: &UnitCode, date: Date) -> Key {
    keys::month_stats(unit.as_str(), &date.strftime("%Y%m").to_string())
}

/// The changes of the state counters in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct MonthStates {
    #[serde(default)]
    pub(crate) open_change: i64,
    #[serde(default)]
    pub(crate) open_overdue_change: i64,
}

/// Changes the counters of `unit` on `date`.
pub fn update(
    tx: &mut Tx<'_>,
    unit: &UnitCode,
    date: Date,
    change: impl FnOnce(&mut DayStats),
) -> Result<(), StoreError> {
    let key = key(unit, date);
    let mut day: DayStats = tx.get_json(&key)?.unwrap_or_default();
    let (open, overdue) = (day.open_change, day.open_overdue_change);
    change(&mut day);
    tx.put_json(&key, &day)?;
    let (open, overdue) = (day.open_change - open, day.open_overdue_change - overdue);
    if open != 0 || overdue != 0 {
        let key = month_key(unit, date);
        let mut month: MonthStates = tx.get_json(&key)?.unwrap_or_default();
        month.open_change += open;
        month.open_overdue_change += overdue;
        tx.put_json(&key, &month)?;
    }
    Ok(())
}

/// Builds the monthly state entries from the daily ones, once, for a store written
/// before they existed.
pub async fn build_months(store: &Store) -> Result<(), StoreError> {
    if store.get(&keys::stats_months_built())?.is_some() {
        return Ok(());
    }
    store
        .write(|tx| -> Result<(), StoreError> {
            let mut months: std::collections::BTreeMap<Key, MonthStates> = std::collections::BTreeMap::new();
            for (key, value) in tx.scan_prefix(&keys::all_stats(), usize::MAX)? {
                let Some((unit, date, false)) = keys::parse_stats(&key) else { continue };
                let day: DayStats = crate::store::decode(&key, &value)?;
                let month = months.entry(keys::month_stats(unit, date.get(..6).unwrap_or(date))).or_default();
                month.open_change += day.open_change;
                month.open_overdue_change += day.open_overdue_change;
            }
            for (key, month) in months {
                tx.put_json(&key, &month)?;
            }
            tx.put(&keys::stats_months_built(), Vec::new());
            Ok(())
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::StoreSection;
    use crate::network::Network;
    use crate::store::StoreMetrics;
    use jiff::civil::date;

    fn network() -> Network {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/gateway.toml");
        crate::settings::Settings::load(&path).unwrap().network
    }

    async fn answers(store: &Store, network: &Network, unit: &UnitCode) -> Vec<(i64, i64, u64)> {
        let periods = [
            (date(2026, 1, 1), date(2026, 2, 28)),
            (date(2026, 3, 1), date(2026, 3, 31)),
            (date(2026, 3, 5), date(2026, 3, 9)),
            (date(2025, 1, 1), date(2026, 11, 30)),
        ];
        periods
            .iter()
            .map(|(from, to)| {
                let r = report(store, network, unit, *from, *to).unwrap();
                (r.open_not_due, r.open_overdue, r.received)
            })
            .collect()
    }

    #[tokio::test]
    async fn states_add_up_over_months_and_days_and_old_stores_get_their_months() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &StoreSection::default(), StoreMetrics::default(), Vec::new()).unwrap();
        build_months(&store).await.unwrap();
        let network = network();
        let unit: UnitCode = network.subtree(&"15".parse().unwrap())[0].clone();
        let changes = [
            (date(2026, 1, 15), 3, 0, 3),
            (date(2026, 3, 10), -1, 1, 0),
            (date(2026, 3, 3), 1, 0, 1),
            (date(2026, 11, 20), 2, 0, 2),
        ];
        let u = unit.clone();
        store
            .write(move |tx| -> Result<(), StoreError> {
                for (day, open, overdue, received) in changes {
                    update(tx, &u, day, |s| {
                        s.open_change += open;
                        s.open_overdue_change += overdue;
                        s.received += received;
                    })?;
                }
                Ok(())
            })
            .await
            .unwrap()
            .unwrap();
        let expected = vec![(3, 0, 3), (2, 1, 1), (4, 0, 0), (4, 1, 6)];
        assert_eq!(answers(&store, &network, &unit).await, expected);

        // A store written before the monthly entries existed gets them at start.
        store
            .write(|tx| -> Result<(), StoreError> {
                for (key, _) in tx.scan_prefix(&keys::all_stats(), usize::MAX)? {
                    if matches!(keys::parse_stats(&key), Some((_, _, true))) {
                        tx.remove(&key);
                    }
                }
                tx.remove(&keys::stats_months_built());
                Ok(())
            })
            .await
            .unwrap()
            .unwrap();
        assert_ne!(answers(&store, &network, &unit).await, expected);
        build_months(&store).await.unwrap();
        assert_eq!(answers(&store, &network, &unit).await, expected);
    }
}
