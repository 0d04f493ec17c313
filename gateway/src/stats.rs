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
    crate::store::keys::day_stats(unit.as_str(), &date.strftime("%Y%m%d").to_string())
}

/// The monthly changes of the state counters of `unit`: `{unit}#{yyyymm}`.
fn month_key(unit: &UnitCode, date: Date) -> Vec<u8> {
    crate::store::keys::month_stats(unit.as_str(), &date.strftime("%Y%m").to_string())
}

/// The changes of the state counters in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct MonthStates {
    #[serde(default)]
    open_change: i64,
    #[serde(default)]
    open_overdue_change: i64,
}

/// The store-wide mark that the monthly state entries exist for every day entry.
const MONTHS_BUILT: &[u8] = b"stats_months";

/// Changes the counters of `unit` on `date`.
pub fn update(
    tx: &mut Tx<'_>,
    unit: &UnitCode,
    date: Date,
    change: impl FnOnce(&mut DayStats),
) -> Result<(), StoreError> {
    let key = key(unit, date);
    let mut day: DayStats = tx.get_json(Space::Stats, &key)?.unwrap_or_default();
    let (open, overdue) = (day.open_change, day.open_overdue_change);
    change(&mut day);
    tx.put_json(Space::Stats, &key, &day)?;
    let (open, overdue) = (day.open_change - open, day.open_overdue_change - overdue);
    if open != 0 || overdue != 0 {
        let key = month_key(unit, date);
        let mut month: MonthStates = tx.get_json(Space::Stats, &key)?.unwrap_or_default();
        month.open_change += open;
        month.open_overdue_change += overdue;
        tx.put_json(Space::Stats, &key, &month)?;
    }
    Ok(())
}

/// Builds the monthly state entries from the daily ones, once, for a store written
/// before they existed.
pub async fn build_months(store: &Store) -> Result<(), StoreError> {
    if store.get(Space::Meta, MONTHS_BUILT)?.is_some() {
        return Ok(());
    }
    store
        .write(|tx| -> Result<(), StoreError> {
            let mut months: std::collections::BTreeMap<Vec<u8>, MonthStates> = std::collections::BTreeMap::new();
            for (key, value) in tx.scan_prefix(Space::Stats, b"", usize::MAX)? {
                let Some((unit, date)) = std::str::from_utf8(&key).ok().and_then(|k| k.split_once('|')) else {
                    continue;
                };
                let day: DayStats = crate::store::decode(Space::Stats, &key, &value)?;
                let month = months.entry(format!("{unit}#{}", &date[..6.min(date.len())]).into_bytes()).or_default();
                month.open_change += day.open_change;
                month.open_overdue_change += day.open_overdue_change;
            }
            for (key, month) in months {
                tx.put_json(Space::Stats, &key, &month)?;
            }
            tx.put(Space::Meta, MONTHS_BUILT, Vec::new());
            Ok(())
        })
        .await?
}

/// The measures of docs/DOMAIN.md §8 for a unit (with its sub-units) and a period.
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
    /// The same figures for each direct sub-unit with any (and the unit's own
    /// dossiers, under its own code), so that a table and a chart come from one query.
    pub children: Vec<Part>,
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

/// One unit's flows over a period and its states at the end of it.
#[derive(Debug, Clone, Default)]
struct Totals {
    flows: DayStats,
    open: i64,
    overdue: i64,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.flows.add_flows(&other.flows);
        self.open += other.open;
        self.overdue += other.overdue;
    }

    fn resolved(&self) -> u64 {
        self.flows.resolved_before_due + self.flows.resolved_on_due + self.flows.resolved_late
    }

    fn on_time_rate(&self) -> Option<f64> {
        let resolved = self.resolved();
        (resolved > 0).then(|| (self.flows.resolved_before_due + self.flows.resolved_on_due) as f64 / resolved as f64)
    }
}

/// The counters of one unit (without its sub-units) for the days `from..=to`.
fn unit_totals(store: &Store, u: &UnitCode, from: Date, to: Date) -> Result<Totals, StoreError> {
    let mut totals = Totals::default();
    let (first, last) = (from.strftime("%Y%m%d").to_string(), to.strftime("%Y%m%d").to_string());
    let last_month_start = to.first_of_month();
    // The state at the end of the period: whole months before its last month…
    let months_end = month_key(u, last_month_start);
    for item in store.range(Space::Stats, format!("{u}#").as_bytes(), &months_end) {
        let (key, value) = item?;
        let month: MonthStates = crate::store::decode(Space::Stats, &key, &value)?;
        totals.open += month.open_change;
        totals.overdue += month.open_overdue_change;
    }
    // …and the days of the last month up to the last day, with the period's flows.
    let start = key(u, from.min(last_month_start));
    let end = format!("{u}|{last}~").into_bytes();
    let month_start = last_month_start.strftime("%Y%m%d").to_string();
    for item in store.range(Space::Stats, &start, &end) {
        let (key, value) = item?;
        let day: DayStats = crate::store::decode(Space::Stats, &key, &value)?;
        let date = &key[key.len() - 8..];
        if date >= month_start.as_bytes() {
            totals.open += day.open_change;
            totals.overdue += day.open_overdue_change;
        }
        if date >= first.as_bytes() {
            totals.flows.add_flows(&day);
        }
    }
    Ok(totals)
}

/// The figures of one part of a unit (a sub-unit with its own sub-units, or the
/// unit's own dossiers), for the table and the chart of the overview.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Part {
    /// The sub-unit (the unit itself for its own dossiers).
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Received in the period.
    pub received: u64,
    /// Resolved in the period.
    pub resolved: u64,
    /// On time among those resolved; `null` when nothing was resolved.
    pub on_time_rate: Option<f64>,
    /// Open and overdue at the end of the period.
    pub open_overdue: i64,
    /// Overdue without an apology before the due time.
    pub apologies_missing: u64,
    /// Explanations missing.
    pub explanations_missing: u64,
}

/// Adds up the counters of `unit` and its sub-units for the days `from..=to`, with
/// the same figures for each of its direct sub-units (the parts with any figure).
pub fn report(store: &Store, network: &Network, unit: &UnitCode, from: Date, to: Date) -> Result<Report, StoreError> {
    let units: BTreeSet<UnitCode> = network.subtree(unit).into_iter().collect();
    let mut total = Totals::default();
    let mut parts: std::collections::BTreeMap<UnitCode, Totals> = std::collections::BTreeMap::new();
    for u in &units {
        let totals = unit_totals(store, u, from, to)?;
        total.add(&totals);
        parts.entry(part_of(network, unit, u)).or_default().add(&totals);
    }
    let flows = &total.flows;
    let resolved = total.resolved();
    let children = parts
        .iter()
        .filter(|(_, t)| t.flows.received > 0 || t.resolved() > 0 || t.open != 0 || t.overdue != 0)
        .map(|(code, t)| Part {
            unit: code.to_string(),
            name: network.unit(code).map_or_else(|| code.to_string(), |u| u.name.clone()),
            received: t.flows.received,
            resolved: t.resolved(),
            on_time_rate: t.on_time_rate(),
            open_overdue: t.overdue,
            apologies_missing: t.flows.apologies_missing,
            explanations_missing: t.flows.explanations_missing,
        })
        .collect();
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
        on_time_rate: total.on_time_rate(),
        open_not_due: total.open - total.overdue,
        open_overdue: total.overdue,
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
        children,
    })
}

/// The direct sub-unit of `top` that `u` lies in (as of its latest version), or
/// `top` itself for its own dossiers.
fn part_of(network: &Network, top: &UnitCode, u: &UnitCode) -> UnitCode {
    let mut below = u.clone();
    for ancestor in network.ancestry(u) {
        if &ancestor.code == top {
            return below;
        }
        below = ancestor.code.clone();
    }
    top.clone()
}

/// One day's figures of a unit and its sub-units.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Day {
    /// The day.
    pub date: Date,
    /// Received that day.
    pub received: u64,
    /// Resolved that day.
    pub resolved: u64,
    /// Of those, on time.
    pub on_time: u64,
}

/// For each day of `from..=to` on which any of `units` received dossiers: the
/// agencies whose codes they carry, or `None` for a day recorded before agencies were
/// (then any agency may have coded them).
pub fn received_agencies(
    store: &Store,
    units: &BTreeSet<String>,
    from: Date,
    to: Date,
) -> Result<std::collections::BTreeMap<Date, Option<BTreeSet<String>>>, StoreError> {
    let mut days: std::collections::BTreeMap<Date, Option<BTreeSet<String>>> = std::collections::BTreeMap::new();
    let (first, last) = (from.strftime("%Y%m%d").to_string(), to.strftime("%Y%m%d").to_string());
    for u in units {
        let (start, end) = (format!("{u}|{first}").into_bytes(), format!("{u}|{last}~").into_bytes());
        for item in store.range(Space::Stats, &start, &end) {
            let (k, value) = item?;
            let stats: DayStats = crate::store::decode(Space::Stats, &k, &value)?;
            let Some(day) = std::str::from_utf8(&k[k.len() - 8..]).ok().and_then(|d| Date::strptime("%Y%m%d", d).ok())
            else {
                continue;
            };
            if stats.received == 0 && stats.agencies.is_empty() {
                continue;
            }
            let entry = days.entry(day).or_insert_with(|| Some(BTreeSet::new()));
            match (entry, stats.agencies.is_empty()) {
                (slot @ Some(_), true) => *slot = None,
                (Some(set), false) => set.extend(stats.agencies),
                (None, _) => {}
            }
        }
    }
    Ok(days)
}

/// The figures of `unit` and its sub-units for each day of `from..=to`.
pub fn daily(store: &Store, network: &Network, unit: &UnitCode, from: Date, to: Date) -> Result<Vec<Day>, StoreError> {
    let mut days: std::collections::BTreeMap<Date, Day> = std::collections::BTreeMap::new();
    let mut date = from;
    while date <= to {
        days.insert(date, Day { date, ..Day::default() });
        let Ok(next) = date.tomorrow() else { break };
        date = next;
    }
    let last = to.strftime("%Y%m%d").to_string();
    for u in network.subtree(unit) {
        let end = format!("{u}|{last}~").into_bytes();
        for item in store.range(Space::Stats, &key(&u, from), &end) {
            let (k, value) = item?;
            let stats: DayStats = crate::store::decode(Space::Stats, &k, &value)?;
            let Some(on) = std::str::from_utf8(&k[k.len() - 8..]).ok().and_then(|d| Date::strptime("%Y%m%d", d).ok())
            else {
                continue;
            };
            if let Some(day) = days.get_mut(&on) {
                day.received += stats.received;
                day.resolved += stats.resolved_before_due + stats.resolved_on_due + stats.resolved_late;
                day.on_time += stats.resolved_before_due + stats.resolved_on_due;
            }
        }
    }
    Ok(days.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::StoreSection;
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
                for (key, _) in tx.scan_prefix(Space::Stats, b"", usize::MAX)? {
                    if key.contains(&b'#') {
                        tx.remove(Space::Stats, &key);
                    }
                }
                tx.remove(Space::Meta, MONTHS_BUILT);
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
