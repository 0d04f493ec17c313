//! What the gateway sends to the portal (docs/CONTRACT.md §6): every status change of a
//! portal dossier in the national portal's field names, codes and date format.

use motcua_schemas::{Dossier, EventType, Status, time::format_portal};
use serde_json::{Value, json};

use crate::outbound::{CallOutcome, call};

/// Vietnamese wording of an event for `NoiDungXuLy` when the desk gave no note.
pub fn describe(kind: EventType) -> &'static str {
    match kind {
        EventType::Intake => "Tiếp nhận hồ sơ",
        EventType::Received => "Bộ phận Một cửa đã tiếp nhận hồ sơ",
        EventType::Refused => "Từ chối tiếp nhận hồ sơ",
        EventType::Processing => "Hồ sơ đang được giải quyết",
        EventType::SupplementRequested => "Yêu cầu bổ sung hồ sơ",
        EventType::SupplementReceived => "Đã nhận hồ sơ bổ sung",
        EventType::PaymentRequested => "Yêu cầu thực hiện nghĩa vụ tài chính",
        EventType::PaymentReceived => "Đã thực hiện nghĩa vụ tài chính",
        EventType::ResultReady => "Đã có kết quả giải quyết",
        EventType::ReturnedAtDesk => "Đã trả kết quả tại Bộ phận Một cửa",
        EventType::PostalDelivered => "Bưu điện đã phát kết quả cho người nhận",
        EventType::PortalAccepted => "Đã trả kết quả trực tuyến",
        EventType::Withdrawn => "Công dân rút hồ sơ",
        EventType::Stopped => "Dừng xử lý hồ sơ",
        EventType::Apology => "Xin lỗi và hẹn lại ngày trả kết quả",
        EventType::Explanation => "Giải trình việc trễ hạn",
        EventType::Forward => "Chuyển hồ sơ liên thông",
        EventType::Note => "Ghi nhận",
    }
}

/// True when the history entry marks the dossier overdue.
pub fn is_overdue_mark(details: Option<&Value>) -> bool {
    details.and_then(|d| d.get("mark")).and_then(Value::as_str) == Some("overdue")
}

/// The status payload of `dossier` as of history entry `seq`.
pub fn status_payload(dossier: &Dossier, seq: u32, unit_name: &str) -> Value {
    let upto: Vec<_> = dossier.history.iter().filter(|h| h.seq <= seq).collect();
    let last = upto.last();
    let status = last.map_or(dossier.status, |h| h.status_after);
    let overdue = upto.iter().any(|h| is_overdue_mark(h.details.as_ref()));
    let returned =
        upto.iter().rev().find(|h| h.status_after == Status::Returned && h.status_before != Some(Status::Returned));
    let steps: Vec<Value> = upto
        .iter()
        .map(|h| {
            json!({
                "ThoiDiemXuLy": format_portal(h.at),
                "NoiDungXuLy": h.note.clone().unwrap_or_else(|| describe(h.kind).to_owned()),
                "TrangThai": h.status_after.code(),
                "DonViXuLy": unit_name,
            })
        })
        .collect();
    let appointment = upto
        .iter()
        .rev()
        .find_map(|h| h.details.as_ref()?.get("new_appointment")?.as_str().map(str::to_owned))
        .and_then(|t| motcua_schemas::time::parse_rfc3339(&t).ok())
        .unwrap_or(dossier.due_at);
    let mut payload = json!({
        "MaHoSo": dossier.code,
        "MaHoSoCongDVC": dossier.external_ref,
        "TrangThaiHoSo": status.code(),
        "QuaHan": overdue,
        "NgayHenTra": format_portal(appointment),
        "NgayTra": returned.map(|h| format_portal(h.at)),
        "QuaTrinhXuLy": steps,
    });
    // Waiting on a payment made online: the platform's page, for the citizen.
    if status == Status::FinancialObligation
        && let Some(page) = upto.iter().rev().find_map(|h| {
            let details = h.details.as_ref()?;
            (details.get("mark")?.as_str()? == "payment_page").then(|| details.get("url")?.as_str())?
        })
    {
        payload["DuongDanThanhToan"] = page.into();
    }
    if status == Status::Processed
        && let Some(documents) = upto
            .iter()
            .rev()
            .find(|h| h.kind == EventType::ResultReady)
            .and_then(|h| h.details.as_ref()?.get("result_documents").cloned())
    {
        payload["KetQua"] = documents;
    }
    payload
}

/// `POST {base}/v1/status` with `Idempotency-Key: {code}:{seq}`.
pub async fn send_status(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    code: &str,
    seq: u32,
    payload: &Value,
) -> CallOutcome {
    let request = client
        .post(format!("{base}/v1/status"))
        .bearer_auth(token)
        .header("idempotency-key", format!("{code}:{seq}"))
        .json(payload);
    call(request).await
}

/// The letter payload of docs/CONTRACT.md §6 (`LoaiThu` `XIN_LOI`: the Mẫu 04 apology).
pub fn letter_payload(dossier: &Dossier, text: &str) -> Value {
    json!({
        "MaHoSo": dossier.code,
        "MaHoSoCongDVC": dossier.external_ref,
        "LoaiThu": "XIN_LOI",
        "NoiDung": text,
        "NgayHenTraMoi": format_portal(dossier.appointment_at),
    })
}

/// `POST {base}/v1/letters` with `Idempotency-Key: {code}:XL{n}`.
pub async fn send_letter(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    code: &str,
    n: u32,
    payload: &Value,
) -> CallOutcome {
    let request = client
        .post(format!("{base}/v1/letters"))
        .bearer_auth(token)
        .header("idempotency-key", format!("{code}:XL{n}"))
        .json(payload);
    call(request).await
}
