//! Vietnam time: UTC+7 with no daylight saving since 1975, so a fixed offset serves
//! every date the gateway handles and no host time-zone database is needed.
//!
//! Two wire formats exist (docs/CONTRACT.md §0): RFC 3339 with offset, and the national
//! portal's `yyyyMMddHHmmss` in Vietnam time.

use jiff::{Timestamp, civil::DateTime, tz::Offset};

/// The offset of Vietnam time.
pub const VN: Offset = Offset::constant(7);

/// The wall-clock time in Vietnam at `ts`.
pub fn to_vn(ts: Timestamp) -> DateTime {
    VN.to_datetime(ts)
}

/// The instant of a Vietnam wall-clock time (never ambiguous: the offset is fixed).
/// The last hours of the year 9999 lie beyond the last instant the gateway can
/// represent: they are taken as that instant (and the first hours of -9999 as the
/// first), so no wall-clock time can make this panic. Dates from peers are checked
/// against [`PEER_YEARS`] long before.
pub fn from_vn(dt: DateTime) -> Timestamp {
    try_from_vn(dt).unwrap_or(if dt.year() > 0 { Timestamp::MAX } else { Timestamp::MIN })
}

/// The instant of a Vietnam wall-clock time, if it can be represented.
pub fn try_from_vn(dt: DateTime) -> Option<Timestamp> {
    VN.to_timestamp(dt).ok()
}

/// The years a date from a peer may lie in: the gateway's first dossiers cannot be
/// older, and nothing a peer sends is meant for a later century (a far-future date
/// is a mistake or an attack, and would overflow the deadline arithmetic).
pub const PEER_YEARS: std::ops::RangeInclusive<i16> = 2000..=2099;

/// Refuses a wall-clock time from a peer outside [`PEER_YEARS`].
pub fn peer_datetime(dt: DateTime) -> Result<Timestamp, jiff::Error> {
    if !PEER_YEARS.contains(&dt.year()) {
        return Err(jiff::Error::from_args(format_args!(
            "the year {} lies outside {}–{}",
            dt.year(),
            PEER_YEARS.start(),
            PEER_YEARS.end()
        )));
    }
    try_from_vn(dt).ok_or_else(|| jiff::Error::from_args(format_args!("out of range")))
}

/// Refuses an instant from a peer whose year (in Vietnam) lies outside [`PEER_YEARS`].
pub fn peer_timestamp(ts: Timestamp) -> Result<Timestamp, jiff::Error> {
    peer_datetime(to_vn(ts)).map(|_| ts)
}

/// `2026-11-25T09:30:00+07:00` (a fraction of a second only when there is one).
pub fn format_rfc3339(ts: Timestamp) -> String {
    ts.display_with_offset(VN).to_string()
}

/// Calls `f` with `format_rfc3339(ts)`, written on the stack: a record holds a score of
/// times, each serialized on the request path.
pub fn with_rfc3339<R>(ts: Timestamp, f: impl FnOnce(&str) -> R) -> R {
    use std::fmt::Write;
    let mut text = StackText { bytes: [0; STACK_TEXT], len: 0 };
    match write!(text, "{}", ts.display_with_offset(VN)) {
        Ok(()) => f(text.as_str()),
        Err(_) => f(&format_rfc3339(ts)),
    }
}

/// Room for the longest time jiff writes (`-009999-01-01T00:00:00.000000001+07:00`).
const STACK_TEXT: usize = 64;

struct StackText {
    bytes: [u8; STACK_TEXT],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only whole `str`s are ever copied in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).filter(|&end| end <= STACK_TEXT).ok_or(std::fmt::Error)?;
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Parses an RFC 3339 time; an offset is required.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, jiff::Error> {
    s.parse()
}

/// Parses an RFC 3339 time a peer sent: an offset is required, and its year must lie
/// in [`PEER_YEARS`].
pub fn parse_peer_rfc3339(s: &str) -> Result<Timestamp, jiff::Error> {
    parse_rfc3339(s).and_then(peer_timestamp)
}

/// The national portal's `yyyyMMddHHmmss`, in Vietnam time.
pub fn format_portal(ts: Timestamp) -> String {
    to_vn(ts).strftime("%Y%m%d%H%M%S").to_string()
}

/// Parses the national portal's `yyyyMMddHHmmss` as Vietnam time; its year must lie
/// in [`PEER_YEARS`].
pub fn parse_portal(s: &str) -> Result<Timestamp, jiff::Error> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(jiff::Error::from_args(format_args!("expected 14 digits yyyyMMddHHmmss")));
    }
    DateTime::strptime("%Y%m%d%H%M%S", s).and_then(peer_datetime)
}

/// Serde helpers for timestamps shown as RFC 3339 in Vietnam time.
pub mod rfc3339 {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as `2026-11-25T09:30:00+07:00`.
    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        super::with_rfc3339(*ts, |text| s.serialize_str(text))
    }

    /// Deserializes any RFC 3339 time with an offset.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }

    /// The same for optional timestamps.
    pub mod option {
        use jiff::Timestamp;
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serializes `None` as `null`.
        pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match ts {
                Some(ts) => super::super::with_rfc3339(*ts, |text| s.serialize_str(text)),
                None => s.serialize_none(),
            }
        }

        /// Deserializes `null` or an RFC 3339 time.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
            s.map(|s| super::super::parse_rfc3339(&s).map_err(serde::de::Error::custom)).transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wire_formats_round_trip_in_vietnam_time() {
        let ts = parse_rfc3339("2026-11-25T02:30:00Z").unwrap();
        assert_eq!(format_rfc3339(ts), "2026-11-25T09:30:00+07:00");
        assert_eq!(format_portal(ts), "20261125093000");
        assert_eq!(parse_portal("20261125093000").unwrap(), ts);
    }

    #[test]
    fn a_time_written_on_the_stack_is_the_one_formatted_at_every_extreme() {
        let fraction = parse_rfc3339("2026-11-25T02:30:00.000000001Z").unwrap();
        for ts in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH, fraction] {
            with_rfc3339(ts, |text| assert_eq!(text, format_rfc3339(ts)));
        }
    }

    #[test]
    fn refuses_times_without_offset_and_bad_portal_dates() {
        assert!(parse_rfc3339("2026-11-25T09:30:00").is_err());
        assert!(parse_portal("2026112509300").is_err());
        assert!(parse_portal("20261325093000").is_err());
        assert!(parse_portal("2026-11-25 09:3").is_err());
    }

    #[test]
    fn far_dates_are_refused_and_never_panic() {
        for far in ["99991231235959", "00010101000000", "19991231235959", "21000101000000"] {
            assert!(parse_portal(far).is_err(), "{far}");
        }
        assert!(parse_portal("20990101000000").is_ok());
        assert!(parse_peer_rfc3339("9999-12-31T23:59:59+07:00").is_err());
        assert!(parse_peer_rfc3339("1970-01-01T00:00:00Z").is_err());
        let last = DateTime::strptime("%Y%m%d%H%M%S", "99991231235959").unwrap();
        assert_eq!(from_vn(last), Timestamp::MAX);
        assert!(try_from_vn(last).is_none());
    }
}
