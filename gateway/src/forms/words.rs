//! How times, durations, places and units are written on the forms.

use jiff::Timestamp;
use motcua_schemas::{ProcessingTime, WorkingDuration, time::to_vn};

/// "09 giờ 30 phút, ngày 25 tháng 11 năm 2026", in Vietnam time.
pub fn long_time(ts: Timestamp) -> String {
    let t = to_vn(ts);
    format!("{:02} giờ {:02} phút, ngày {:02} tháng {:02} năm {}", t.hour(), t.minute(), t.day(), t.month(), t.year())
}

/// "25/11/2026 09:30", in Vietnam time (tables).
pub fn short_time(ts: Timestamp) -> String {
    to_vn(ts).strftime("%d/%m/%Y %H:%M").to_string()
}

/// "ngày 25 tháng 11 năm 2026", in Vietnam time.
pub fn date_line(ts: Timestamp) -> String {
    let t = to_vn(ts);
    format!("ngày {:02} tháng {:02} năm {}", t.day(), t.month(), t.year())
}

/// "01 ngày làm việc", "04 giờ làm việc", "trong ngày làm việc".
pub fn processing_text(p: ProcessingTime) -> String {
    match p {
        ProcessingTime::SameDay => "trong ngày làm việc".to_owned(),
        ProcessingTime::Working(WorkingDuration::Days(n)) => format!("{n:02} ngày làm việc"),
        ProcessingTime::Working(WorkingDuration::Hours(n)) => format!("{n:02} giờ làm việc"),
        ProcessingTime::Working(WorkingDuration::Minutes(n)) => format!("{n:02} phút làm việc"),
        ProcessingTime::Working(WorkingDuration::Seconds(n)) => format!("{n:02} giây làm việc"),
    }
}

/// The kinds of unit, as their names begin.
const KINDS: [&str; 6] = ["Thành phố ", "Thị trấn ", "Phường ", "Tỉnh ", "Huyện ", "Xã "];

/// "Trạm Tấu" from "Xã Trạm Tấu": the place, for the place-and-date line.
pub fn place(unit_name: &str) -> &str {
    KINDS.iter().find_map(|k| unit_name.strip_prefix(k)).unwrap_or(unit_name)
}

/// "ỦY BAN NHÂN DÂN XÃ TRẠM TẤU" from "Xã Trạm Tấu".
pub fn committee_upper(unit_name: &str) -> String {
    format!("ỦY BAN NHÂN DÂN {}", unit_name.to_uppercase())
}

/// "Ủy ban nhân dân xã Trạm Tấu" from "Xã Trạm Tấu": the unit type in lower case
/// inside a sentence.
pub fn committee(unit_name: &str) -> String {
    format!("Ủy ban nhân dân {}", crate::network::Network::name_in_sentence(unit_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_times_places_and_units() {
        let ts = motcua_schemas::time::parse_rfc3339("2026-11-25T02:30:00Z").unwrap();
        assert_eq!(long_time(ts), "09 giờ 30 phút, ngày 25 tháng 11 năm 2026");
        assert_eq!(short_time(ts), "25/11/2026 09:30");
        assert_eq!(processing_text("1d".parse().unwrap()), "01 ngày làm việc");
        assert_eq!(processing_text("same_day".parse().unwrap()), "trong ngày làm việc");
        assert_eq!(place("Xã Trạm Tấu"), "Trạm Tấu");
        assert_eq!(place("Thị trấn Trạm Tấu"), "Trạm Tấu");
        assert_eq!(committee("Xã Trạm Tấu"), "Ủy ban nhân dân xã Trạm Tấu");
        assert_eq!(committee_upper("Phường Yên Bái"), "ỦY BAN NHÂN DÂN PHƯỜNG YÊN BÁI");
    }
}
