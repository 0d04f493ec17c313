//! Hàng đợi: the outbox per destination, the dead letters, and the items of the
//! portal's list and VNPost's feed set aside — each limited to the operator's units —
//! with a replay (and release) button for the provincial centre (a form with the
//! session's CSRF token). Peers' words are hidden from auditors and scrubbed for the
//! others.

use std::{collections::BTreeSet, sync::Arc};

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::{Frame, Scope, Signed, Ui, error_page, format, login::TokenForm};
use crate::aside::{self, Source};
use crate::dossiers::DossierRecord;
use crate::outbox::DeadLetter;
use crate::settings::ui::OperatorRole;
use crate::store::keys;

/// Dead letters and items set aside listed at most.
const LISTED: usize = 500;

struct Queue {
    destination: String,
    mode: &'static str,
    depth: u64,
    oldest: String,
    in_flight: u64,
    dead: usize,
}

struct Dead {
    id: String,
    destination: String,
    code: String,
    error: String,
    attempts: u32,
    died: String,
}

struct Set {
    source: &'static str,
    key: &'static str,
    id: String,
    refused: bool,
    reason: String,
    attempts: u32,
    first: String,
    next: String,
}

#[derive(Template)]
#[template(path = "ui/queue.html")]
struct QueuePage {
    frame: Frame,
    queues: Vec<Queue>,
    dead: Vec<Dead>,
    aside: Vec<Set>,
    replayed: bool,
    released: bool,
}

fn age(seconds: u64) -> String {
    match seconds {
        0 => "—".to_owned(),
        s if s < 120 => format!("{s} giây"),
        s if s < 7_200 => format!("{} phút", s / 60),
        s => format!("{} giờ", s / 3_600),
    }
}

/// `?da-gui-lai=1` after a replay, `?da-tha=1` after a release.
#[derive(Debug, Default, serde::Deserialize)]
pub struct QueueQuery {
    #[serde(rename = "da-gui-lai", default)]
    replayed: Option<String>,
    #[serde(rename = "da-tha", default)]
    released: Option<String>,
}

/// The destinations an operator may see the queues of: every one, or the desks of
/// its units.
fn visible_destinations(ui: &Ui, scope: &Scope) -> Option<BTreeSet<String>> {
    let Scope::Within(units) = scope else { return None };
    let settings = ui.app.settings();
    let desks = settings
        .network
        .units()
        .filter(|u| units.contains(u.code.as_str()))
        .filter_map(|u| u.desk.as_ref().map(|d| format!("desk:{d}")))
        .collect();
    Some(desks)
}

fn source_words(source: Source) -> (&'static str, &'static str) {
    match source {
        Source::DvcqgPull => ("Hồ sơ kéo từ Cổng Dịch vụ công quốc gia", "dvcqg_pull"),
        Source::VnpostTracking => ("Hành trình bưu gửi của Bưu điện", "vnpost_tracking"),
    }
}

/// `GET /ui/hang-doi`.
pub async fn page(
    State(ui): State<Arc<Ui>>,
    signed: Signed,
    axum::extract::Query(q): axum::extract::Query<QueueQuery>,
) -> Response {
    let settings = ui.app.settings();
    let network = &settings.network;
    let scope = signed.scope(&ui);
    let visible = visible_destinations(&ui, &scope);
    let personal = signed.sees_personal_data();
    let name_of = |destination: &str| format::destination(network, destination);
    let context = ui.app.core();
    let queues = ui
        .app
        .dispatch()
        .stats(context)
        .await
        .into_iter()
        .filter(|s| visible.as_ref().is_none_or(|v| v.contains(&s.destination)))
        .map(|s| Queue {
            destination: name_of(&s.destination),
            mode: if s.mode == "pull" { "Kéo" } else { "Đẩy" },
            depth: s.depth as u64,
            oldest: age(u64::try_from(s.oldest_age_seconds).unwrap_or(0)),
            in_flight: s.in_flight as u64,
            dead: s.dead,
        })
        .collect();
    let unavailable = || error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được hàng đợi. Vui lòng thử lại sau.");
    let mut dead = Vec::new();
    for entry in ui.app.store.scan_prefix(&keys::dead_letters()) {
        let Ok((_, value)) = entry else { return unavailable() };
        let Ok(letter) = serde_json::from_slice::<DeadLetter>(&value) else { continue };
        if let Scope::Within(_) = scope {
            let record = ui.app.store.get_json::<DossierRecord>(&keys::dossier(letter.job.dossier.as_str()));
            let Ok(record) = record else { return unavailable() };
            if !record.is_some_and(|r| scope.covers(r.dossier.target_unit.as_str())) {
                continue;
            }
        }
        dead.push(Dead {
            id: letter.job.id.to_string(),
            destination: name_of(&letter.job.destination.name()),
            code: letter.job.dossier.to_string(),
            error: format::peer_text(personal, &letter.error),
            attempts: letter.job.attempts,
            died: format::when(letter.died_at),
        });
        if dead.len() >= LISTED {
            break;
        }
    }
    let mut set_aside = Vec::new();
    for source in Source::ALL {
        let Ok(items) = aside::list(&ui.app.store, source, LISTED) else { return unavailable() };
        let (words, key) = source_words(source);
        for item in items {
            let in_scope = match (&scope, &item.unit) {
                (Scope::All, _) => true,
                (Scope::Within(_), Some(unit)) => scope.covers(unit),
                (Scope::Within(_), None) => false,
            };
            if !in_scope {
                continue;
            }
            set_aside.push(Set {
                source: words,
                key,
                id: item.id.clone(),
                refused: item.kind == aside::Kind::Refused,
                reason: format::peer_text(personal, &item.reason),
                attempts: item.attempts,
                first: format::when(item.first_at),
                next: item.next_at.map_or_else(|| "khi cấu hình thay đổi".to_owned(), format::when),
            });
        }
    }
    tracing::info!(target: "motcua::ui", action = "queue", operator = %signed.operator.name, "page viewed");
    let page = QueuePage {
        frame: signed.frame("Hàng đợi", "hang-doi"),
        queues,
        dead,
        aside: set_aside,
        replayed: q.replayed.is_some(),
        released: q.released.is_some(),
    };
    signed.page(page.render())
}

fn centre_only(ui: &Ui, signed: &Signed, csrf: &str, action: &str) -> Option<Response> {
    if !signed.csrf_ok(ui, csrf) {
        tracing::warn!(target: "motcua::ui", action, operator = %signed.operator.name, outcome = "csrf", "a form without a valid token");
        return Some(error_page(StatusCode::FORBIDDEN, "Yêu cầu không hợp lệ (thiếu mã xác thực biểu mẫu)."));
    }
    if signed.operator.role != OperatorRole::Centre {
        return Some(error_page(StatusCode::FORBIDDEN, "Chỉ Trung tâm Phục vụ hành chính công tỉnh được thực hiện."));
    }
    None
}

/// `POST /ui/hang-doi/{id}/gui-lai`: the provincial centre puts a dead letter back.
pub async fn replay(
    State(ui): State<Arc<Ui>>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(refused) = centre_only(&ui, &signed, &form.csrf, "replay") {
        return refused;
    }
    let Ok(id) = id.parse::<u64>() else { return error_page(StatusCode::NOT_FOUND, "Không có mục này.") };
    let now = ui.app.clock.now();
    match ui.app.store.write(move |tx| crate::outbox::replay(tx, id, now)).await {
        Ok(Ok(Some(job))) => {
            tracing::info!(target: "motcua::ui", action = "replay", operator = %signed.operator.name, job = id, destination = %job.destination.name(), "dead letter replayed");
            Redirect::to("/ui/hang-doi?da-gui-lai=1").into_response()
        }
        Ok(Ok(None)) => error_page(StatusCode::NOT_FOUND, "Không có mục này (có thể đã được gửi lại)."),
        Ok(Err(e)) | Err(e) => {
            tracing::error!(error = %e, "a replay failed");
            error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa gửi lại được. Vui lòng thử lại sau.")
        }
    }
}

/// `POST /ui/tam-gac/{source}/{id}/tha`: the provincial centre releases an item set
/// aside: it is tried again at the next round.
pub async fn release(
    State(ui): State<Arc<Ui>>,
    signed: Signed,
    Path((source, id)): Path<(String, String)>,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(refused) = centre_only(&ui, &signed, &form.csrf, "release") {
        return refused;
    }
    let source = match source.as_str() {
        "dvcqg_pull" => Source::DvcqgPull,
        "vnpost_tracking" => Source::VnpostTracking,
        _ => return error_page(StatusCode::NOT_FOUND, "Không có mục này."),
    };
    match aside::release(&ui.app.store, source, id.clone()).await {
        Ok(Some(_)) => {
            tracing::info!(target: "motcua::ui", action = "release", operator = %signed.operator.name, source = source.as_str(), item = %id, "item set aside released");
            Redirect::to("/ui/hang-doi?da-tha=1").into_response()
        }
        Ok(None) => error_page(StatusCode::NOT_FOUND, "Không có mục này (có thể đã được xử lý)."),
        Err(e) => {
            tracing::error!(error = %e, "a release failed");
            error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa thực hiện được. Vui lòng thử lại sau.")
        }
    }
}
