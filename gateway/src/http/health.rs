//! Probes and the gateway's public keys.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use crate::app::App;

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the store accepts writes (on a shared database: a writable primary
/// answers), no commit has been stuck longer than the configured interval, and the
/// supervised tasks this node runs are up.
pub async fn readyz(State(app): State<Arc<App>>) -> Result<Json<serde_json::Value>, ApiError> {
    let max_ms = i64::try_from(app.settings().boot.store.ready_sync_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if !app.store.health().ready(app.clock.now().as_millisecond(), max_ms) {
        return Err(ApiError::unavailable("the store cannot make writes durable"));
    }
    if !app.store.writable() {
        return Err(ApiError::unavailable("no database that takes writes is reachable"));
    }
    if let Some((task, _)) = app.tasks.down().first() {
        return Err(ApiError::unavailable(format!("the {task} task failed and is being restarted")));
    }
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// `GET /metrics`: Prometheus (OpenMetrics) text.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let stats = app.dispatch().stats(app.core()).await;
    let open_overdue = crate::dossiers::read::count_overdue(&app.store).unwrap_or(0) as i64;
    app.metrics.set_queue_gauges(&stats, open_overdue);
    if let Ok(counts) = crate::aside::counts(&app.store) {
        app.metrics.set_aside_gauges(&counts);
    }
    if let Ok((open, past_life)) = crate::peers::paygov::open_counts(app.core()) {
        app.metrics.set_payment_gauges(open, past_life);
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], app.metrics.encode())
        .into_response()
}

/// `GET /.well-known/jwks.json`: the keys that verify the gateway's own tokens.
pub async fn jwks(State(app): State<Arc<App>>) -> Response {
    let settings = app.settings();
    let body = Json(serde_json::json!({ "keys": [settings.gateway.signing.public_jwk] }));
    ([(header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}
