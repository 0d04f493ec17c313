//! `POST /v1/dvcqg/dossiers`: dossiers the national portal pushes, in its own record
//! shape (docs/PEERS.md §1.5, §1.10), answered as real receivers answer — HTTP 200
//! `{"error_code":0|1|-1,"message":"<MaHoSo>| …"}`, HTTP 500 only for a body that is
//! not JSON. A `MaHoSo` given again is an update when the push says `isUpdating`,
//! and otherwise a duplicate (`error_code` 1, nothing changed), as the real receivers
//! answer it. A peer may update only the dossiers it submitted. The portal authenticates with HTTP Basic or a token.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use motcua_adapters::{InboundError, dvcqg::inbound};
use serde_json::{Value, json};

use super::{
    body::{self, MediaType},
    caller::Caller,
    error::ApiError,
};
use crate::app::App;
use crate::dossiers::intake::{IntakeError, IntakeOutcome};
use crate::metrics::IntakeLabels;
use crate::peers::dvcqg::intake::{self as portal_intake, describe};

/// What became of one pushed record: `error_code` and the message after `MaHoSo| `.
struct Outcome {
    code: String,
    error_code: i64,
    message: String,
}

fn refused(code: String, error: InboundError) -> Outcome {
    let message = match error {
        InboundError::Invalid(errors) => describe(&errors),
        other => other.to_string(),
    };
    Outcome { code, error_code: -1, message }
}

async fn take(
    app: &App,
    caller: &Caller,
    record: &serde_json::Map<String, Value>,
    unit: Option<&str>,
    updating: bool,
) -> Result<Outcome, ApiError> {
    let code = inbound::record_code(record);
    let taken =
        portal_intake::take(&app.store, app.settings(), app.clock.clone(), record, unit, &caller.client.id, updating)
            .await;
    let outcome = match taken {
        Ok(o) => o,
        Err(IntakeError::Invalid(errors)) => return Ok(Outcome { code, error_code: -1, message: describe(&errors) }),
        Err(IntakeError::Conflict(message)) => return Ok(Outcome { code, error_code: 1, message }),
        Err(IntakeError::NotYours) => {
            app.metrics.foreign_updates.inc();
            tracing::warn!(client = %caller.client.id, dossier = %code, "a push named a dossier another client submitted; refused");
            return Ok(Outcome {
                code,
                error_code: -1,
                message: "MaHoSo: hồ sơ do hệ thống khác gửi, không được cập nhật".into(),
            });
        }
        Err(IntakeError::Store(crate::store::StoreError::TooLarge { bytes, limit })) => {
            let message = format!("the dossier would take {bytes} bytes in the store; at most {limit}");
            return Ok(Outcome { code, error_code: -1, message });
        }
        Err(e) => return Err(e.into()),
    };
    let labels = IntakeLabels { channel: "dvcqg".to_owned(), outcome: portal_intake::label(&outcome).to_owned() };
    app.metrics.intake.get_or_create(&labels).inc();
    let (record, error_code, message) = match outcome {
        IntakeOutcome::Created(r, _) => (r, 0, "Tiếp nhận hồ sơ thành công"),
        IntakeOutcome::Repeated(r) if !updating => (r, 1, "Hồ sơ đã được tiếp nhận trước đó, không cập nhật"),
        IntakeOutcome::Repeated(r) | IntakeOutcome::Updated(r) => (r, 0, "Cập nhật hồ sơ thành công"),
    };
    Ok(Outcome { code, error_code, message: format!("{message} (mã hồ sơ {})", record.dossier.code) })
}

/// `POST /v1/dvcqg/dossiers`.
pub async fn push(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let settings = app.settings();
    if settings.dvcqg().is_none() {
        return Err(ApiError::not_found("the national portal's protocol is not configured"));
    }
    let bytes = body::read(&headers, body, MediaType::Json, settings.limits.body_bytes).await?;
    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
        // What real receivers answer to a body that is not JSON.
        return Ok((StatusCode::INTERNAL_SERVER_ERROR, "request body incorrect").into_response());
    }
    let pushed = match inbound::parse_push(&bytes, settings.limits.json_depth) {
        Ok(p) => p,
        Err(e) => {
            let Outcome { message, .. } = refused(String::new(), e);
            let reply = json!({ "error_code": -1, "message": format!("| {message}") });
            return Ok((StatusCode::OK, axum::Json(reply)).into_response());
        }
    };
    // What the record and its envelope leave out, as configured: the unit from a
    // header (`groupId` where the portal's own receivers read it) or fixed, the date
    // from the time of receipt.
    let push = settings.dvcqg().map(|d| &d.push);
    let header = push.and_then(|p| headers.get(p.unit_header.as_str())).and_then(|v| v.to_str().ok());
    let unit = pushed.unit.clone().or_else(|| push.and_then(|p| p.unit(header)));
    let received = motcua_schemas::time::format_portal(app.clock.now());
    let mut outcomes = Vec::with_capacity(pushed.records.len());
    for record in &pushed.records {
        let dated = ["NgayNopHoSo", "NgayNop", "NgayTiepNhan"]
            .iter()
            .any(|k| record.get(*k).and_then(Value::as_str).is_some_and(|v| !v.trim().is_empty()));
        let record = if !dated && push.is_some_and(|p| p.date_from_receipt) {
            let mut record = record.clone();
            record.insert("NgayNopHoSo".into(), received.clone().into());
            std::borrow::Cow::Owned(record)
        } else {
            std::borrow::Cow::Borrowed(record)
        };
        outcomes.push(take(&app, &caller, &record, unit.as_deref(), pushed.updating).await?);
    }
    let worst = outcomes.iter().map(|o| o.error_code).find(|c| *c != 0).unwrap_or(0);
    let message = outcomes.iter().map(|o| format!("{}| {}", o.code, o.message)).collect::<Vec<_>>().join("; ");
    let mut reply = json!({ "error_code": worst, "message": message });
    if outcomes.len() > 1 {
        reply["result"] = outcomes
            .iter()
            .map(|o| json!({ "MaHoSo": o.code, "error_code": o.error_code, "message": o.message }))
            .collect();
    }
    Ok((StatusCode::OK, axum::Json(reply)).into_response())
}
