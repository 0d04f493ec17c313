//! Endpoints of the orders with VNPost (docs/PEERS.md §2): a desk (or the provincial
//! centre) asking the post to collect a dossier's papers from the applicant's home, and
//! the import of a batch of waybill codes into the pool.

use std::sync::Arc;

use axum::{Json, body::Body, extract::State, http::HeaderMap, http::StatusCode};
use motcua_schemas::{DossierCode, OrderKind};
use serde_json::{Value, json};

use super::extract::Path;
use super::{
    body::{self, MediaType},
    caller::Caller,
    error::ApiError,
};
use crate::app::App;
use crate::dossiers::DossierRecord;
use crate::store::StoreError;

/// `POST /v1/desk/dossiers/{code}/collection`: the desk that holds the dossier, or an
/// admin, asks the post to collect its papers from the applicant's home.
pub async fn collection(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let desk = caller.desk().map(str::to_owned);
    let code: DossierCode = code.parse().map_err(|_| ApiError::not_found("no such dossier"))?;
    let settings = app.settings();
    if settings.vnpost().is_none() {
        return Err(ApiError::conflict("orders with VNPost need [postal] protocol = \"vnpost\""));
    }
    let now = app.clock.now();
    let outcome = app
        .store
        .write(move |tx| -> Result<Result<(bool, String), ApiError>, StoreError> {
            // Authorize before anything is looked up for a desk: a dossier it does not
            // hold is unknown to it.
            let record = DossierRecord::load(tx, &code)?;
            let Some(mut record) = record.filter(|r| desk.as_ref().is_none_or(|d| *d == r.dossier.desk)) else {
                return Ok(Err(ApiError::not_found("no such dossier")));
            };
            if !record.dossier.status.is_open() {
                return Ok(Err(ApiError::conflict("the dossier is no longer open: nothing to collect")));
            }
            let before = record.dossier.postal.orders.len();
            let Some(number) =
                crate::peers::post::order(tx, &settings, &mut record.dossier, OrderKind::Collection, 0, now)?
            else {
                return Ok(Err(ApiError::conflict("VNPost is not configured")));
            };
            let created = record.dossier.postal.orders.len() != before;
            if created {
                crate::dossiers::events::note(
                    &mut record,
                    now,
                    format!("Đề nghị Bưu điện thu gom hồ sơ tại nhà người nộp ({number})"),
                    json!({ "mark": "collection_requested", "order": number }),
                );
                record.save(tx, &settings, now)?;
            }
            Ok(Ok((created, number)))
        })
        .await??;
    let (created, number) = outcome?;
    let status = if created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(json!({ "order": number }))))
}

/// `POST /v1/admin/waybills`: a batch of waybill codes (text, one per line) for the pool.
pub async fn import_waybills(
    State(app): State<Arc<App>>,
    _: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let settings = app.settings();
    let bytes = body::read(&headers, body, MediaType::Text, settings.limits.body_bytes).await?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::malformed("the body is not UTF-8 text", None))?;
    let imported = app.store.write(move |tx| crate::peers::vnpost::waybills::import(tx, &text)).await??;
    let free = crate::peers::vnpost::waybills::free(&app.store);
    app.metrics.waybills_free.set(i64::try_from(free).unwrap_or(i64::MAX));
    tracing::info!(
        added = imported.added,
        known = imported.known,
        invalid = imported.invalid.len(),
        free,
        "waybill codes imported"
    );
    Ok(Json(
        json!({ "added": imported.added, "known": imported.known, "invalid_lines": imported.invalid, "free": free }),
    ))
}
