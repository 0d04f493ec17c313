//! Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả.

use askama::Template;
use motcua_schemas::Channel;

use super::{Format, long_time, processing_text};
use crate::dossiers::DossierRecord;
use crate::settings::Settings;

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptHtml<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "receipt.txt", escape = "none")]
struct ReceiptText<'a> {
    f: &'a Fields<'a>,
}

/// The values of a Mẫu 01 receipt.
struct Fields<'a> {
    code: &'a str,
    agency: &'a str,
    desk: &'a str,
    applicant: &'a str,
    address: Option<&'a str>,
    phone: Option<&'a str>,
    procedure: &'a str,
    procedure_code: &'a str,
    documents: &'a [String],
    processing: &'a str,
    received: &'a str,
    appointment: &'a str,
    return_method: &'a str,
    channel: &'a str,
}

/// Renders the Mẫu 01 receipt of `record`.
pub fn render_receipt(record: &DossierRecord, settings: &Settings, format: Format) -> Result<String, askama::Error> {
    let d = &record.dossier;
    let desk = settings.network.desk(&d.desk).map_or(d.desk.as_str(), |desk| desk.name.as_str());
    let agency = settings
        .network
        .unit(&d.target_unit)
        .map(|u| format!("ỦY BAN NHÂN DÂN {}", u.name.to_uppercase()))
        .unwrap_or_else(|| "ỦY BAN NHÂN DÂN".to_owned());
    let address = d.applicant.address.as_ref().map(|a| a.detail.as_str());
    let processing =
        settings.catalogue.get(&d.procedure.code).map(|p| processing_text(p.processing)).unwrap_or_default();
    let documents: Vec<String> = d
        .documents
        .iter()
        .map(|doc| match doc.pages {
            Some(pages) => format!("{} ({pages} trang)", doc.name),
            None => doc.name.clone(),
        })
        .collect();
    let channel = match d.channel {
        Channel::Portal => format!(
            "trực tuyến qua Cổng dịch vụ công (mức độ {})",
            if d.level == Some(4) { "toàn trình" } else { "một phần" }
        ),
        Channel::Postal => "qua dịch vụ bưu chính công ích".to_owned(),
    };
    let (received, appointment) = (long_time(d.received_at), long_time(d.appointment_at));
    let fields = Fields {
        code: d.code.as_str(),
        agency: &agency,
        desk,
        applicant: &d.applicant.name,
        address,
        phone: d.applicant.phone.as_ref().map(|p| p.as_str()),
        procedure: &d.procedure.name,
        procedure_code: d.procedure.code.as_str(),
        documents: &documents,
        processing: &processing,
        received: &received,
        appointment: &appointment,
        return_method: d.return_method.label(),
        channel: &channel,
    };
    match format {
        Format::Html => ReceiptHtml { f: &fields }.render(),
        Format::Text => ReceiptText { f: &fields }.render(),
    }
}
