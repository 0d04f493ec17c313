//! How the pages write times, units, events and personal data.

use jiff::Timestamp;
use motcua_schemas::{EventType, HistoryEntry, time::to_vn};

use crate::network::Network;
use crate::settings::Settings;

/// `dd/mm/yyyy HH:mm`, Vietnam time.
pub fn when(at: Timestamp) -> String {
    to_vn(at).strftime("%d/%m/%Y %H:%M").to_string()
}

/// `dd/mm/yyyy`.
pub fn day(date: jiff::civil::Date) -> String {
    date.strftime("%d/%m/%Y").to_string()
}

/// A unit's name, or its code when it is not configured.
pub fn unit_name(network: &Network, code: &str) -> String {
    code.parse().ok().and_then(|c| network.unit(&c)).map_or_else(|| code.to_owned(), |u| u.name.clone())
}

/// A destination (`desk:<id>`, `portal`, `postal`) in words: the desk's name, the
/// portal or the post.
pub fn destination(network: &Network, name: &str) -> String {
    match name.strip_prefix("desk:") {
        Some(id) => network.desk(id).map_or_else(|| id.to_owned(), |d| d.name.clone()),
        None if name == "portal" => "Cổng Dịch vụ công".to_owned(),
        None if name == "postal" => "Bưu điện".to_owned(),
        None if name == "tracking" => "Hệ thống giám sát Một cửa quốc gia".to_owned(),
        None if name.starts_with("notify:") => {
            format!("Người nộp ({})", crate::notify::channel_words(name.trim_start_matches("notify:")))
        }
        None => name.to_owned(),
    }
}

/// An ID number with all but its last four characters hidden.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let shown = chars.len().saturating_sub(4);
    chars.iter().enumerate().map(|(i, c)| if i < shown { '•' } else { *c }).collect()
}

/// A percentage with one decimal, Vietnamese style (`93,5%`), or a dash.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0).replace('.', ","))
}

/// What an event was, in words.
pub fn event_words(kind: EventType) -> &'static str {
    match kind {
        EventType::Intake => "Tiếp nhận hồ sơ vào hệ thống",
        EventType::Received => "Bộ phận Một cửa tiếp nhận hồ sơ",
        EventType::Refused => "Từ chối tiếp nhận hồ sơ",
        EventType::Processing => "Chuyển giải quyết",
        EventType::SupplementRequested => "Yêu cầu bổ sung hồ sơ",
        EventType::SupplementReceived => "Nhận hồ sơ bổ sung",
        EventType::PaymentRequested => "Yêu cầu thực hiện nghĩa vụ tài chính",
        EventType::PaymentReceived => "Đã thực hiện nghĩa vụ tài chính",
        EventType::ResultReady => "Có kết quả giải quyết",
        EventType::ReturnedAtDesk => "Trả kết quả tại Bộ phận Một cửa",
        EventType::PostalDelivered => "Bưu điện đã phát kết quả cho người nhận",
        EventType::PortalAccepted => "Trả kết quả trực tuyến",
        EventType::Withdrawn => "Người nộp rút hồ sơ",
        EventType::Stopped => "Dừng giải quyết hồ sơ",
        EventType::Apology => "Gửi văn bản xin lỗi và hẹn lại ngày trả kết quả",
        EventType::Explanation => "Giải trình lý do quá hạn",
        EventType::Forward => "Chuyển hồ sơ đến đơn vị khác",
        EventType::Note => "Ghi nhận của hệ thống",
    }
}

/// Who did it: a desk's name, the portal, the post, or the gateway.
pub fn actor(settings: &Settings, entry: &HistoryEntry) -> String {
    use crate::auth::Role;
    let id = entry.actor.as_str();
    if id == "gateway" {
        return "Hệ thống".to_owned();
    }
    if let Some(desk) = settings.network.desk(id) {
        return desk.name.clone();
    }
    match settings.clients.by_id(id).map(|c| c.role) {
        Some(Role::Portal) => "Cổng Dịch vụ công".to_owned(),
        Some(Role::Postal) => "Bưu điện".to_owned(),
        Some(Role::Desk) => settings
            .clients
            .by_id(id)
            .and_then(|c| c.desk.as_deref())
            .and_then(|d| settings.network.desk(d))
            .map_or_else(|| id.to_owned(), |d| d.name.clone()),
        Some(Role::Admin) => "Trung tâm Phục vụ hành chính công".to_owned(),
        None => id.to_owned(),
    }
}

/// How long ago a due time passed: days, or hours within the first day.
pub fn lateness(seconds: i64) -> String {
    match seconds.max(0) {
        s if s >= 86_400 => format!("{} ngày", s / 86_400),
        s if s >= 3_600 => format!("{} giờ", s / 3_600),
        _ => "dưới 1 giờ".to_owned(),
    }
}

/// What a peer's own words (an error, a tracking message) look like on a page: hidden
/// from an operator who may not see personal data, and scrubbed of identity and phone
/// numbers for everyone else (a peer's text is personal data until proven otherwise).
pub fn peer_text(sees_personal_data: bool, text: &str) -> String {
    if !sees_personal_data {
        return if text.is_empty() { String::new() } else { "(nội dung phản hồi được ẩn)".to_owned() };
    }
    motcua_schemas::text::scrub_personal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_masked_but_their_last_four() {
        assert_eq!(mask_id("001203004567"), "••••••••4567");
        assert_eq!(mask_id("123"), "123");
        assert_eq!(percent(Some(0.935)), "93,5%");
        assert_eq!(when("2026-11-26T01:05:00Z".parse().unwrap()), "26/11/2026 08:05");
    }
}
