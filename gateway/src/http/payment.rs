//! Fees paid online (docs/PAYMENT.md): `POST /v1/paygov/confirm`, the national payment
//! platform's confirmation callback — no token: the partner's signature (`MaXacThuc`)
//! is the permission, checked before anything is looked up; every answer is the
//! platform's own reply shape, `00` taken or `99` refused — and a desk's reopening of a
//! payment that failed or expired.

use std::sync::Arc;

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use motcua_schemas::{DossierCode, Status};
use serde_json::{Value, json};

use super::extract::Path;
use super::{
    body::{self, MediaType},
    caller::{Caller, PublicCaller},
    error::ApiError,
};
use crate::app::App;
use crate::dossiers::{
    DossierRecord,
    payments::{self, OpenError},
};
use crate::metrics::CallbackLabels;
use crate::store::StoreError;

/// `POST /v1/paygov/confirm`.
pub async fn confirm(
    State(app): State<Arc<App>>,
    _: PublicCaller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let settings = app.settings();
    if settings.payment.is_none() {
        return Err(ApiError::not_found("no such endpoint"));
    }
    // A callback is a few hundred bytes.
    let bytes = body::read(&headers, body, MediaType::Json, settings.limits.body_bytes.min(16 << 10)).await?;
    let answer = crate::peers::paygov::confirm(app.core(), &bytes).await.map_err(|e| {
        tracing::error!(error = %e, "a payment callback could not be recorded");
        ApiError::unavailable("the payment cannot be recorded now; send it again")
    })?;
    let outcome = answer.refused.map_or("taken", |r| r.label());
    if let Some(why) = answer.refused {
        // Named by its outcome only: the callback carries the payer's transaction.
        tracing::warn!(why = why.label(), "a payment callback was refused");
    }
    app.metrics.payment_callbacks.get_or_create(&CallbackLabels { outcome: outcome.to_owned() }).inc();
    Ok(Json(answer.reply))
}

/// `POST /v1/desk/dossiers/{code}/payment`: the desk that holds a dossier waiting on a
/// payment, or an admin, opens it again when the last attempt failed or expired (the
/// amount is the last attempt's). An open attempt is answered as it is.
pub async fn reopen(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let desk = caller.desk().map(str::to_owned);
    let code: DossierCode = code.parse().map_err(|_| ApiError::not_found("no such dossier"))?;
    let settings = app.settings();
    if settings.payment.is_none() {
        return Err(ApiError::conflict("online payment needs a [payment] section"));
    }
    let now = app.clock.now();
    let outcome = app
        .store
        .write(move |tx| -> Result<Result<(bool, String), ApiError>, StoreError> {
            // Authorize before anything is looked up for a desk.
            let record = DossierRecord::load(tx, &code)?;
            let Some(mut record) = record.filter(|r| desk.as_ref().is_none_or(|d| *d == r.dossier.desk)) else {
                return Ok(Err(ApiError::not_found("no such dossier")));
            };
            if record.dossier.status != Status::FinancialObligation {
                return Ok(Err(ApiError::conflict("the dossier is not waiting on a payment")));
            }
            let Some(amount) = record.payments.last().map(|p| p.amount) else {
                return Ok(Err(ApiError::conflict("no payment of this dossier was asked for online")));
            };
            match payments::open(tx, &settings, &mut record, amount, now) {
                Ok(reference) => {
                    record.save(tx, &settings, now)?;
                    Ok(Ok((true, reference)))
                }
                Err(OpenError::AlreadyOpen(reference)) => Ok(Ok((false, reference))),
                Err(OpenError::Store(e)) => Err(e),
                Err(e) => Ok(Err(ApiError::conflict(e.to_string()))),
            }
        })
        .await??;
    let (created, reference) = outcome?;
    let status = if created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(json!({ "reference": reference }))))
}
