//! Reading dossiers (docs/CONTRACT.md §7): each role sees what it may, and a desk or portal
//! asking for another's dossier gets 404, as if it did not exist.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use motcua_schemas::DossierCode;

use super::extract::{Path, Query};
use super::{caller::Caller, error::ApiError};
use crate::app::App;
use crate::auth::Role;
use crate::dossiers::{DossierRecord, served};
use crate::forms::Format;

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
    let record = crate::dossiers::read::get(&app.store, &code)?.ok_or_else(missing)?;
    if visible_to(caller, &record) { Ok(record) } else { Err(missing()) }
}

/// `GET /v1/dossiers/{code}`.
pub async fn get_one(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = load_visible(&app, &caller, &code)?;
    let settings = app.settings();
    Ok(Json(serde_json::to_value(served(&record, &settings)).map_err(|_| ApiError::internal())?))
}

/// `GET /v1/dossiers/{code}/receipt`: the Mẫu 01 receipt as issued at intake, HTML
/// or plain text.
pub async fn receipt(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = load_visible(&app, &caller, &code)?;
    let document = record.document("01", 1).ok_or_else(|| ApiError::not_found("this dossier has no receipt"))?;
    render_form(&headers, |format| document.render(format))
}

/// `GET /v1/dossiers/{code}/documents`: the forms issued for the dossier.
pub async fn documents(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = load_visible(&app, &caller, &code)?;
    let code = record.dossier.code.as_str();
    let list: Vec<serde_json::Value> = record
        .issued()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            serde_json::json!({
                "index": i + 1,
                "form": d.content.form,
                "title": d.content.title,
                "number": d.content.number,
                "issued_at": motcua_schemas::time::format_rfc3339(d.issued_at),
                "sha256": d.sha256,
                "href": format!("/v1/dossiers/{code}/documents/{}", i + 1),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "code": code, "documents": list })))
}

/// `GET /v1/dossiers/{code}/documents/{index}`: one issued form, HTML or plain text.
pub async fn document(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((code, index)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = load_visible(&app, &caller, &code)?;
    let document = index
        .parse::<usize>()
        .ok()
        .and_then(|i| record.issued().into_iter().nth(i.checked_sub(1)?))
        .ok_or_else(|| ApiError::not_found("this dossier has no such document"))?;
    render_form(&headers, |format| document.render(format))
}

/// Renders a form as HTML, or as plain text when the caller prefers it.
pub fn render_form(
    headers: &HeaderMap,
    render: impl FnOnce(Format) -> Result<String, askama::Error>,
) -> Result<Response, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let text = accept.contains("text/plain") && !accept.contains("text/html");
    let format = if text { Format::Text } else { Format::Html };
    let body = render(format).map_err(|e| {
        tracing::error!(error = %e, "cannot render a form");
        ApiError::internal()
    })?;
    let content_type = if text { "text/plain; charset=utf-8" } else { "text/html; charset=utf-8" };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The rating body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    level: i64,
}

/// `POST /v1/portal/dossiers/{code}/rating`: the applicant's satisfaction, once,
/// after the result is ready.
pub async fn rating(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let settings = app.settings();
    let record = load_visible(&app, &caller, &code)?;
    let bytes = super::body::read(&headers, body, super::body::MediaType::Json, settings.limits.body_bytes).await?;
    let rating: RatingBody = motcua_adapters::json::from_slice(&bytes, settings.limits.json_depth)?;
    let level = u8::try_from(rating.level).ok().filter(|l| (1..=3).contains(l)).ok_or_else(|| {
        ApiError::invalid(vec![motcua_schemas::FieldError::new(
            "/level",
            "must be 1 (không hài lòng), 2 (hài lòng) or 3 (rất hài lòng)",
        )])
    })?;
    let code = record.dossier.code.clone();
    let now = app.clock.now();
    let rated = app.store.write(move |tx| crate::dossiers::events::rate(tx, &settings, &code, level, now)).await??;
    Ok(Json(serde_json::json!({ "code": rated.dossier.code, "rating": rated.dossier.rating })))
}

/// `?n=` of the apology (the latest when absent).
#[derive(Debug, serde::Deserialize)]
pub struct ApologyQuery {
    n: Option<u32>,
}

/// `GET /v1/dossiers/{code}/apology`: the Mẫu 04 apology letter, HTML or plain text.
pub async fn apology(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
    Query(query): Query<ApologyQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = load_visible(&app, &caller, &code)?;
    let issued = record.documents.iter().filter(|d| d.content.form == "04").count();
    let n = query.n.map_or(issued, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let document = record.document("04", n).ok_or_else(|| ApiError::not_found("this dossier has no such apology"))?;
    render_form(&headers, |format| document.render(format))
}
