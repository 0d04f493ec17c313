//! `GET /v1/files/{sha256}?exp=…&sig=…`: a stored file fetched through the signed,
//! expiring link the gateway gave a peer (`file_links`). No token: the link is the
//! permission, checked before anything is looked up.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{caller::PublicCaller, error::ApiError};
use crate::app::App;
use crate::file_links::LinkRefused;

/// The link's query.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    exp: Option<String>,
    sig: Option<String>,
}

/// `GET /v1/files/{sha256}`.
pub async fn fetch(
    State(app): State<Arc<App>>,
    _: PublicCaller,
    Path(sha256): Path<String>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let settings = app.settings();
    let Some(links) = settings.file_links.as_ref() else {
        return Err(ApiError::not_found("no such endpoint"));
    };
    let exp = query.exp.as_deref().and_then(|e| e.parse::<i64>().ok());
    let (Some(exp), Some(sig)) = (exp, query.sig.as_deref()) else {
        return Err(ApiError::forbidden("this link is not one the gateway gave"));
    };
    match links.check(&sha256, exp, sig, app.clock.now().as_second()) {
        Ok(()) => {}
        Err(LinkRefused::Expired) => return Err(ApiError::forbidden("this link has expired")),
        Err(LinkRefused::NotSigned) => return Err(ApiError::forbidden("this link is not one the gateway gave")),
    }
    let store = app.store.clone();
    let read = tokio::task::spawn_blocking(move || store.blobs().get(&sha256)).await;
    let bytes = match read {
        Ok(Ok(Some(bytes))) => bytes,
        Ok(Ok(None)) => return Err(ApiError::not_found("no such file")),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read a stored file");
            return Err(ApiError::unavailable("the file cannot be read now"));
        }
        Err(_) => return Err(ApiError::unavailable("the file cannot be read now")),
    };
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream"),
        (header::CONTENT_DISPOSITION, "attachment"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, bytes).into_response())
}
