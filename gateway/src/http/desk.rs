//! Endpoints of the desks (docs/CONTRACT.md §5): the pull inbox with leases and
//! acknowledgements, and progress events.

use std::sync::Arc;

use axum::{Json, body::Body, extract::State, http::HeaderMap};
use jiff::SignedDuration;
use motcua_adapters::desk::parse_event;
use motcua_schemas::{DossierCode, time::format_rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Path, Query};
use super::{
    body::{self, MediaType},
    caller::Caller,
    error::ApiError,
};
use crate::app::App;
use crate::dossiers::{
    DossierRecord,
    events::{self, EventError, EventOutcome},
    served,
};
use crate::network::DeskMode;
use crate::outbox::{self, InboxItem, Job, JobKind};
use crate::store::StoreError;

fn desk_of(caller: &Caller) -> Result<String, ApiError> {
    caller.desk().map(str::to_owned).ok_or_else(|| ApiError::forbidden("this client acts for no desk"))
}

/// `?max=N` of the inbox.
#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    max: Option<usize>,
}

/// `GET /v1/desk/inbox?max=N`: leases up to N items of the calling desk.
pub async fn inbox(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let desk = desk_of(&caller)?;
    let settings = app.settings();
    if settings.network.desk(&desk).is_some_and(|d| d.mode == DeskMode::Push) {
        return Err(ApiError::conflict("this desk receives its dossiers by push; it has no inbox to poll"));
    }
    let max = query.max.unwrap_or(10).clamp(1, 100);
    let now = app.clock.now();
    let visibility = SignedDuration::from_secs(i64::try_from(settings.retry.pull_visibility_secs).unwrap_or(300));
    let leased: Vec<(Job, Option<DossierRecord>)> = app
        .store
        .write(move |tx| -> Result<_, StoreError> {
            let jobs = outbox::lease_inbox(tx, &desk, max, now, visibility)?;
            jobs.into_iter()
                .map(|job| {
                    let record = match job.kind {
                        JobKind::Deliver => DossierRecord::load(tx, &job.dossier)?,
                        _ => None,
                    };
                    Ok((job, record))
                })
                .collect()
        })
        .await??;
    let items: Vec<Value> = leased
        .into_iter()
        .filter_map(|(job, record)| match job.kind {
            JobKind::Deliver => {
                record.map(|r| json!({ "kind": "dossier", "code": job.dossier, "dossier": served(&r, &settings) }))
            }
            JobKind::Notice { notice } => Some(json!({ "kind": "notice", "id": job.id.to_string(), "notice": notice })),
            _ => None,
        })
        .collect();
    Ok(Json(json!({ "lease_expires_at": format_rfc3339(now + visibility), "items": items })))
}

/// `POST /v1/desk/inbox/{code-or-id}/ack`: the desk has the item.
pub async fn ack(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(item): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let desk = desk_of(&caller)?;
    let now = app.clock.now();
    let settings = app.settings();
    let answer_item = item.clone();
    let outcome = app
        .store
        .write(move |tx| -> Result<_, StoreError> {
            let outcome = outbox::acknowledge(tx, &desk, &item)?;
            if let InboxItem::Acknowledged(job) = &outcome
                && job.kind == JobKind::Deliver
                && let Some(mut record) = DossierRecord::load(tx, &job.dossier)?
            {
                events::note(
                    &mut record,
                    now,
                    format!("Bộ phận Một cửa ({desk}) đã nhận hồ sơ từ hộp thư"),
                    json!({ "mark": "delivered", "desk": desk, "attempts": job.attempts }),
                );
                record.save(tx, &settings, now)?;
            }
            Ok(outcome)
        })
        .await??;
    match outcome {
        InboxItem::Acknowledged(_) => Ok(Json(json!({ "acknowledged": answer_item }))),
        InboxItem::AlreadyAcknowledged => Ok(Json(json!({ "acknowledged": answer_item, "repeated": true }))),
        InboxItem::Unknown => Err(ApiError::not_found("no such item in this desk's inbox")),
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::NotFound => ApiError::not_found("no such dossier"),
            EventError::NotAllowed(t) => {
                let allowed = t.allowed().into_iter().map(|e| e.as_str().to_owned()).collect();
                ApiError::transition(
                    format!("{} is not allowed from status {} ({})", t.event.as_str(), t.from.code(), t.from.name()),
                    allowed,
                )
            }
            EventError::Invalid(errors) => ApiError::invalid(errors),
            EventError::Conflict(detail) => ApiError::conflict(detail),
            EventError::Store(e) => e.into(),
        }
    }
}

/// `POST /v1/desk/dossiers/{code}/events`: a progress event of the desk the dossier
/// is routed to.
pub async fn event(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let desk = desk_of(&caller)?;
    let settings = app.settings();
    let code: DossierCode = code.parse().map_err(|_| ApiError::not_found("no such dossier"))?;
    let bytes = body::read(&headers, body, MediaType::Json, settings.limits.body_bytes).await?;
    let event = parse_event(&bytes, settings.limits.json_depth)?;
    let outcome = events::apply_desk_event(&app.store, settings.clone(), app.clock.clone(), desk, code, event).await?;
    let (record, repeated) = match outcome {
        EventOutcome::Applied(r) => (r, false),
        EventOutcome::Repeated(r) => (r, true),
    };
    let mut body = served(&record, &settings);
    body.repeated = Some(repeated);
    Ok(Json(serde_json::to_value(body).map_err(|_| ApiError::internal())?))
}
