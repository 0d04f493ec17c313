//! Arithmetic over working time: walking forwards and backwards through office
//! intervals, day by day.
//!
//! Intervals are half-open `[open, close)`, but an instant reached by adding a
//! positive amount of working time may equal a closing time: a due time that lands
//! on 17:00 stays at 17:00 rather than moving to the next morning's opening. So a
//! forward walk ends in `(open, close]` and a backward walk in `[open, close)`.

use jiff::{
    SignedDuration,
    civil::{Date, DateTime},
};

use super::Calendar;

#[expect(clippy::expect_used, reason = "the calendar's years are checked to lie far inside jiff's range")]
fn next_date(date: Date) -> Date {
    date.tomorrow().expect("the calendar never walks past year 9999")
}

#[expect(clippy::expect_used, reason = "the calendar's years are checked to lie far inside jiff's range")]
fn previous_date(date: Date) -> Date {
    date.yesterday().expect("the calendar never walks before year -9999")
}

impl Calendar {
    /// The first working instant at or after `t`.
    pub fn next_working_instant(&self, t: DateTime) -> DateTime {
        let mut date = t.date();
        loop {
            for (open, close) in self.intervals(date) {
                if t < close {
                    return t.max(open);
                }
            }
            date = next_date(date);
        }
    }

    /// The opening time of the first working day after `date`.
    pub fn next_working_day_opening(&self, date: Date) -> DateTime {
        let mut date = next_date(date);
        loop {
            if let Some((open, _)) = self.intervals(date).next() {
                return open;
            }
            date = next_date(date);
        }
    }

    /// The closing time of the last interval on the working day of `t`, or of the next
    /// working day when `t` falls on a day off.
    pub fn close_of_working_day(&self, t: DateTime) -> DateTime {
        let start = self.next_working_instant(t);
        self.intervals(start.date()).last().map_or(start, |(_, close)| close)
    }

    /// The instant when `amount` of working time has run from `start`. For a positive
    /// amount the result lies in some `(open, close]`; for zero or less it is the first
    /// working instant at or after `start`.
    pub fn add(&self, start: DateTime, amount: SignedDuration) -> DateTime {
        if amount <= SignedDuration::ZERO {
            return self.next_working_instant(start);
        }
        let mut left = amount;
        let mut date = start.date();
        loop {
            for (open, close) in self.intervals(date) {
                let from = start.max(open);
                if from >= close {
                    continue;
                }
                let available = close.duration_since(from);
                if left <= available {
                    return from + left;
                }
                left -= available;
            }
            date = next_date(date);
        }
    }

    /// The latest instant from which `amount` of working time runs until `end`. For a
    /// positive amount the result lies in some `[open, close)`.
    pub fn sub(&self, end: DateTime, amount: SignedDuration) -> DateTime {
        if amount <= SignedDuration::ZERO {
            return end;
        }
        let mut left = amount;
        let mut date = end.date();
        loop {
            let intervals: Vec<_> = self.intervals(date).collect();
            for (open, close) in intervals.into_iter().rev() {
                let to = end.min(close);
                if to <= open {
                    continue;
                }
                let available = to.duration_since(open);
                if left <= available {
                    return to - left;
                }
                left -= available;
            }
            date = previous_date(date);
        }
    }

    /// The working time within `[from, to)`; zero when `to <= from`.
    pub fn working_between(&self, from: DateTime, to: DateTime) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        let mut date = from.date();
        while date <= to.date() {
            for (open, close) in self.intervals(date) {
                let (a, b) = (from.max(open), to.min(close));
                if a < b {
                    total += b.duration_since(a);
                }
            }
            date = next_date(date);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::vn_calendar;
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> DateTime {
        date(y, m, d).at(h, min, 0, 0)
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    #[test]
    fn a_due_time_on_a_closing_time_stays_there() {
        let cal = vn_calendar();
        // Wednesday 25 Nov 2026 07:00 + 8 h = 17:00 the same day, not Thursday 07:00.
        assert_eq!(cal.add(at(2026, 11, 25, 7, 0), hours(8)), at(2026, 11, 25, 17, 0));
        // 11:30 is a closing time too.
        assert_eq!(cal.add(at(2026, 11, 25, 7, 0), SignedDuration::from_mins(270)), at(2026, 11, 25, 11, 30));
        // One minute more jumps over lunch.
        assert_eq!(cal.add(at(2026, 11, 25, 7, 0), SignedDuration::from_mins(271)), at(2026, 11, 25, 13, 31));
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let cal = vn_calendar();
        // Friday 16:00 + 2 h → Monday 08:00.
        assert_eq!(cal.add(at(2026, 11, 27, 16, 0), hours(2)), at(2026, 11, 30, 8, 0));
        // Tuesday 28 Apr 2026 16:00 + 2 h → Monday 4 May 08:00 (30 Apr–3 May off).
        assert_eq!(cal.add(at(2026, 4, 29, 16, 0), hours(2)), at(2026, 5, 4, 8, 0));
    }

    #[test]
    fn a_make_up_saturday_counts() {
        let cal = vn_calendar();
        // Friday 9 Jan 2026 16:00 + 2 h → Saturday 10 Jan 08:00, a declared working day.
        assert_eq!(cal.add(at(2026, 1, 9, 16, 0), hours(2)), at(2026, 1, 10, 8, 0));
        // Saturday 22 Aug 2026 likewise.
        assert_eq!(cal.add(at(2026, 8, 21, 17, 0), hours(1)), at(2026, 8, 22, 8, 0));
    }

    #[test]
    fn a_due_date_across_tet_2027() {
        let cal = vn_calendar();
        // 3 working days from Wed 3 Feb 2027 10:00: 5 h on Wednesday, 8 h on
        // Thursday, Tết 5–11 Feb off, 8 h on Friday 12 Feb, 3 h on Monday 15 Feb.
        assert_eq!(cal.add(at(2027, 2, 3, 10, 0), hours(24)), at(2027, 2, 15, 10, 0));
        assert_eq!(cal.working_between(at(2027, 2, 3, 10, 0), at(2027, 2, 15, 10, 0)), hours(24));
    }

    #[test]
    fn sub_and_working_between_invert_add() {
        let cal = vn_calendar();
        let due = at(2026, 11, 30, 8, 0);
        assert_eq!(cal.sub(due, hours(8)), at(2026, 11, 27, 8, 0));
        assert_eq!(cal.sub(at(2026, 11, 25, 13, 30), hours(1)), at(2026, 11, 25, 10, 30));
        assert_eq!(cal.working_between(at(2026, 11, 27, 16, 0), due), hours(2));
        assert_eq!(cal.working_between(due, at(2026, 11, 27, 16, 0)), SignedDuration::ZERO);
    }

    #[test]
    fn next_instants_and_closing_times() {
        let cal = vn_calendar();
        assert_eq!(cal.next_working_instant(at(2026, 11, 25, 12, 0)), at(2026, 11, 25, 13, 30));
        assert_eq!(cal.next_working_instant(at(2026, 11, 25, 17, 0)), at(2026, 11, 26, 7, 0));
        assert_eq!(cal.next_working_instant(at(2026, 11, 28, 9, 0)), at(2026, 11, 30, 7, 0));
        assert_eq!(cal.next_working_day_opening(date(2026, 11, 27)), at(2026, 11, 30, 7, 0));
        assert_eq!(cal.close_of_working_day(at(2026, 11, 25, 9, 0)), at(2026, 11, 25, 17, 0));
        assert_eq!(cal.close_of_working_day(at(2026, 11, 28, 9, 0)), at(2026, 11, 30, 17, 0));
    }

    /// Instants from 2025-12-25 to 2027-12-31, minute resolution.
    fn any_instant() -> impl Strategy<Value = DateTime> {
        (0i64..(737 * 24 * 60)).prop_map(|m| at(2025, 12, 25, 0, 0) + SignedDuration::from_mins(m))
    }

    fn any_amount() -> impl Strategy<Value = SignedDuration> {
        (1i64..(30 * 8 * 60)).prop_map(SignedDuration::from_mins)
    }

    proptest! {
        #[test]
        fn a_due_time_lies_in_some_open_close_interval(start in any_instant(), amount in any_amount()) {
            let cal = vn_calendar();
            let due = cal.add(start, amount);
            prop_assert!(cal.intervals(due.date()).any(|(open, close)| open < due && due <= close), "{due}");
        }

        #[test]
        fn adding_a_then_b_equals_adding_a_plus_b(start in any_instant(), a in any_amount(), b in any_amount()) {
            let cal = vn_calendar();
            prop_assert_eq!(cal.add(cal.add(start, a), b), cal.add(start, a + b));
        }

        #[test]
        fn the_walked_time_is_exactly_the_amount(start in any_instant(), amount in any_amount()) {
            let cal = vn_calendar();
            let due = cal.add(start, amount);
            prop_assert_eq!(cal.working_between(start, due), amount);
            prop_assert_eq!(cal.add(cal.sub(due, amount), amount), due);
        }

        #[test]
        fn a_holiday_never_counts(start in any_instant(), amount in any_amount()) {
            let cal = vn_calendar();
            let due = cal.add(start, amount);
            prop_assert!(!cal.is_holiday(due.date()));
            let mut day = start.date();
            while day <= due.date() {
                if cal.is_holiday(day) {
                    let (from, to) = (day.to_datetime(jiff::civil::Time::midnight()), next_date(day).to_datetime(jiff::civil::Time::midnight()));
                    prop_assert_eq!(cal.working_between(from, to), SignedDuration::ZERO);
                }
                day = next_date(day);
            }
        }

        #[test]
        fn a_make_up_saturday_always_counts(h in 7i8..17) {
            let cal = vn_calendar();
            let inside = at(2026, 1, 10, h, 0);
            if cal.intervals(inside.date()).any(|(o, c)| o <= inside && inside < c) {
                prop_assert_eq!(cal.next_working_instant(inside), inside);
            }
            let whole_day = cal.working_between(at(2026, 1, 10, 0, 0), at(2026, 1, 11, 0, 0));
            prop_assert_eq!(whole_day, hours(8));
        }
    }
}
