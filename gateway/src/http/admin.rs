//! The provincial centre's operations endpoints (docs/CONTRACT.md §7): outbox queues and
//! dead letters.

use std::sync::Arc;

use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Path, Query};
use super::{caller::Caller, error::ApiError};
use crate::app::App;
use crate::outbox::{self, DeadFilter};

/// `GET /v1/admin/queue`: depth, oldest age, in flight, attempts and dead letters per
/// destination.
pub async fn queue(State(app): State<Arc<App>>, _: Caller) -> Result<Json<Value>, ApiError> {
    let stats = app.dispatch().stats(app.core()).await;
    Ok(Json(json!({ "destinations": stats })))
}

/// Filters of the dead-letter list.
#[derive(Debug, Deserialize)]
pub struct DeadQuery {
    destination: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/admin/dead-letters`.
pub async fn dead_letters(
    State(app): State<Arc<App>>,
    _: Caller,
    Query(query): Query<DeadQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(500).min(5000);
    let filter = query.destination.as_deref().map_or(DeadFilter::All, DeadFilter::Destination);
    let mut letters = Vec::new();
    for letter in outbox::dead_letters(&app.store, filter, limit)? {
        letters.push(json!({
            "id": letter.job.id.to_string(),
            "destination": letter.job.destination.name(),
            "job": letter.job,
            // A peer's words are personal data until proven otherwise.
            "error": motcua_schemas::text::scrub_personal(&letter.error),
            "attempts": letter.job.attempts,
            "died_at": motcua_schemas::time::format_rfc3339(letter.died_at),
        }));
    }
    Ok(Json(json!({ "dead_letters": letters })))
}

/// `POST /v1/admin/dead-letters/{id}/replay`: puts a dead letter back in the outbox.
pub async fn replay(State(app): State<Arc<App>>, _: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("no such dead letter"))?;
    let now = app.clock.now();
    let job = app.store.write(move |tx| outbox::replay(tx, id, now)).await??;
    match job {
        Some(job) => Ok(Json(json!({ "destination": job.destination.name(), "replayed": job }))),
        None => Err(ApiError::not_found("no such dead letter")),
    }
}

/// `?month=YYYY-MM`.
#[derive(Debug, serde::Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

/// `POST /v1/admin/portal/ratings?month=YYYY-MM`: sends that month's satisfaction
/// summary to the national portal (again) on the next round (docs/PORTAL.md, "Ratings").
pub async fn ratings(
    State(app): State<Arc<App>>,
    _: Caller,
    super::extract::Query(query): super::extract::Query<MonthQuery>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let bad = || {
        ApiError::invalid(vec![motcua_schemas::FieldError::new("/month", "a month YYYY-MM from 2000-01 to this month")])
    };
    let text = query.month.unwrap_or_default();
    let month = jiff::civil::Date::strptime("%Y-%m-%d", format!("{}-01", text.trim())).map_err(|_| bad())?;
    let this_month = motcua_schemas::time::to_vn(app.clock.now()).date().first_of_month();
    if month.year() < 2000 || month > this_month {
        return Err(bad());
    }
    if app.settings().dvcqg().and_then(|d| d.ratings.as_ref()).is_none() {
        return Err(ApiError::not_found("the national portal's ratings are not configured"));
    }
    crate::peers::dvcqg::ratings::queue(app.core(), month).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(json!({ "month": month.strftime("%Y-%m").to_string(), "queued": true })),
    ))
}

/// `POST /v1/admin/operators/{name}/unlock`: forgives an operator's failed logins on
/// every node (`motcua operator unlock`), so that it may log in from any address again.
pub async fn unlock_operator(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if app.settings().ui.operator(&name).is_none() {
        return Err(ApiError::not_found("no such operator"));
    }
    crate::operators::unlock(&app.store, &name).await?;
    tracing::info!(target: "motcua::ui", action = "unlock", operator = %name, client = %caller.client.id, "failed logins forgiven");
    Ok(Json(json!({ "operator": name, "unlocked": true })))
}

/// `POST /v1/admin/backup`: a consistent snapshot of the store, written while the
/// writer pauses between batches, then streamed.
pub async fn backup(State(app): State<Arc<App>>, _: Caller) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let dir = app.store.dir().join("backups");
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "backup failed");
        ApiError::internal()
    };
    crate::files::private_dir(&dir).map_err(|e| failed(&e))?;
    let path = dir.join(format!("snapshot-{}.tmp", app.clock.now().as_second()));
    let blobs = app.store.dir().join("blobs");
    let target = path.clone();
    let summary = app
        .store
        .exclusive(move |backend| -> Result<crate::backup::Summary, crate::backup::BackupError> {
            let _ = std::fs::remove_file(&target);
            let file = crate::files::create_new_private(&target)?;
            let summary = crate::backup::export(backend, &blobs, &file)?;
            file.sync_all()?;
            Ok(summary)
        })
        .await?
        .map_err(|e| failed(&e))?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| failed(&e))?;
    // The open handle keeps the data; the name is not needed any more.
    let _ = std::fs::remove_file(&path);
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"motcua-snapshot.bin\"".to_owned()),
        (axum::http::HeaderName::from_static("x-motcua-snapshot-sha256"), summary.sha256),
    ];
    Ok((headers, body).into_response())
}
