//! Reports for the provincial centre (docs/CONTRACT.md §7): statistics per unit and period,
//! and dossiers by status, overdue flag and unit.

use std::{collections::BTreeSet, sync::Arc};

use axum::{Json, extract::State};
use jiff::civil::Date;
use motcua_schemas::{Status, UnitCode, time::format_rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Query;
use super::{caller::Caller, error::ApiError};
use crate::app::App;
use crate::auth::Role;
use crate::dossiers::read;
use crate::stats;

/// Codes read from an index at a time while a page of dossiers is filled.
const PAGE: usize = 256;

/// `?unit=…&from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn field(pointer: &str, message: &str) -> ApiError {
    ApiError::invalid(vec![motcua_schemas::FieldError::new(pointer, message)])
}

/// `GET /v1/stats`: the measures of docs/DOMAIN.md §8 for a unit and its sub-units. Admins
/// see every unit; a desk sees the units its desk serves.
pub async fn stats(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
) -> Result<Json<stats::Report>, ApiError> {
    let (unit, from, to) = unit_and_period(&app, &caller, &q)?;
    Ok(Json(stats::report(&app.store, &app.settings().network, &unit, from, to)?))
}

/// The unit and period of a report, once the caller may see them: admins every
/// unit, a desk the units it serves.
fn unit_and_period(app: &App, caller: &Caller, q: &StatsQuery) -> Result<(UnitCode, Date, Date), ApiError> {
    let settings = app.settings();
    let unit: UnitCode =
        q.unit.as_deref().unwrap_or_default().parse().map_err(|_| field("unit", "a unit code is required"))?;
    if !settings.network.knows(&unit) {
        return Err(ApiError::not_found("no such unit"));
    }
    let date = |v: &Option<String>, name: &str| {
        v.as_deref().unwrap_or_default().parse::<Date>().map_err(|_| field(name, "expected YYYY-MM-DD"))
    };
    let (from, to) = (date(&q.from, "from")?, date(&q.to, "to")?);
    if from > to {
        return Err(field("from", "must not be after to"));
    }
    if caller.client.role == Role::Desk {
        let serving = settings.network.ancestry(&unit).find_map(|u| u.desk.clone());
        if serving.as_deref() != caller.desk() {
            return Err(ApiError::forbidden("a desk sees the reports of the units it serves"));
        }
    }
    Ok((unit, from, to))
}

/// `GET /v1/logbook?unit=…&from=…&to=…`: Mẫu 07, the log book of a unit and its
/// sub-units, as HTML, plain text (`Accept: text/plain`) or CSV (`Accept: text/csv`).
pub async fn logbook(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let (unit, from, to) = unit_and_period(&app, &caller, &q)?;
    let settings = app.settings();
    let units = settings.network.subtree(&unit).iter().map(ToString::to_string).collect();
    let dossiers = crate::dossiers::received_by(&app.store, &settings.network, &units, from, to, usize::MAX)?;
    let book = crate::forms::log_book(&settings, &unit, from, to, dossiers, app.clock.now());
    let accept = headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("text/csv") {
        let disposition = format!("attachment; filename=\"so-theo-doi-{unit}-{from}-{to}.csv\"");
        let headers = [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ];
        return Ok((headers, book.csv()).into_response());
    }
    super::dossiers::render_form(&headers, |format| book.document.render(format))
}

/// `?status=&overdue=&unit=&limit=&after=`.
#[derive(Debug, Deserialize)]
pub struct DossiersQuery {
    status: Option<u8>,
    overdue: Option<bool>,
    unit: Option<String>,
    limit: Option<usize>,
    after: Option<String>,
}

/// `GET /v1/admin/dossiers`: dossiers by status, overdue flag and unit (with its
/// sub-units), from the indexes, in code order; `after` pages on.
pub async fn dossiers(
    State(app): State<Arc<App>>,
    _: Caller,
    Query(q): Query<DossiersQuery>,
) -> Result<Json<Value>, ApiError> {
    let settings = app.settings();
    let status = match q.status {
        Some(code) => Some(Status::from_code(code).ok_or_else(|| field("status", "a status code from 1 to 10"))?),
        None => None,
    };
    let units: Option<BTreeSet<String>> = match &q.unit {
        Some(u) => {
            let unit: UnitCode = u.parse().map_err(|_| field("unit", "not a unit code"))?;
            if !settings.network.knows(&unit) {
                return Err(field("unit", "no such unit in the configuration"));
            }
            Some(settings.network.subtree(&unit).iter().map(ToString::to_string).collect())
        }
        None => None,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    // The narrowest index that answers the query: open overdue dossiers, one status,
    // or every dossier.
    let listing = match (q.overdue, status) {
        (Some(true), _) => read::Listing::Overdue,
        (_, Some(s)) => read::Listing::Status(s),
        _ => read::Listing::All,
    };
    let mut items = Vec::new();
    let mut cursor = q.after.clone();
    'pages: loop {
        let codes = read::codes(&app.store, listing, cursor.as_deref(), PAGE)?;
        let Some(last) = codes.last() else { break };
        cursor = Some(last.to_string());
        for code in codes {
            let Some(record) = read::get(&app.store, &code)? else { continue };
            let d = &record.dossier;
            if status.is_some_and(|s| s != d.status)
                || q.overdue.is_some_and(|o| o != (d.overdue && d.status.is_open()))
            {
                continue;
            }
            if units.as_ref().is_some_and(|u| !u.contains(d.target_unit.as_str())) {
                continue;
            }
            items.push(json!({
                "code": d.code,
                "external_ref": d.external_ref,
                "status": d.status,
                "status_name": d.status_name,
                "overdue": d.overdue,
                "unit": d.target_unit,
                "desk": d.desk,
                "procedure": d.procedure.code,
                "received_at": format_rfc3339(d.received_at),
                "due_at": format_rfc3339(d.due_at),
                "appointment_at": format_rfc3339(d.appointment_at),
                "apologies": record.compliance.apologies,
                "explained": record.compliance.explained,
            }));
            // One more than asked tells whether another page follows.
            if items.len() > limit {
                break 'pages;
            }
        }
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more.then(|| items.last().map(|i| i["code"].clone())).flatten();
    Ok(Json(json!({ "dossiers": items, "next": next })))
}
