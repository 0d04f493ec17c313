//! The working-time calendar (docs/DOMAIN.md §6): when the agency's clock runs.
//!
//! Working time is the office hours of each weekday (half-open intervals
//! `[open, close)`), minus public holidays, plus make-up working days — all data from
//! configuration, per year. Arithmetic over it lives in `walk`; processing times,
//! cut-offs and supplement pauses in `processing`.

mod config;
mod processing;
mod walk;

pub use config::{CalendarConfig, OfficeHoursConfig, PeriodConfig, YearConfig};
pub use processing::{Deadline, ProcessingTime, SupplementPolicy, WorkingDuration, clock_start};

use std::collections::BTreeSet;

use jiff::{
    SignedDuration,
    civil::{Date, DateTime},
};

/// One stretch of office hours, in minutes after midnight: `[open, close)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeInterval {
    /// Minutes after midnight when the office opens.
    pub open: u16,
    /// Minutes after midnight when it closes (1440 = midnight at the end of the day).
    pub close: u16,
}

impl OfficeInterval {
    /// The interval on `date` as wall-clock times.
    fn on(self, date: Date) -> (DateTime, DateTime) {
        let midnight = date.to_datetime(jiff::civil::Time::midnight());
        let at = |m: u16| midnight + SignedDuration::from_mins(i64::from(m));
        (at(self.open), at(self.close))
    }
}

/// A problem found in calendar configuration, with the key path it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarProblem {
    /// Key path below `calendar`, e.g. `years[0].holidays[3]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Office hours from one day of the year to another, every year.
#[derive(Debug, Clone)]
pub(crate) struct Period {
    from: (i8, i8),
    until: (i8, i8),
    weekly: [Vec<OfficeInterval>; 7],
    make_up_hours: Vec<OfficeInterval>,
}

impl Period {
    /// True when `date` falls in the period (which may run over the new year).
    pub(crate) fn contains(&self, date: Date) -> bool {
        let day = (date.month(), date.day());
        if self.from <= self.until {
            self.from <= day && day <= self.until
        } else {
            day >= self.from || day <= self.until
        }
    }
}

/// A validated working-time calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Office hours per weekday, Monday first, outside the periods.
    weekly: [Vec<OfficeInterval>; 7],
    /// Periods of the year with hours of their own.
    periods: Vec<Period>,
    /// Office hours of a make-up working day.
    make_up_hours: Vec<OfficeInterval>,
    holidays: BTreeSet<Date>,
    make_up_days: BTreeSet<Date>,
    working_day: SignedDuration,
}

impl Calendar {
    /// Builds a calendar, reporting every problem of the configuration at once.
    pub fn new(cfg: &CalendarConfig) -> Result<Calendar, Vec<CalendarProblem>> {
        config::build(cfg)
    }

    /// The length of one working day (`working_day_hours`).
    pub fn working_day(&self) -> SignedDuration {
        self.working_day
    }

    /// The office hours of `date` (empty on days off).
    pub fn hours_on(&self, date: Date) -> &[OfficeInterval] {
        let (weekly, make_up) = match self.periods.iter().find(|p| p.contains(date)) {
            Some(p) => (&p.weekly, &p.make_up_hours),
            None => (&self.weekly, &self.make_up_hours),
        };
        if self.make_up_days.contains(&date) {
            make_up
        } else if self.holidays.contains(&date) {
            &[]
        } else {
            &weekly[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())]
        }
    }

    /// The years whose days off are configured.
    pub fn years(&self) -> std::collections::BTreeSet<i16> {
        self.holidays.iter().chain(&self.make_up_days).map(|d| d.year()).collect()
    }

    /// True when the office is open at some time of `date`.
    pub fn is_working_day(&self, date: Date) -> bool {
        !self.hours_on(date).is_empty()
    }

    /// True when `date` is a configured public holiday (and not a make-up day).
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains(&date) && !self.make_up_days.contains(&date)
    }

    /// The configured holidays (for summaries).
    pub fn holidays(&self) -> impl Iterator<Item = Date> + '_ {
        self.holidays.iter().copied()
    }

    /// The configured make-up working days (for summaries).
    pub fn make_up_days(&self) -> impl Iterator<Item = Date> + '_ {
        self.make_up_days.iter().copied()
    }

    /// The working intervals of `date` as wall-clock `[open, close)` pairs.
    pub fn intervals(&self, date: Date) -> impl Iterator<Item = (DateTime, DateTime)> + '_ {
        self.hours_on(date).iter().map(move |i| i.on(date))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// The sample province's hours (07:00–11:30, 13:30–17:00 = 8 h) with the 2026 and
    /// provisional 2027 days off of docs/DOMAIN.md §10.
    pub fn vn_calendar() -> Calendar {
        let cfg: CalendarConfig = toml::from_str(
            r#"
            working_day_hours = 8
            [office_hours]
            mon = ["07:00-11:30", "13:30-17:00"]
            tue = ["07:00-11:30", "13:30-17:00"]
            wed = ["07:00-11:30", "13:30-17:00"]
            thu = ["07:00-11:30", "13:30-17:00"]
            fri = ["07:00-11:30", "13:30-17:00"]
            [[years]]
            year = 2026
            holidays = ["2026-01-01..2026-01-04", "2026-02-14..2026-02-22",
                        "2026-04-25..2026-04-27", "2026-04-30..2026-05-03",
                        "2026-08-29..2026-09-02"]
            make_up_days = ["2026-01-10", "2026-08-22"]
            [[years]]
            year = 2027
            provisional = true
            holidays = ["2027-01-01", "2027-02-05..2027-02-11", "2027-04-16",
                        "2027-04-30", "2027-05-03", "2027-09-02..2027-09-03"]
            "#,
        )
        .unwrap();
        Calendar::new(&cfg).unwrap()
    }
}
