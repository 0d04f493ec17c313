//! Hồ sơ: one dossier — its timeline in words, the forms issued for it, its
//! deliveries to the desk, the portal and the post with their attempts — with
//! personal data only for the roles that may see it, ID numbers masked.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use motcua_schemas::{Channel, DossierCode, OrderKind, OrderState};

use super::{Frame, Signed, Ui, error_page, format};
use crate::dossiers::DossierRecord;
use crate::outbox::{self, DeadFilter, Job, JobKind};
use crate::store::keys;

/// Entries of one queue read at most to find a dossier's jobs.
const OUTBOX_READ: usize = 50_000;

struct Step {
    seq: u32,
    at: String,
    what: &'static str,
    by: String,
    status: String,
    note: String,
}

struct Delivery {
    destination: String,
    kind: String,
    state: &'static str,
    attempts: u32,
    next: String,
    error: String,
}

#[derive(Template)]
#[template(path = "ui/dossier.html")]
struct DossierPage {
    frame: Frame,
    code: String,
    status: String,
    overdue: bool,
    unit: String,
    desk: String,
    procedure: String,
    channel: String,
    received: String,
    due: String,
    appointment: String,
    applicant: Option<Vec<(&'static str, String)>>,
    steps: Vec<Step>,
    documents: Vec<(String, String, String)>,
    deliveries: Vec<Delivery>,
    orders: Vec<(String, &'static str, &'static str)>,
    apologies: u32,
    explained: bool,
}

fn job_words(kind: &JobKind) -> &'static str {
    match kind {
        JobKind::Deliver => "Chuyển hồ sơ",
        JobKind::Notice { .. } => "Thông báo",
        JobKind::PortalStatus { .. } => "Cập nhật trạng thái",
        JobKind::PortalRecord => "Đồng bộ hồ sơ",
        JobKind::PortalProgress => "Đồng bộ tiến độ",
        JobKind::PortalPromotionStatus { .. } => "Đồng bộ trạng thái hồ sơ khuyến mại",
        JobKind::ReturnOrder => "Đơn trả kết quả",
        JobKind::CollectionOrder => "Đơn thu gom hồ sơ",
        JobKind::CancelOrder { .. } => "Hủy đơn bưu chính",
        JobKind::Letter { .. } => "Thư xin lỗi",
        JobKind::PaymentInit { .. } => "Mở giao dịch thanh toán trực tuyến",
        JobKind::Notify { .. } => "Thông báo cho người nộp",
        JobKind::Tracking { .. } => "Báo cáo hệ thống giám sát",
    }
}

fn order_words(kind: OrderKind, state: OrderState) -> (&'static str, &'static str) {
    let kind = match kind {
        OrderKind::Collection => "Thu gom hồ sơ tại nhà",
        OrderKind::Return => "Trả kết quả qua bưu chính",
        OrderKind::Letter => "Gửi văn bản xin lỗi",
    };
    let state = match state {
        OrderState::Requested => "Đã yêu cầu",
        OrderState::Created => "Bưu điện đã nhận đơn",
        OrderState::PickedUp => "Đã nhận bưu gửi",
        OrderState::Delivered => "Đã phát",
        OrderState::Undeliverable => "Không phát được",
        OrderState::Cancelled => "Đã hủy",
    };
    (kind, state)
}

/// A dossier's jobs still queued (for its desk, the portal and the post) and its dead
/// letters.
fn deliveries(
    ui: &Ui,
    code: &DossierCode,
    desk: &str,
    personal: bool,
) -> Result<Vec<Delivery>, crate::store::StoreError> {
    let settings = ui.app.settings();
    let network = &settings.network;
    let mut out = Vec::new();
    // Only the queues the dossier can have jobs in, and only the jobs whose bytes
    // name it are decoded.
    let destinations = [
        format!("desk:{desk}"),
        "portal".to_owned(),
        "postal".to_owned(),
        "notify:email".to_owned(),
        "notify:sms".to_owned(),
        "notify:zalo".to_owned(),
        "tracking".to_owned(),
    ];
    let needle = code.as_str().as_bytes();
    for destination in destinations.iter().filter(|d| !d.ends_with(':')) {
        for entry in ui.app.store.scan_prefix(&keys::destination_prefix(destination)).take(OUTBOX_READ) {
            let (_, value) = entry?;
            if !value.windows(needle.len()).any(|w| w == needle) {
                continue;
            }
            let Ok(job) = serde_json::from_slice::<Job>(&value) else { continue };
            if &job.dossier != code {
                continue;
            }
            let leased = job.leased_until.is_some_and(|t| t > ui.app.clock.now());
            out.push(Delivery {
                destination: format::destination(network, &job.destination.name()),
                kind: job_words(&job.kind).to_owned(),
                state: if leased { "Đang gửi" } else { "Chờ gửi" },
                attempts: job.attempts,
                next: format::when(job.not_before),
                error: format::peer_text(personal, job.last_error.as_deref().unwrap_or_default()),
            });
        }
    }
    for letter in outbox::dead_letters(&ui.app.store, DeadFilter::Dossier(code.as_str()), OUTBOX_READ)? {
        out.push(Delivery {
            destination: format::destination(network, &letter.job.destination.name()),
            kind: job_words(&letter.job.kind).to_owned(),
            state: "Không gửi được",
            attempts: letter.job.attempts,
            next: format::when(letter.died_at),
            error: format::peer_text(personal, &letter.error),
        });
    }
    Ok(out)
}

/// `GET /ui/ho-so/{code}`.
pub async fn page(State(ui): State<Arc<Ui>>, signed: Signed, Path(code): Path<String>) -> Response {
    let scope = signed.scope(&ui);
    let hidden = || match scope {
        super::Scope::All => error_page(StatusCode::NOT_FOUND, "Không có hồ sơ này."),
        super::Scope::Within(_) => {
            error_page(StatusCode::FORBIDDEN, "Hồ sơ này không thuộc phạm vi đơn vị của tài khoản.")
        }
    };
    let Ok(code) = code.parse::<DossierCode>() else { return hidden() };
    let record = match ui.app.store.get_json::<DossierRecord>(&keys::dossier(code.as_str())) {
        Ok(Some(record)) => record,
        Ok(None) => return hidden(),
        Err(e) => {
            tracing::error!(error = %e, "a dossier could not be read");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được hồ sơ. Vui lòng thử lại sau.");
        }
    };
    if !scope.covers(record.dossier.target_unit.as_str()) {
        tracing::warn!(target: "motcua::ui", action = "dossier", operator = %signed.operator.name, outcome = "out_of_scope", "a dossier outside the operator's units");
        return hidden();
    }
    let deliveries = match deliveries(&ui, &code, &record.dossier.desk, signed.sees_personal_data()) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "a dossier's deliveries could not be read");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được hồ sơ. Vui lòng thử lại sau.");
        }
    };
    let settings = ui.app.settings();
    let network = &settings.network;
    let d = &record.dossier;
    let applicant = signed.sees_personal_data().then(|| {
        let a = &d.applicant;
        let mut fields = vec![("Họ và tên", a.name.clone()), ("Số giấy tờ tùy thân", format::mask_id(&a.id_number))];
        if let Some(phone) = &a.phone {
            fields.push(("Số điện thoại", phone.to_string()));
        }
        if let Some(address) = &a.address {
            fields.push(("Địa chỉ", address.detail.clone()));
        }
        fields
    });
    let steps = d
        .history
        .iter()
        .map(|h| Step {
            seq: h.seq,
            at: format::when(h.at),
            what: format::event_words(h.kind),
            by: format::actor(&settings, h),
            status: h.status_after.name().to_owned(),
            // Notes quote peers' words (a desk's reason, the post's message).
            note: motcua_schemas::text::scrub_personal(h.note.as_deref().unwrap_or_default()),
        })
        .collect();
    let channel = match (d.channel, d.level) {
        (Channel::Portal, Some(level)) => format!("Dịch vụ công trực tuyến mức {level}"),
        (Channel::Portal, None) => "Dịch vụ công trực tuyến".to_owned(),
        (Channel::Postal, _) => "Dịch vụ bưu chính công ích".to_owned(),
    };
    tracing::info!(target: "motcua::ui", action = "dossier", operator = %signed.operator.name, code = %code, "page viewed");
    let page = DossierPage {
        frame: signed.frame(&format!("Hồ sơ {code}"), "ho-so"),
        code: code.to_string(),
        status: d.status_name.clone(),
        overdue: d.overdue,
        unit: format::unit_name(network, d.target_unit.as_str()),
        desk: network.desk(&d.desk).map_or_else(|| d.desk.clone(), |desk| desk.name.clone()),
        procedure: format!("{} — {}", d.procedure.code, d.procedure.name),
        channel,
        received: format::when(d.received_at),
        due: format::when(d.due_at),
        appointment: format::when(d.appointment_at),
        applicant,
        steps,
        documents: record
            .documents
            .iter()
            .map(|doc| (doc.content.form.clone(), doc.content.title.clone(), format::when(doc.issued_at)))
            .collect(),
        deliveries,
        orders: d
            .postal
            .orders
            .iter()
            .map(|o| {
                let (kind, state) = order_words(o.kind, o.state);
                (o.number.clone(), kind, state)
            })
            .collect(),
        apologies: record.compliance.apologies,
        explained: record.compliance.explained,
    };
    signed.page(page.render())
}
