//! Intake endpoints (docs/CONTRACT.md §3, §4): portal JSON and postal XML in, one accepted
//! dossier out, answered only after it is durable.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use motcua_adapters::{portal, postal};
use motcua_schemas::FieldError;

use super::{
    body::{self, MediaType},
    caller::Caller,
    error::{ApiError, POSTAL_XML},
};
use crate::app::App;
use crate::dossiers::{
    DossierRecord,
    intake::{self, IntakeOutcome, Submission},
    json::{DossierJson, served_bytes},
    served,
};
use crate::metrics::IntakeLabels;

fn location(record: &DossierRecord) -> HeaderValue {
    HeaderValue::from_str(&format!("/v1/dossiers/{}", record.dossier.code))
        .unwrap_or(HeaderValue::from_static("/v1/dossiers"))
}

fn split(app: &App, outcome: IntakeOutcome) -> (StatusCode, Box<DossierRecord>, Option<DossierJson>) {
    let (status, record, json, label) = match outcome {
        IntakeOutcome::Created(record, json) => (StatusCode::CREATED, record, json, "created"),
        IntakeOutcome::Repeated(record) => (StatusCode::OK, record, None, "repeated"),
        IntakeOutcome::Updated(record) => (StatusCode::OK, record, None, "updated"),
    };
    let labels = IntakeLabels { channel: record.dossier.channel.as_str().to_owned(), outcome: label.to_owned() };
    app.metrics.intake.get_or_create(&labels).inc();
    (status, record, json)
}

/// An XML answer to the postal partner.
fn xml_reply(status: StatusCode, xml: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(POSTAL_XML))], xml).into_response()
}

/// `POST /v1/portal/dossiers`.
pub async fn portal(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let settings = app.settings();
    let bytes = body::read(&headers, body, MediaType::Json, settings.limits.body_bytes).await?;
    let parsed = portal::parse_dossier(&bytes, settings.limits.json_depth)?;
    if let Some(key) = headers.get("idempotency-key")
        && key.as_bytes() != parsed.intake.external_ref.as_bytes()
    {
        return Err(ApiError::invalid(vec![FieldError::new(
            "/MaHoSoCongDVC",
            "the Idempotency-Key header must equal MaHoSoCongDVC",
        )]));
    }
    intake::check(&settings, &parsed.intake).map_err(ApiError::invalid)?;
    let submission = Submission {
        intake: parsed.intake,
        applicant_commune: parsed.applicant_commune,
        inbound_item: None,
        contents: parsed.contents,
        client_id: caller.client.id.clone(),
        portal: None,
        updates: false,
    };
    let (status, record, json) =
        split(&app, intake::submit(&app.store, settings.clone(), app.clock.clone(), submission).await?);
    let mut response = if prefers_minimal(&headers) {
        let mut minimal = json_response(status, &Accepted::of(&record));
        minimal.headers_mut().insert(PREFERENCE_APPLIED, HeaderValue::from_static("return=minimal"));
        minimal
    } else {
        let served = served(&record, &settings);
        // The dossier's JSON as the writer encoded it, rather than serialized again.
        match json.as_ref().and_then(DossierJson::dossier).and_then(|d| served_bytes(d, &served.receipt, None)) {
            Some(body) => json_body(status, body),
            None => json_response(status, &served),
        }
    };
    response.headers_mut().insert(header::LOCATION, location(&record));
    Ok(response)
}

/// `Preference-Applied` (RFC 7240 §3).
const PREFERENCE_APPLIED: header::HeaderName = header::HeaderName::from_static("preference-applied");

/// Whether the caller asked for `return=minimal` in any `Prefer` field (RFC 7240 §2: a
/// list of preferences, each a token with an optional, possibly quoted value and
/// parameters after `;`; names and this value compare case-insensitively).
fn prefers_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|preference| preference.split(';').next())
        .filter_map(|preference| preference.split_once('='))
        .any(|(name, value)| {
            name.trim().eq_ignore_ascii_case("return") && value.trim().trim_matches('"').eq_ignore_ascii_case("minimal")
        })
}

/// The answer to a caller that prefers `return=minimal`: what the dossier became, without
/// serializing the whole of it (docs/CONTRACT.md §3).
#[derive(serde::Serialize)]
struct Accepted<'a> {
    code: &'a str,
    status: motcua_schemas::Status,
    status_name: &'a str,
    #[serde(with = "motcua_schemas::time::rfc3339")]
    due_at: jiff::Timestamp,
    #[serde(with = "motcua_schemas::time::rfc3339")]
    appointment_at: jiff::Timestamp,
}

impl<'a> Accepted<'a> {
    fn of(record: &'a DossierRecord) -> Self {
        let dossier = &record.dossier;
        Accepted {
            code: dossier.code.as_str(),
            status: dossier.status,
            status_name: &dossier.status_name,
            due_at: dossier.due_at,
            appointment_at: dossier.appointment_at,
        }
    }
}

/// `answer` as the JSON body, written at once into a buffer of a served dossier's size.
fn json_response(status: StatusCode, answer: &impl serde::Serialize) -> Response {
    let mut body = Vec::with_capacity(SERVED_JSON_BYTES);
    match serde_json::to_writer(&mut body, answer) {
        Ok(()) => json_body(status, body),
        Err(_) => ApiError::internal().into_response(),
    }
}

/// `body`, JSON already written, as the answer.
fn json_body(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// What a served dossier's JSON takes at intake, about.
const SERVED_JSON_BYTES: usize = 8 * 1024;

/// `POST /v1/postal/dossiers`.
pub async fn postal(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let settings = app.settings();
    let bytes = body::read(&headers, body, MediaType::Xml, settings.limits.body_bytes).await?;
    let parsed = postal::parse_dossier(&bytes, settings.limits.xml_depth)?;
    intake::check(&settings, &parsed.intake).map_err(ApiError::invalid)?;
    let submission = Submission {
        intake: parsed.intake,
        applicant_commune: parsed.applicant_commune,
        inbound_item: Some(parsed.item),
        contents: Vec::new(),
        client_id: caller.client.id.clone(),
        portal: None,
        updates: false,
    };
    let (status, record, _) = split(&app, intake::submit(&app.store, settings, app.clock.clone(), submission).await?);
    let xml =
        postal::outbound::intake_reply(&record.dossier.code, record.dossier.status, record.dossier.appointment_at);
    let mut response = xml_reply(status, xml);
    response.headers_mut().insert(header::LOCATION, location(&record));
    Ok(response)
}

/// `POST /v1/postal/events`: a delivery event of a shipment the gateway ordered.
pub async fn postal_event(
    State(app): State<Arc<App>>,
    _: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let settings = app.settings();
    let bytes = body::read(&headers, body, MediaType::Xml, settings.limits.body_bytes).await?;
    let event = postal::parse_event(&bytes, settings.limits.xml_depth)?;
    let outcome = crate::dossiers::events::apply_postal_event(&app.store, settings, app.clock.clone(), event)
        .await
        .map_err(|e| match e {
            crate::dossiers::events::EventError::NotFound => {
                ApiError::not_found("no shipment with this item code was ordered by the gateway")
            }
            other => other.into(),
        })?;
    let xml = postal::outbound::event_reply(&outcome.code, outcome.status);
    Ok(xml_reply(StatusCode::OK, xml))
}
