//! Errors as callers see them (docs/CONTRACT.md §0): RFC 9457 `application/problem+json`,
//! translated into the postal namespace's `<Loi>` for the postal partner's routes.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use motcua_adapters::{InboundError, postal::outbound};
use motcua_schemas::FieldError;
use serde::{Deserialize, Serialize};

use crate::dossiers::intake::IntakeError;
use crate::store::StoreError;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The media type of every XML document the gateway answers the postal partner with.
pub const POSTAL_XML: &str = "application/xml; charset=utf-8";

/// A problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `urn:motcua:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened here.
    pub detail: String,
    /// Located problems, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The desk events allowed instead (409 on a refused transition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// An error answer (boxed: it travels through every handler's `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<Details>);

#[derive(Debug, Clone)]
struct Details {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    allowed: Option<Vec<String>>,
    headers: Vec<(&'static str, String)>,
}

impl ApiError {
    fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(Details {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            allowed: None,
            headers: Vec::new(),
        }))
    }

    /// 400: the body cannot be parsed or uses a forbidden construct.
    pub fn malformed(detail: impl Into<String>, pointer: Option<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "malformed", "Malformed request", detail);
        if let Some(pointer) = pointer.filter(|p| !p.is_empty()) {
            let message = e.0.detail.clone();
            e.0.errors.push(FieldError::new(pointer, message));
        }
        e
    }

    /// 422: the content is invalid, field by field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = format!("{} field(s) are invalid", errors.len());
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Invalid content", detail);
        e.0.errors = errors;
        e
    }

    /// 409: conflicts with what is stored.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 409 for a refused transition, listing what is allowed.
    pub fn transition(detail: impl Into<String>, allowed: Vec<String>) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, "transition-not-allowed", "Transition not allowed", detail);
        e.0.allowed = Some(allowed);
        e
    }

    /// 401 with `WWW-Authenticate`.
    pub fn unauthorized(reason: &str, token_present: bool) -> Self {
        let challenge = if token_present {
            format!(
                "Bearer realm=\"motcua\", error=\"invalid_token\", error_description=\"{}\"",
                reason.replace('"', "'")
            )
        } else {
            "Bearer realm=\"motcua\"".to_owned()
        };
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required", reason);
        e.0.headers.push(("www-authenticate", challenge));
        e
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 413.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Request too large", detail)
    }

    /// 415.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send {expected}"),
        )
    }

    /// 429 with `Retry-After` and the rate-limit headers.
    pub fn rate_limited(retry_after: u64, headers: [(&'static str, String); 2]) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("retry after {retry_after} s"),
        );
        e.0.headers.push(("retry-after", retry_after.to_string()));
        e.0.headers.extend(headers);
        e
    }

    /// 429 for a source held after too many wrong passwords, with `Retry-After`.
    pub fn held(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "held",
            "Too many failed attempts",
            format!("too many wrong passwords from this address; retry after {retry_after} s"),
        );
        e.0.headers.push(("retry-after", retry_after.to_string()));
        e
    }

    /// 503: writes cannot be made durable; nothing was acknowledged.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", detail)
    }

    /// 408: the request took too long.
    pub fn timeout() -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "timeout", "Request timeout", "the request took too long")
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this method is not served here",
        )
    }

    /// 500, without internals.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the gateway could not complete the request",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let d = &self.0;
        Problem {
            kind: format!("urn:motcua:problem:{}", d.slug),
            title: d.title.to_owned(),
            status: d.status.as_u16(),
            detail: d.detail.clone(),
            errors: d.errors.clone(),
            allowed: d.allowed.clone(),
        }
    }
}

impl From<InboundError> for ApiError {
    fn from(e: InboundError) -> Self {
        match e {
            InboundError::Malformed { pointer, message } => ApiError::malformed(message, Some(pointer)),
            InboundError::Invalid(errors) => ApiError::invalid(errors),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => {
                ApiError::unavailable("the store cannot make writes durable right now; nothing was stored")
            }
            StoreError::TooLarge { bytes, limit } => {
                ApiError::too_large(format!("the dossier would take {bytes} bytes in the store; at most {limit}"))
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Invalid(errors) => ApiError::invalid(errors),
            IntakeError::Conflict(detail) => ApiError::conflict(detail),
            IntakeError::NotYours => ApiError::conflict("this reference names a dossier another client submitted"),
            IntakeError::Store(e) => e.into(),
            IntakeError::Blob(e) => {
                tracing::error!(error = %e, "blob store error");
                ApiError::unavailable("an attachment could not be stored durably; nothing was stored")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.0.status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.0.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// Turns a problem+json response into the postal `<Loi>` document (same status and
/// headers), for routes of the postal partner.
pub async fn problem_to_postal_xml(response: Response) -> Response {
    let is_problem =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    let Ok(problem) = serde_json::from_slice::<Problem>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let slug = problem.kind.rsplit(':').next().unwrap_or("error");
    let details: Vec<(String, String)> =
        problem.errors.iter().map(|e| (e.pointer.clone(), e.message.clone())).collect();
    let xml = outbound::error(slug, &problem.detail, &details);
    let headers: &mut HeaderMap = &mut parts.headers;
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(POSTAL_XML));
    headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(xml))
}
