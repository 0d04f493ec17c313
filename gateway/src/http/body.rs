//! Reading request bodies within the configured size limit, after checking the
//! media type: 415 for the wrong type, 413 when the body is too large, whether it
//! announces its length or not.

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, header},
};
use http_body_util::{BodyExt, Limited};

use super::error::ApiError;

/// The media types the gateway reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`.
    Json,
    /// `application/xml` or `text/xml`.
    Xml,
    /// `text/plain`.
    Text,
}

impl MediaType {
    fn accepts(self, essence: &str) -> bool {
        match self {
            MediaType::Json => essence == "application/json",
            MediaType::Xml => essence == "application/xml" || essence == "text/xml",
            MediaType::Text => essence == "text/plain",
        }
    }

    fn name(self) -> &'static str {
        match self {
            MediaType::Json => "application/json",
            MediaType::Xml => "application/xml",
            MediaType::Text => "text/plain",
        }
    }
}

/// Checks the `Content-Type` and reads at most `limit` bytes of `body`.
pub async fn read(headers: &HeaderMap, body: Body, expected: MediaType, limit: usize) -> Result<Bytes, ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !expected.accepts(&essence) {
        return Err(ApiError::unsupported_media_type(expected.name()));
    }
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(format!("the body may be at most {limit} bytes")));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::too_large(format!("the body may be at most {limit} bytes")))
        }
        Err(_) => Err(ApiError::malformed("the body could not be read", None)),
    }
}
