//! Reading dossiers (CONTRACT §7): each role sees what it may, and a desk or portal
//! asking for another's dossier gets 404, as if it did not exist.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
};
use motcua_schemas::DossierCode;

use super::{caller::Caller, error::ApiError};
use crate::app::App;
use crate::config::file::Role;
use crate::dossiers::{DossierRecord, served};
use crate::store::Space;

/// True when `caller` may see `record`.
pub fn visible_to(caller: &Caller, record: &DossierRecord) -> bool {
    match caller.client.role {
        Role::Admin => true,
        Role::Portal => record.submitted_by == caller.client.id,
        Role::Desk => caller.desk() == Some(record.dossier.desk.as_str()),
        Role::Postal => false,
    }
}

/// Loads the dossier `code` for `caller`, or 404 when it does not exist or is not
/// theirs to see.
pub fn load_visible(app: &App, caller: &Caller, code: &str) -> Result<DossierRecord, ApiError> {
    let missing = || ApiError::not_found("no such dossier");
    let code: DossierCode = code.parse().map_err(|_| missing())?;
    let record: DossierRecord = app.store.get_json(Space::Dossier, code.as_str().as_bytes())?.ok_or_else(missing)?;
    if visible_to(caller, &record) { Ok(record) } else { Err(missing()) }
}

/// `GET /v1/dossiers/{code}`.
pub async fn get_one(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(&[Role::Portal, Role::Desk, Role::Admin])?;
    let record = load_visible(&app, &caller, &code)?;
    Ok(Json(served(&record, &app.settings())))
}
