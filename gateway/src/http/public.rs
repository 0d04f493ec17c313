//! Endpoints without a token (docs/CONTRACT.md §7): the citizen's lookup, limited per IP
//! address, showing no personal data.

use std::sync::Arc;

use axum::{Json, extract::State};
use motcua_schemas::{DossierCode, time::format_rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Query;
use super::{caller::PublicCaller, error::ApiError};
use crate::app::App;
use crate::dossiers::read;

/// `?code=…&id_last4=…`.
#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    code: Option<String>,
    id_last4: Option<String>,
}

/// `GET /v1/public/lookup`: status, received and appointment dates of a dossier
/// whose code and the last four characters of the applicant's ID number match. A
/// wrong pair is answered exactly like an unknown code, and a code that had too many
/// wrong answers is answered as unknown for a while (docs/CONTRACT.md §7).
pub async fn lookup(
    State(app): State<Arc<App>>,
    _: PublicCaller,
    Query(query): Query<LookupQuery>,
) -> Result<Json<Value>, ApiError> {
    let record = matching(&app, query)?;
    let d = &record.dossier;
    let mut found = json!({
        "code": d.code,
        "status": d.status,
        "status_name": d.status_name,
        "received_at": format_rfc3339(d.received_at),
        "appointment_at": format_rfc3339(d.appointment_at),
    });
    if let Some(url) = crate::peers::paygov::open_page(&record) {
        found["payment_url"] = url.into();
    }
    Ok(Json(found))
}

/// `POST /v1/public/notifications/stop?code=…&id_last4=…`: the applicant asks for no
/// more e-mail, SMS or Zalo messages about the dossier (docs/NOTIFY.md); the same pair
/// and the same limits as the lookup. Messages already queued are not sent.
pub async fn stop_notifications(
    State(app): State<Arc<App>>,
    _: PublicCaller,
    Query(query): Query<LookupQuery>,
) -> Result<Json<Value>, ApiError> {
    let record = matching(&app, query)?;
    let code = record.dossier.code.clone();
    let (settings, now) = (app.settings(), app.clock.now());
    let stopped = app
        .store
        .write(move |tx| {
            let Some(mut record) = crate::dossiers::DossierRecord::load(tx, &code)? else { return Ok(None) };
            let at = *record.notify.stopped_at.get_or_insert(now);
            record.save(tx, &settings, now)?;
            Ok::<_, crate::store::StoreError>(Some(at))
        })
        .await??;
    let Some(at) = stopped else { return Err(ApiError::not_found("no dossier matches this code and ID")) };
    Ok(Json(json!({ "code": record.dossier.code, "notifications": "stopped", "stopped_at": format_rfc3339(at) })))
}

/// The dossier whose code and ID ending match, counted against the code's wrong answers.
fn matching(app: &App, query: LookupQuery) -> Result<crate::dossiers::DossierRecord, ApiError> {
    let missing = || ApiError::not_found("no dossier matches this code and ID");
    let code: DossierCode = query.code.as_deref().unwrap_or_default().trim().parse().map_err(|_| missing())?;
    let last4 = query.id_last4.unwrap_or_default();
    let guard = app.wrong_lookups();
    if guard.exhausted(code.as_str()) {
        return Err(missing());
    }
    // An unknown code costs what a known one does: the decoy, a stored record, is
    // decoded in its place, so that timing does not tell which codes exist.
    let stored = read::get_bytes(&app.store, &code)?;
    let decoded = match stored.as_deref().or(app.lookup_decoy().as_deref()) {
        Some(bytes) => Some(read::decode_bytes(&code, bytes)?),
        None => None,
    };
    let record = match (stored, decoded) {
        (Some(_), Some(record)) if last4.len() == 4 && record.dossier.applicant.id_number.ends_with(last4.as_str()) => {
            record
        }
        _ => {
            guard.record(code.as_str());
            return Err(missing());
        }
    };
    Ok(record)
}
