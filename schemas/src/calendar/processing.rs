//! Processing times and due dates: where the agency's clock starts, when it is due,
//! and how a supplement request pauses it.

use std::str::FromStr;

use jiff::{SignedDuration, Timestamp, civil::Time};
use serde::{Deserialize, Serialize};

use super::Calendar;
use crate::time::{from_vn, to_vn};

/// An amount of working time: `"3d"` (working days of `working_day_hours`), `"4h"`,
/// `"30m"`, or `"20s"` (seconds: for tests and demonstrations that must run fast).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkingDuration {
    /// Working days.
    Days(u32),
    /// Working hours.
    Hours(u32),
    /// Working minutes.
    Minutes(u32),
    /// Working seconds.
    Seconds(u32),
}

impl WorkingDuration {
    /// The amount as a plain duration of working time.
    pub fn to_duration(self, calendar: &Calendar) -> SignedDuration {
        match self {
            WorkingDuration::Days(n) => calendar.working_day() * i32::try_from(n).unwrap_or(i32::MAX),
            WorkingDuration::Hours(n) => SignedDuration::from_hours(i64::from(n)),
            WorkingDuration::Minutes(n) => SignedDuration::from_mins(i64::from(n)),
            WorkingDuration::Seconds(n) => SignedDuration::from_secs(i64::from(n)),
        }
    }

    /// True for a zero amount.
    pub fn is_zero(self) -> bool {
        matches!(
            self,
            WorkingDuration::Days(0)
                | WorkingDuration::Hours(0)
                | WorkingDuration::Minutes(0)
                | WorkingDuration::Seconds(0)
        )
    }
}

impl FromStr for WorkingDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let split = s.len().saturating_sub(1);
        let (number, unit) = (&s[..split], &s[split..]);
        let n: u32 = number
            .parse()
            .map_err(|_| format!("{s:?} is not an amount of working time like \"3d\", \"4h\" or \"30m\""))?;
        match unit {
            "d" => Ok(WorkingDuration::Days(n)),
            "h" => Ok(WorkingDuration::Hours(n)),
            "m" => Ok(WorkingDuration::Minutes(n)),
            "s" => Ok(WorkingDuration::Seconds(n)),
            _ => Err(format!("{s:?} has no unit d (working days), h (hours), m (minutes) or s (seconds)")),
        }
    }
}

impl std::fmt::Display for WorkingDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkingDuration::Days(n) => write!(f, "{n}d"),
            WorkingDuration::Hours(n) => write!(f, "{n}h"),
            WorkingDuration::Minutes(n) => write!(f, "{n}m"),
            WorkingDuration::Seconds(n) => write!(f, "{n}s"),
        }
    }
}

/// A procedure's processing time: an amount of working time, or `same_day` (the
/// close of the working day on which the clock starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingTime {
    /// An amount of working time.
    Working(WorkingDuration),
    /// Due at the close of the starting working day.
    SameDay,
}

impl FromStr for ProcessingTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "same_day" {
            return Ok(ProcessingTime::SameDay);
        }
        let amount: WorkingDuration = s.parse().map_err(|e| format!("{e}, or \"same_day\""))?;
        if amount.is_zero() {
            return Err(format!("{s:?}: a processing time must be positive"));
        }
        Ok(ProcessingTime::Working(amount))
    }
}

impl std::fmt::Display for ProcessingTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessingTime::Working(amount) => amount.fmt(f),
            ProcessingTime::SameDay => f.write_str("same_day"),
        }
    }
}

macro_rules! serde_via_str {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_str!(WorkingDuration);
serde_via_str!(ProcessingTime);

/// What a received supplement does to the agency's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplementPolicy {
    /// The clock continues with the working time that was left.
    #[default]
    Resume,
    /// The clock starts again with the full processing time, as for a new receipt.
    Restart,
}

/// The agency's clock for one dossier: when it is due, and whether it is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// When the result is due (the last computed value while paused).
    #[serde(with = "crate::time::rfc3339")]
    pub due_at: Timestamp,
    /// Working time that was left when a supplement request paused the clock, in
    /// seconds; absent while the clock runs.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "seconds")]
    pub paused_remaining: Option<SignedDuration>,
}

mod seconds {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<SignedDuration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_i64(d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SignedDuration>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(SignedDuration::from_secs))
    }
}

/// Where the clock starts for something received at `at`: the first working instant
/// at or after it, or — when a `cutoff` applies and `at` is after it on a working day
/// — the opening of the next working day.
pub fn clock_start(calendar: &Calendar, at: Timestamp, cutoff: Option<Time>) -> jiff::civil::DateTime {
    let local = to_vn(at);
    match cutoff {
        Some(cutoff) if local.time() > cutoff && calendar.is_working_day(local.date()) => {
            calendar.next_working_day_opening(local.date())
        }
        _ => calendar.next_working_instant(local),
    }
}

impl Deadline {
    /// The clock of a dossier received at `received_at`.
    pub fn start(calendar: &Calendar, received_at: Timestamp, time: ProcessingTime, cutoff: Option<Time>) -> Deadline {
        let start = clock_start(calendar, received_at, cutoff);
        let due = match time {
            ProcessingTime::Working(amount) => calendar.add(start, amount.to_duration(calendar)),
            ProcessingTime::SameDay => calendar.close_of_working_day(start),
        };
        Deadline { due_at: from_vn(due), paused_remaining: None }
    }

    /// True while a supplement request has stopped the clock.
    pub fn is_paused(&self) -> bool {
        self.paused_remaining.is_some()
    }

    /// Stops the clock at `at`, remembering the working time left (none once overdue).
    pub fn pause(&mut self, calendar: &Calendar, at: Timestamp) {
        if self.is_paused() {
            return;
        }
        let left = calendar.working_between(to_vn(at), to_vn(self.due_at));
        self.paused_remaining = Some(left);
    }

    /// Starts the clock again at `at` under the procedure's policy.
    pub fn resume(
        &mut self,
        calendar: &Calendar,
        at: Timestamp,
        policy: SupplementPolicy,
        time: ProcessingTime,
        cutoff: Option<Time>,
    ) {
        let Some(left) = self.paused_remaining else {
            return;
        };
        *self = match policy {
            SupplementPolicy::Restart => Deadline::start(calendar, at, time, cutoff),
            SupplementPolicy::Resume => {
                let start = calendar.next_working_instant(to_vn(at));
                Deadline { due_at: from_vn(calendar.add(start, left)), paused_remaining: None }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::vn_calendar;
    use super::*;
    use crate::time::parse_rfc3339;

    fn ts(s: &str) -> Timestamp {
        parse_rfc3339(s).unwrap()
    }

    fn time(s: &str) -> ProcessingTime {
        s.parse().unwrap()
    }

    const CUTOFF: Option<Time> = Some(Time::constant(15, 0, 0, 0));

    #[test]
    fn parses_and_shows_processing_times() {
        for s in ["1d", "8h", "90m", "45s", "same_day"] {
            assert_eq!(time(s).to_string(), s);
        }
        for bad in ["", "d", "0d", "1w", "-1d", "1.5d", "same day"] {
            assert!(bad.parse::<ProcessingTime>().is_err(), "{bad}");
        }
        assert_eq!(WorkingDuration::Days(2).to_duration(&vn_calendar()), SignedDuration::from_hours(16));
    }

    #[test]
    fn one_working_day_from_a_morning_receipt() {
        let cal = vn_calendar();
        let d = Deadline::start(&cal, ts("2026-11-25T09:30:00+07:00"), time("1d"), CUTOFF);
        assert_eq!(d.due_at, ts("2026-11-26T09:30:00+07:00"));
    }

    #[test]
    fn the_15h_cutoff_counts_from_the_next_working_day() {
        let cal = vn_calendar();
        let before = Deadline::start(&cal, ts("2026-11-27T15:00:00+07:00"), time("1d"), CUTOFF);
        assert_eq!(before.due_at, ts("2026-11-30T15:00:00+07:00"), "15:00 itself is not after 15:00");
        let after = Deadline::start(&cal, ts("2026-11-27T15:01:00+07:00"), time("1d"), CUTOFF);
        assert_eq!(after.due_at, ts("2026-11-30T17:00:00+07:00"), "Friday after 15:00 → Monday 07:00 + 8 h");
        let no_cutoff = Deadline::start(&cal, ts("2026-11-27T15:01:00+07:00"), time("1d"), None);
        assert_eq!(no_cutoff.due_at, ts("2026-11-30T15:01:00+07:00"));
    }

    #[test]
    fn same_day_is_the_close_of_the_starting_day() {
        let cal = vn_calendar();
        let morning = Deadline::start(&cal, ts("2026-11-25T09:30:00+07:00"), ProcessingTime::SameDay, CUTOFF);
        assert_eq!(morning.due_at, ts("2026-11-25T17:00:00+07:00"));
        let late = Deadline::start(&cal, ts("2026-11-25T16:00:00+07:00"), ProcessingTime::SameDay, CUTOFF);
        assert_eq!(late.due_at, ts("2026-11-26T17:00:00+07:00"));
        let saturday = Deadline::start(&cal, ts("2026-11-28T09:00:00+07:00"), ProcessingTime::SameDay, None);
        assert_eq!(saturday.due_at, ts("2026-11-30T17:00:00+07:00"));
    }

    #[test]
    fn a_supplement_pause_resumes_with_the_time_left() {
        let cal = vn_calendar();
        // 3 days from Mon 23 Nov 07:00 → Wed 25 Nov 17:00.
        let mut d = Deadline::start(&cal, ts("2026-11-23T07:00:00+07:00"), time("3d"), None);
        assert_eq!(d.due_at, ts("2026-11-25T17:00:00+07:00"));
        // Paused Tuesday 07:00 with 16 h left; resumed the next Monday 07:00.
        d.pause(&cal, ts("2026-11-24T07:00:00+07:00"));
        assert_eq!(d.paused_remaining, Some(SignedDuration::from_hours(16)));
        d.pause(&cal, ts("2026-11-24T09:00:00+07:00"));
        assert_eq!(d.paused_remaining, Some(SignedDuration::from_hours(16)), "a second pause changes nothing");
        d.resume(&cal, ts("2026-11-30T07:00:00+07:00"), SupplementPolicy::Resume, time("3d"), None);
        assert_eq!(d, Deadline { due_at: ts("2026-12-01T17:00:00+07:00"), paused_remaining: None });
    }

    #[test]
    fn a_supplement_pause_can_restart_the_clock() {
        let cal = vn_calendar();
        let mut d = Deadline::start(&cal, ts("2026-11-23T07:00:00+07:00"), time("3d"), CUTOFF);
        d.pause(&cal, ts("2026-11-24T07:00:00+07:00"));
        d.resume(&cal, ts("2026-11-30T16:00:00+07:00"), SupplementPolicy::Restart, time("3d"), CUTOFF);
        // After 15:00 → from Tue 1 Dec 07:00, 24 h → Thu 3 Dec 17:00.
        assert_eq!(d.due_at, ts("2026-12-03T17:00:00+07:00"));
    }

    #[test]
    fn a_pause_after_the_due_time_leaves_nothing() {
        let cal = vn_calendar();
        let mut d = Deadline::start(&cal, ts("2026-11-23T07:00:00+07:00"), time("1d"), None);
        d.pause(&cal, ts("2026-11-26T07:00:00+07:00"));
        assert_eq!(d.paused_remaining, Some(SignedDuration::ZERO));
        d.resume(&cal, ts("2026-11-28T10:00:00+07:00"), SupplementPolicy::Resume, time("1d"), None);
        assert_eq!(d.due_at, ts("2026-11-30T07:00:00+07:00"));
    }

    #[test]
    fn deadlines_serialize_compactly() {
        let d =
            Deadline { due_at: ts("2026-11-25T17:00:00+07:00"), paused_remaining: Some(SignedDuration::from_hours(2)) };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"due_at":"2026-11-25T17:00:00+07:00","paused_remaining":7200}"#);
        assert_eq!(serde_json::from_str::<Deadline>(&json).unwrap(), d);
    }
}
