//! What the counters say for a unit and a period: the report (with a part per direct
//! sub-unit), the daily series of the overview's trend, and the agencies whose codes a
//! unit's dossiers of each day carry (for the log book).

use std::collections::BTreeSet;

use jiff::civil::Date;
use motcua_schemas::UnitCode;
use serde::Serialize;

use super::{DayStats, MonthStates};
use crate::network::Network;
use crate::store::{Key, Store, StoreError, keys};

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
    /// Payments asked of applicants.
    pub payments_requested: u64,
    /// Payments made online through the national payment platform.
    pub paid_online: u64,
    /// Payments desks recorded as made there.
    pub paid_at_desk: u64,
    /// Dossiers whose submitted components were digitized.
    pub digitized_dossiers: u64,
    /// Dossiers whose result was issued digitized.
    pub digitized_results: u64,
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
/// The ratings given to `unit`'s own dossiers on the days `from..=to`: không hài lòng,
/// hài lòng, rất hài lòng.
pub fn ratings_of(store: &Store, unit: &UnitCode, from: Date, to: Date) -> Result<[u64; 3], StoreError> {
    Ok(unit_totals(store, unit, from, to)?.flows.ratings)
}

fn unit_totals(store: &Store, u: &UnitCode, from: Date, to: Date) -> Result<Totals, StoreError> {
    let mut totals = Totals::default();
    let (first, last) = (from.strftime("%Y%m%d").to_string(), to.strftime("%Y%m%d").to_string());
    let last_month_start = to.first_of_month();
    // The state at the end of the period: whole months before its last month…
    let months = keys::months_before(u.as_str(), &last_month_start.strftime("%Y%m").to_string());
    for item in store.range(&months) {
        let (key, value) = item?;
        let month: MonthStates = crate::store::decode(&key, &value)?;
        totals.open += month.open_change;
        totals.overdue += month.open_overdue_change;
    }
    // …and the days of the last month up to the last day, with the period's flows.
    let start = from.min(last_month_start).strftime("%Y%m%d").to_string();
    let month_start = last_month_start.strftime("%Y%m%d").to_string();
    for item in store.range(&keys::days_stats(u.as_str(), &start, &last)) {
        let (key, value) = item?;
        let day: DayStats = crate::store::decode(&key, &value)?;
        let Some((_, date, false)) = keys::parse_stats(&key) else { continue };
        if date >= month_start.as_str() {
            totals.open += day.open_change;
            totals.overdue += day.open_overdue_change;
        }
        if date >= first.as_str() {
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
        payments_requested: flows.payments_requested,
        paid_online: flows.paid_online,
        paid_at_desk: flows.paid_at_desk,
        digitized_dossiers: flows.digitized_dossiers,
        digitized_results: flows.digitized_results,
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
        for item in store.range(&keys::days_stats(u, &first, &last)) {
            let (k, value) = item?;
            let stats: DayStats = crate::store::decode(&k, &value)?;
            let Some(day) = day_of(&k) else { continue };
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

/// The day of a unit's day key.
fn day_of(key: &Key) -> Option<Date> {
    let Some((_, digits, false)) = keys::parse_stats(key) else { return None };
    Date::strptime("%Y%m%d", digits).ok()
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
    let (first, last) = (from.strftime("%Y%m%d").to_string(), to.strftime("%Y%m%d").to_string());
    for u in network.subtree(unit) {
        for item in store.range(&keys::days_stats(u.as_str(), &first, &last)) {
            let (k, value) = item?;
            let stats: DayStats = crate::store::decode(&k, &value)?;
            let Some(on) = day_of(&k) else { continue };
            if let Some(day) = days.get_mut(&on) {
                day.received += stats.received;
                day.resolved += stats.resolved_before_due + stats.resolved_on_due + stats.resolved_late;
                day.on_time += stats.resolved_before_due + stats.resolved_on_due;
            }
        }
    }
    Ok(days.into_values().collect())
}
