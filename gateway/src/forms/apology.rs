//! Mẫu 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả.

use askama::Template;
use motcua_schemas::{EventType, time::to_vn};

use super::{Format, long_time};
use crate::dossiers::DossierRecord;
use crate::settings::Settings;

#[derive(Template)]
#[template(path = "apology.html")]
struct ApologyHtml<'a> {
    f: &'a Fields,
}

#[derive(Template)]
#[template(path = "apology.txt", escape = "none")]
struct ApologyText<'a> {
    f: &'a Fields,
}

/// The values of a Mẫu 04 letter.
struct Fields {
    n: u32,
    code: String,
    agency: String,
    desk: String,
    unit: String,
    signer: String,
    place_date: String,
    applicant: String,
    received_date: String,
    procedure: String,
    due: String,
    reason: String,
    new_appointment: String,
}

/// Renders the `n`-th apology of `record` (1 for the first), if there is one.
pub fn render_apology(
    record: &DossierRecord,
    settings: &Settings,
    n: u32,
    format: Format,
) -> Option<Result<String, askama::Error>> {
    let d = &record.dossier;
    let entry =
        d.history.iter().filter(|h| h.kind == EventType::Apology).nth(usize::try_from(n).ok()?.checked_sub(1)?)?;
    let details = entry.details.as_ref()?;
    let reason = details.get("reason").and_then(|r| r.as_str()).unwrap_or_default().to_owned();
    let new_appointment = details
        .get("new_appointment")
        .and_then(|t| t.as_str())
        .and_then(|t| motcua_schemas::time::parse_rfc3339(t).ok())
        .map(long_time)
        .unwrap_or_default();
    let unit_name = settings.network.unit(&d.target_unit).map_or_else(|| d.target_unit.to_string(), |u| u.name.clone());
    let written = to_vn(entry.at);
    let received = to_vn(d.received_at);
    let fields = Fields {
        n,
        code: d.code.to_string(),
        agency: format!("ỦY BAN NHÂN DÂN {}", unit_name.to_uppercase()),
        desk: settings.network.desk(&d.desk).map_or_else(|| d.desk.clone(), |desk| desk.name.clone()),
        unit: format!("Ủy ban nhân dân {unit_name}"),
        signer: format!("TM. ỦY BAN NHÂN DÂN {}", unit_name.to_uppercase()),
        place_date: format!("ngày {:02} tháng {:02} năm {}", written.day(), written.month(), written.year()),
        applicant: d.applicant.name.clone(),
        received_date: format!("{:02}/{:02}/{}", received.day(), received.month(), received.year()),
        procedure: d.procedure.name.clone(),
        due: long_time(d.due_at),
        reason,
        new_appointment,
    };
    Some(match format {
        Format::Html => ApologyHtml { f: &fields }.render(),
        Format::Text => ApologyText { f: &fields }.render(),
    })
}
