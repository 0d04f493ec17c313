//! The calendar's configuration form (`[calendar]` in TOML) and its validation.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, civil::Date};
use serde::{Deserialize, Serialize};

use super::{Calendar, CalendarProblem, OfficeInterval, Period};

/// `[calendar]`: office hours, the length of a working day, and the days off and
/// make-up working days of each year.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// How long one working day is, in hours (processing times in days use it).
    #[serde(default = "default_working_day_hours")]
    pub working_day_hours: u8,
    /// When the office is open on each weekday, outside the periods below.
    pub office_hours: OfficeHoursConfig,
    /// Periods of the year with office hours of their own (summer and winter
    /// hours), chosen by date every year.
    #[serde(default)]
    pub periods: Vec<PeriodConfig>,
    /// Public holidays and make-up working days, per year.
    #[serde(default)]
    pub years: Vec<YearConfig>,
}

fn default_working_day_hours() -> u8 {
    8
}

/// `[calendar.office_hours]`: `"HH:MM-HH:MM"` intervals per weekday (`24:00` allowed as a
/// closing time). A weekday that is absent or empty is a day off.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHoursConfig {
    #[serde(default)]
    #[allow(missing_docs)]
    pub mon: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub tue: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub wed: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub thu: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub fri: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub sat: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub sun: Vec<String>,
    /// Hours of a make-up working day; Monday's hours when absent.
    #[serde(default)]
    pub make_up: Option<Vec<String>>,
}

/// `[[calendar.periods]]`: office hours from one day of the year to another,
/// every year (`MM-DD`, inclusive; `from` after `until` runs over the new year).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodConfig {
    /// What it is called, e.g. "Giờ làm việc mùa đông".
    #[serde(default)]
    pub name: String,
    /// First day, `MM-DD`.
    pub from: String,
    /// Last day, `MM-DD`.
    pub until: String,
    /// The hours of each weekday in the period.
    pub office_hours: OfficeHoursConfig,
}

/// `[[calendar.years]]`: the days off and make-up working days one year's
/// announcement gives. Dates are `YYYY-MM-DD` or inclusive ranges `YYYY-MM-DD..YYYY-MM-DD`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YearConfig {
    /// The calendar year.
    pub year: i16,
    /// True while the year's days off are computed rather than announced.
    #[serde(default)]
    pub provisional: bool,
    /// Days off (public holidays, swapped days, substitutes).
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Days without regular office hours that are declared working days.
    #[serde(default)]
    pub make_up_days: Vec<String>,
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn parse_intervals(path: &str, items: &[String], problems: &mut Vec<CalendarProblem>) -> Vec<OfficeInterval> {
    let mut out: Vec<OfficeInterval> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let parsed = item.split_once('-').and_then(|(a, b)| Some((parse_clock(a.trim())?, parse_clock(b.trim())?)));
        match parsed {
            Some((open, close)) if open < close => out.push(OfficeInterval { open, close }),
            Some(_) => problems.push(CalendarProblem {
                path: format!("{path}[{i}]"),
                message: format!("{item:?}: the office must open before it closes"),
            }),
            None => problems.push(CalendarProblem {
                path: format!("{path}[{i}]"),
                message: format!("{item:?} is not an interval \"HH:MM-HH:MM\""),
            }),
        }
    }
    out.sort_by_key(|i| i.open);
    if out.windows(2).any(|w| w[0].close > w[1].open) {
        problems.push(CalendarProblem { path: path.to_owned(), message: "intervals overlap".to_owned() });
    }
    out
}

fn parse_dates(path: &str, year: i16, items: &[String], problems: &mut Vec<CalendarProblem>) -> Vec<Date> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let (from, to) = item.split_once("..").unwrap_or((item, item));
        let (Ok(from), Ok(to)) = (from.trim().parse::<Date>(), to.trim().parse::<Date>()) else {
            problems.push(CalendarProblem {
                path: at,
                message: format!("{item:?} is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"),
            });
            continue;
        };
        if from > to || from.year() != year || to.year() != year {
            problems.push(CalendarProblem {
                path: at,
                message: format!("{item:?} must lie within {year} and run forwards"),
            });
            continue;
        }
        let mut day = from;
        while day <= to {
            out.push(day);
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
    }
    out
}

/// `MM-DD` as (month, day), checked against a leap year.
fn parse_month_day(path: &str, text: &str, problems: &mut Vec<CalendarProblem>) -> Option<(i8, i8)> {
    let parsed = text.split_once('-').and_then(|(m, d)| {
        let (m, d): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
        jiff::civil::Date::new(2024, m, d).ok().map(|_| (m, d))
    });
    if parsed.is_none() {
        problems.push(CalendarProblem {
            path: path.to_owned(),
            message: format!("{text:?} is not a day of the year MM-DD"),
        });
    }
    parsed
}

/// Office hours per weekday and of make-up days, from one `OfficeHoursConfig`.
fn week(
    path: &str,
    h: &OfficeHoursConfig,
    problems: &mut Vec<CalendarProblem>,
) -> ([Vec<OfficeInterval>; 7], Vec<OfficeInterval>) {
    let named = [
        ("mon", &h.mon),
        ("tue", &h.tue),
        ("wed", &h.wed),
        ("thu", &h.thu),
        ("fri", &h.fri),
        ("sat", &h.sat),
        ("sun", &h.sun),
    ];
    let weekly = named.map(|(day, items)| parse_intervals(&format!("{path}.{day}"), items, problems));
    let make_up_hours = match &h.make_up {
        Some(items) => parse_intervals(&format!("{path}.make_up"), items, problems),
        None => weekly[0].clone(),
    };
    if weekly.iter().all(Vec::is_empty) {
        problems.push(CalendarProblem {
            path: path.to_owned(),
            message: "no weekday has office hours, so the clock could never run".to_owned(),
        });
    }
    (weekly, make_up_hours)
}

pub(super) fn build(cfg: &CalendarConfig) -> Result<Calendar, Vec<CalendarProblem>> {
    let mut problems = Vec::new();
    let mut periods = Vec::new();
    let mut covered = std::collections::BTreeMap::new();
    for (i, p) in cfg.periods.iter().enumerate() {
        let at = format!("periods[{i}]");
        let from = parse_month_day(&format!("{at}.from"), &p.from, &mut problems);
        let until = parse_month_day(&format!("{at}.until"), &p.until, &mut problems);
        let (weekly, make_up_hours) = week(&format!("{at}.office_hours"), &p.office_hours, &mut problems);
        let (Some(from), Some(until)) = (from, until) else { continue };
        let period = Period { from, until, weekly, make_up_hours };
        // Every day of a leap year belongs to at most one period.
        let mut day = jiff::civil::date(2024, 1, 1);
        while day.year() == 2024 {
            if period.contains(day)
                && let Some(other) = covered.insert((day.month(), day.day()), i)
            {
                problems.push(CalendarProblem {
                    path: at.clone(),
                    message: format!("overlaps periods[{other}] on {:02}-{:02}", day.month(), day.day()),
                });
                break;
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
        periods.push(period);
    }
    let (weekly, make_up_hours) = week("office_hours", &cfg.office_hours, &mut problems);
    if make_up_hours.is_empty() && cfg.years.iter().any(|y| !y.make_up_days.is_empty()) {
        problems.push(CalendarProblem {
            path: "office_hours.make_up".to_owned(),
            message: "make-up days are configured but have no office hours".to_owned(),
        });
    }
    if cfg.working_day_hours == 0 || cfg.working_day_hours > 24 {
        problems.push(CalendarProblem {
            path: "working_day_hours".to_owned(),
            message: format!("{} is not a number of hours from 1 to 24", cfg.working_day_hours),
        });
    }

    let mut holidays = BTreeSet::new();
    let mut make_up_days = BTreeSet::new();
    let mut seen_years = BTreeMap::new();
    for (i, y) in cfg.years.iter().enumerate() {
        if let Some(first) = seen_years.insert(y.year, i) {
            problems.push(CalendarProblem {
                path: format!("years[{i}].year"),
                message: format!("{} is already configured at years[{first}]", y.year),
            });
        }
        let days_off = parse_dates(&format!("years[{i}].holidays"), y.year, &y.holidays, &mut problems);
        let make_up = parse_dates(&format!("years[{i}].make_up_days"), y.year, &y.make_up_days, &mut problems);
        for (j, day) in make_up.iter().enumerate() {
            let regular = &weekly[usize::from(day.weekday().to_monday_zero_offset().unsigned_abs())];
            if days_off.contains(day) {
                problems.push(CalendarProblem {
                    path: format!("years[{i}].make_up_days[{j}]"),
                    message: format!("{day} is also listed as a holiday"),
                });
            } else if !regular.is_empty() {
                problems.push(CalendarProblem {
                    path: format!("years[{i}].make_up_days[{j}]"),
                    message: format!("{day} is a {:?} and already a working day", day.weekday()),
                });
            }
        }
        holidays.extend(days_off);
        make_up_days.extend(make_up);
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Calendar {
        weekly,
        periods,
        make_up_hours,
        holidays,
        make_up_days,
        working_day: SignedDuration::from_hours(i64::from(cfg.working_day_hours)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cfg(text: &str) -> CalendarConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_sample_hours_and_days_off() {
        let cal = crate::calendar::test_support::vn_calendar();
        assert!(cal.is_working_day(date(2026, 11, 25)));
        assert!(!cal.is_working_day(date(2026, 11, 28)), "a Saturday");
        assert!(cal.is_working_day(date(2026, 1, 10)), "make-up Saturday");
        assert!(!cal.is_working_day(date(2026, 2, 17)), "Tết");
        assert!(cal.is_holiday(date(2026, 9, 2)));
        assert_eq!(cal.working_day(), SignedDuration::from_hours(8));
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let problems = Calendar::new(&cfg(r#"
            working_day_hours = 0
            [office_hours]
            mon = ["07:00-11:30", "11:00-17:00"]
            tue = ["17:00-07:00", "nine to five"]
            [[years]]
            year = 2026
            holidays = ["2026-02-30", "2027-01-01", "2026-03-02..2026-03-01"]
            make_up_days = ["2026-01-05", "2026-01-10"]
            [[years]]
            year = 2026
            "#))
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "office_hours.mon",
                "office_hours.tue[0]",
                "office_hours.tue[1]",
                "working_day_hours",
                "years[0].holidays[0]",
                "years[0].holidays[1]",
                "years[0].holidays[2]",
                "years[0].make_up_days[0]",
                "years[1].year",
            ],
            "{problems:#?}"
        );
    }

    #[test]
    fn summer_and_winter_hours_are_chosen_by_date() {
        let cal = Calendar::new(&cfg(r#"
            [office_hours]
            mon = ["07:00-11:30", "13:30-17:00"]
            [[periods]]
            name = "Giờ làm việc mùa đông"
            from = "10-15"
            until = "04-14"
            office_hours = { mon = ["07:30-11:30", "13:00-17:00"] }
            "#))
        .unwrap();
        let summer = [OfficeInterval { open: 420, close: 690 }, OfficeInterval { open: 810, close: 1020 }];
        let winter = [OfficeInterval { open: 450, close: 690 }, OfficeInterval { open: 780, close: 1020 }];
        assert_eq!(cal.hours_on(date(2026, 10, 12)), &summer, "Monday 12 Oct");
        assert_eq!(cal.hours_on(date(2026, 10, 19)), &winter, "Monday 19 Oct");
        assert_eq!(cal.hours_on(date(2027, 1, 4)), &winter, "across the new year");
        assert_eq!(cal.hours_on(date(2027, 4, 12)), &winter, "Monday 12 Apr");
        assert_eq!(cal.hours_on(date(2027, 4, 19)), &summer, "Monday 19 Apr");
    }

    #[test]
    fn overlapping_and_malformed_periods_are_refused() {
        let problems = Calendar::new(&cfg(r#"
            [office_hours]
            mon = ["07:00-11:30"]
            [[periods]]
            from = "10-15"
            until = "04-14"
            office_hours = { mon = ["07:30-11:30"] }
            [[periods]]
            from = "04-01"
            until = "05-01"
            office_hours = { mon = ["07:30-11:30"] }
            [[periods]]
            from = "02-30"
            until = "03-01"
            office_hours = { mon = ["07:30-11:30"] }
            "#))
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["periods[1]", "periods[2].from"], "{problems:#?}");
    }

    #[test]
    fn a_week_without_hours_is_refused() {
        let problems = Calendar::new(&cfg("[office_hours]\n")).unwrap_err();
        assert_eq!(problems[0].path, "office_hours");
    }

    #[test]
    fn midnight_closing_and_make_up_hours() {
        let cal = Calendar::new(&cfg(r#"
            [office_hours]
            mon = ["00:00-24:00"]
            make_up = ["08:00-12:00"]
            [[years]]
            year = 2026
            make_up_days = ["2026-01-10"]
            "#))
        .unwrap();
        let (open, close) = cal.intervals(date(2026, 11, 23)).next().unwrap();
        assert_eq!(open, date(2026, 11, 23).at(0, 0, 0, 0));
        assert_eq!(close, date(2026, 11, 24).at(0, 0, 0, 0));
        assert_eq!(cal.hours_on(date(2026, 1, 10)), &[OfficeInterval { open: 480, close: 720 }]);
    }
}
