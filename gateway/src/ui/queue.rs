//! Hàng đợi: the outbox per destination and the dead letters, with a replay button
//! for the provincial centre (a form with the session's CSRF token).

use std::sync::Arc;

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::{Frame, Signed, Ui, error_page, format, login::TokenForm};
use crate::outbox::DeadLetter;
use crate::settings::ui::OperatorRole;
use crate::store::Space;

/// Dead letters listed at most.
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

#[derive(Template)]
#[template(path = "ui/queue.html")]
struct QueuePage {
    frame: Frame,
    queues: Vec<Queue>,
    dead: Vec<Dead>,
    replayed: bool,
}

fn age(seconds: u64) -> String {
    match seconds {
        0 => "—".to_owned(),
        s if s < 120 => format!("{s} giây"),
        s if s < 7_200 => format!("{} phút", s / 60),
        s => format!("{} giờ", s / 3_600),
    }
}

/// `?da-gui-lai=1` after a replay.
#[derive(Debug, Default, serde::Deserialize)]
pub struct QueueQuery {
    #[serde(rename = "da-gui-lai", default)]
    replayed: Option<String>,
}

/// `GET /ui/hang-doi`.
pub async fn page(
    State(ui): State<Arc<Ui>>,
    signed: Signed,
    axum::extract::Query(q): axum::extract::Query<QueueQuery>,
) -> Response {
    let settings = ui.app.settings();
    let network = &settings.network;
    let name_of = |destination: &str| format::destination(network, destination);
    let context = ui.app.dispatch_context();
    let queues = ui
        .app
        .dispatch()
        .stats(&context)
        .await
        .into_iter()
        .map(|s| Queue {
            destination: name_of(&s.destination),
            mode: if s.mode == "pull" { "Kéo" } else { "Đẩy" },
            depth: s.depth as u64,
            oldest: age(u64::try_from(s.oldest_age_seconds).unwrap_or(0)),
            in_flight: s.in_flight as u64,
            dead: s.dead,
        })
        .collect();
    let mut dead = Vec::new();
    for entry in ui.app.store.scan_prefix(Space::Dead, b"") {
        let Ok((_, value)) = entry else {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được hàng đợi. Vui lòng thử lại sau.");
        };
        let Ok(letter) = serde_json::from_slice::<DeadLetter>(&value) else { continue };
        dead.push(Dead {
            id: letter.job.id.to_string(),
            destination: name_of(&letter.job.destination.name()),
            code: letter.job.dossier.to_string(),
            error: letter.error.clone(),
            attempts: letter.job.attempts,
            died: format::when(letter.died_at),
        });
        if dead.len() >= LISTED {
            break;
        }
    }
    tracing::info!(target: "motcua::ui", action = "queue", operator = %signed.operator.name, "page viewed");
    let page =
        QueuePage { frame: signed.frame("Hàng đợi", "hang-doi"), queues, dead, replayed: q.replayed.is_some() };
    signed.page(page.render())
}

/// `POST /ui/hang-doi/{id}/gui-lai`: the provincial centre puts a dead letter back.
pub async fn replay(
    State(ui): State<Arc<Ui>>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    if !signed.csrf_ok(&ui, &form.csrf) {
        tracing::warn!(target: "motcua::ui", action = "replay", operator = %signed.operator.name, outcome = "csrf", "a form without a valid token");
        return error_page(StatusCode::FORBIDDEN, "Yêu cầu không hợp lệ (thiếu mã xác thực biểu mẫu).");
    }
    if signed.operator.role != OperatorRole::Centre {
        return error_page(StatusCode::FORBIDDEN, "Chỉ Trung tâm Phục vụ hành chính công tỉnh được gửi lại.");
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
