//! Official forms in Vietnamese (docs/DOMAIN.md §7, Circular 01/2018/TT-VPCP annex),
//! rendered from templates: the Mẫu 01 receipt and appointment slip, and the Mẫu 04
//! apology with a new appointment.

mod apology;
mod receipt;

pub use apology::render_apology;
pub use receipt::render_receipt;

use jiff::Timestamp;
use motcua_schemas::{ProcessingTime, WorkingDuration, time::to_vn};

/// The form's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/html`.
    Html,
    /// `text/plain`.
    Text,
}

/// "09 giờ 30 phút, ngày 25 tháng 11 năm 2026", in Vietnam time.
pub fn long_time(ts: Timestamp) -> String {
    let t = to_vn(ts);
    format!("{:02} giờ {:02} phút, ngày {:02} tháng {:02} năm {}", t.hour(), t.minute(), t.day(), t.month(), t.year())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_times_and_durations() {
        let ts = motcua_schemas::time::parse_rfc3339("2026-11-25T02:30:00Z").unwrap();
        assert_eq!(long_time(ts), "09 giờ 30 phút, ngày 25 tháng 11 năm 2026");
        assert_eq!(processing_text("1d".parse().unwrap()), "01 ngày làm việc");
        assert_eq!(processing_text("same_day".parse().unwrap()), "trong ngày làm việc");
    }
}
