//! One-stop desks (docs/CONTRACT.md §5): progress events in; dossiers and notices pushed to
//! a push desk out, with the gateway's token and an idempotency key the desk
//! de-duplicates on.

use jiff::Timestamp;
use motcua_schemas::{Digitization, Document, EventType, FieldError, ReturnMethod, UnitCode, time::parse_peer_rfc3339};
use serde::Deserialize;

use crate::check::{Checker, MAX_DOCUMENTS, MAX_NAME, MAX_TEXT};
use crate::outbound::{CallOutcome, call};
use crate::{InboundError, json};

/// The fields an event type carries (docs/CONTRACT.md §5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventFields {
    /// No fields beyond the note.
    None,
    /// `refused`, `stopped`: why.
    Reason(String),
    /// `supplement_requested`: what is missing.
    Items(Vec<String>),
    /// `payment_requested`: how much, in đồng.
    Amount(u64),
    /// `result_ready`: the result, and optionally a changed return method.
    Result {
        /// The result documents.
        documents: Vec<Document>,
        /// A return method other than the one the applicant chose.
        return_method: Option<ReturnMethod>,
    },
    /// `apology`: the new appointment and why.
    Apology {
        /// The new appointment.
        #[serde(with = "motcua_schemas::time::rfc3339")]
        new_appointment: Timestamp,
        /// Why the dossier is late.
        reason: String,
    },
    /// `explanation`: the explanation report.
    Explanation(String),
    /// `forward`: the unit that takes over.
    Forward(UnitCode),
}

/// A progress event posted by a desk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeskEvent {
    /// The desk's id for the event (idempotency key).
    pub event_id: String,
    /// What happened.
    pub kind: EventType,
    /// When it happened.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub at: Timestamp,
    /// A free-text note.
    pub note: Option<String>,
    /// Type-specific fields.
    pub fields: EventFields,
    /// Who did it, for the national portal's progress steps (docs/PEERS.md §1.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub officer: Option<Officer>,
    /// Submitted components digitized with this step: each by its position in the
    /// dossier's `documents`, from 1 (docs/CONTRACT.md §5, "Digitization").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub digitized: Vec<(u32, Digitization)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMark {
    document: i64,
    #[serde(default)]
    digitized: bool,
    #[serde(default)]
    reused: bool,
    #[serde(default)]
    from_national_store: bool,
}

/// The officer who did a step: the portal's `NguoiXuLy`, `ChucDanh`, `PhongBanXuLy`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Officer {
    /// Full name (at most 50 characters, as the portal keeps it).
    pub name: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOfficer {
    name: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

/// The longest officer name the portal keeps (docs/PEERS.md §1.6).
pub const MAX_OFFICER_NAME: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    at: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    items: Option<Vec<String>>,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    result_documents: Option<Vec<RawDocument>>,
    #[serde(default)]
    return_method: Option<String>,
    #[serde(default)]
    new_appointment: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    officer: Option<RawOfficer>,
    #[serde(default)]
    digitized: Vec<RawMark>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    digitized: bool,
    #[serde(default)]
    reused: bool,
    #[serde(default)]
    from_national_store: bool,
}

fn required<'a>(c: &mut Checker, value: &'a Option<String>, pointer: &str) -> Option<&'a str> {
    let v = value.as_deref().filter(|v| !v.trim().is_empty());
    if v.is_none() {
        c.fail(pointer, "is required for this event type");
    }
    v
}

/// Parses a desk event (`POST /v1/desk/dossiers/{code}/events`).
pub fn parse_event(body: &[u8], max_depth: usize) -> Result<DeskEvent, InboundError> {
    let raw: RawEvent = json::from_slice(body, max_depth)?;
    let mut c = Checker::default();
    let event_id = c.text("/event_id", &raw.event_id, 128);
    let kind: Option<EventType> = c.parse("/type", &raw.kind);
    let at = parse_peer_rfc3339(raw.at.trim())
        .map_err(|_| c.fail("/at", "must be an RFC 3339 time with offset, in the years 2000–2099"))
        .ok();
    let note = c.opt_text("/note", raw.note.as_deref(), MAX_TEXT);
    let fields = match kind {
        Some(EventType::Refused | EventType::Stopped) => {
            required(&mut c, &raw.reason, "/reason").map(|r| EventFields::Reason(c.text("/reason", r, MAX_TEXT)))
        }
        Some(EventType::SupplementRequested) => match &raw.items {
            Some(items) if !items.is_empty() && items.len() <= MAX_DOCUMENTS => Some(EventFields::Items(
                items.iter().enumerate().map(|(i, item)| c.text(format_args!("/items/{i}"), item, MAX_NAME)).collect(),
            )),
            _ => {
                c.fail("/items", format!("list from 1 to {MAX_DOCUMENTS} missing items"));
                None
            }
        },
        Some(EventType::PaymentRequested) => match raw.amount {
            Some(a) if (1..=1_000_000_000_000).contains(&a) => Some(EventFields::Amount(a as u64)),
            _ => {
                c.fail("/amount", "an amount in đồng from 1 to 1,000,000,000,000 is required");
                None
            }
        },
        Some(EventType::ResultReady) => {
            let documents = raw.result_documents.as_deref().unwrap_or_default();
            if documents.len() > MAX_DOCUMENTS {
                c.fail("/result_documents", format!("at most {MAX_DOCUMENTS} documents"));
            }
            let documents = documents
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let at = format!("/result_documents/{i}");
                    if let Some(u) = &d.url
                        && !(u.starts_with("https://") || u.starts_with("http://"))
                    {
                        c.fail(format!("{at}/url"), "must be an http(s) URL");
                    }
                    if let Some(h) = &d.sha256
                        && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
                    {
                        c.fail(format!("{at}/sha256"), "must be a SHA-256 in hex");
                    }
                    Document {
                        name: c.text(format_args!("{at}/name"), &d.name, MAX_NAME),
                        component: None,
                        url: d.url.clone(),
                        sha256: d.sha256.as_ref().map(|h| h.to_ascii_lowercase()),
                        size: d.size,
                        pages: None,
                        stored: false,
                        digitization: Digitization {
                            digitized: d.digitized,
                            reused: d.reused,
                            from_national_store: d.from_national_store,
                        },
                    }
                })
                .collect();
            let return_method = raw.return_method.as_deref().and_then(|m| match m {
                "desk" => Some(ReturnMethod::Desk),
                "post" => Some(ReturnMethod::Post),
                "online" => Some(ReturnMethod::Online),
                _ => {
                    c.fail("/return_method", "must be desk, post or online");
                    None
                }
            });
            Some(EventFields::Result { documents, return_method })
        }
        Some(EventType::Apology) => {
            let appointment = required(&mut c, &raw.new_appointment, "/new_appointment").and_then(|t| {
                parse_peer_rfc3339(t.trim())
                    .map_err(|_| c.fail("/new_appointment", "must be an RFC 3339 time with offset"))
                    .ok()
            });
            let reason = required(&mut c, &raw.reason, "/reason").map(|r| c.text("/reason", r, MAX_TEXT));
            match (appointment, reason) {
                (Some(new_appointment), Some(reason)) => Some(EventFields::Apology { new_appointment, reason }),
                _ => None,
            }
        }
        Some(EventType::Explanation) => {
            required(&mut c, &raw.text, "/text").map(|t| EventFields::Explanation(c.text("/text", t, 10 * MAX_TEXT)))
        }
        Some(EventType::Forward) => {
            required(&mut c, &raw.unit, "/unit").and_then(|u| c.parse("/unit", u)).map(EventFields::Forward)
        }
        Some(_) => Some(EventFields::None),
        None => None,
    };
    if raw.digitized.len() > MAX_DOCUMENTS {
        c.fail("/digitized", format!("at most {MAX_DOCUMENTS} documents"));
    }
    let mut digitized = Vec::new();
    for (i, mark) in raw.digitized.iter().enumerate().take(MAX_DOCUMENTS) {
        let flags = Digitization {
            digitized: mark.digitized,
            reused: mark.reused,
            from_national_store: mark.from_national_store,
        };
        match u32::try_from(mark.document) {
            Ok(n) if (1..=MAX_DOCUMENTS as u32).contains(&n) && !flags.is_unmarked() => digitized.push((n, flags)),
            Ok(n) if (1..=MAX_DOCUMENTS as u32).contains(&n) => {
                c.fail(format!("/digitized/{i}"), "mark digitized, reused or from_national_store")
            }
            _ => c.fail(format!("/digitized/{i}/document"), format!("a document position from 1 to {MAX_DOCUMENTS}")),
        }
    }
    let officer = raw.officer.as_ref().map(|o| Officer {
        name: c.text("/officer/name", &o.name, MAX_OFFICER_NAME),
        title: c.opt_text("/officer/title", o.title.as_deref(), MAX_NAME),
        department: c.opt_text("/officer/department", o.department.as_deref(), MAX_NAME),
    });
    let (Some(kind), Some(at), Some(fields), true) = (kind, at, fields, c.is_clean()) else {
        c.finish()?;
        return Err(InboundError::Invalid(vec![FieldError::new("", "the event is incomplete")]));
    };
    Ok(DeskEvent { event_id, kind, at, note, fields, officer, digitized })
}

/// `POST {base}/v1/dossiers` with the dossier and `Idempotency-Key: <code>`.
pub async fn push_dossier<T: serde::Serialize + ?Sized>(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    code: &str,
    dossier: &T,
) -> CallOutcome {
    let request =
        client.post(format!("{base}/v1/dossiers")).bearer_auth(token).header("idempotency-key", code).json(dossier);
    call(request).await
}

/// `POST {base}/v1/notices` with the notice and `Idempotency-Key: notice-<id>`.
pub async fn push_notice(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: u64,
    notice: &serde_json::Value,
) -> CallOutcome {
    let request = client
        .post(format!("{base}/v1/notices"))
        .bearer_auth(token)
        .header("idempotency-key", format!("notice-{id}"))
        .json(notice);
    call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<DeskEvent, InboundError> {
        parse_event(v.to_string().as_bytes(), 32)
    }

    fn pointers(v: serde_json::Value) -> Vec<String> {
        match parse(v) {
            Err(InboundError::Invalid(e)) => e.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn events_with_their_fields() {
        let e = parse(serde_json::json!({"event_id": "e1", "type": "received", "at": "2026-11-26T08:00:00+07:00"}))
            .unwrap();
        assert_eq!((e.kind, e.fields), (EventType::Received, EventFields::None));
        let e = parse(serde_json::json!({"event_id": "e2", "type": "supplement_requested", "at": "2026-11-26T08:00:00+07:00", "items": ["Giấy chứng sinh"]})).unwrap();
        assert_eq!(e.fields, EventFields::Items(vec!["Giấy chứng sinh".into()]));
        let e = parse(serde_json::json!({"event_id": "e3", "type": "forward", "at": "2026-11-26T08:00:00+07:00", "unit": "04252"})).unwrap();
        assert_eq!(e.fields, EventFields::Forward("04252".parse().unwrap()));
        let e = parse(serde_json::json!({"event_id": "e4", "type": "result_ready", "at": "2026-11-26T08:00:00+07:00",
            "result_documents": [{"name": "Giấy khai sinh", "url": "https://desk.example.vn/r/1"}], "return_method": "post"})).unwrap();
        assert!(
            matches!(e.fields, EventFields::Result { ref documents, return_method: Some(ReturnMethod::Post) } if documents.len() == 1)
        );
    }

    #[test]
    fn missing_fields_and_unknown_types_are_located() {
        assert_eq!(
            pointers(serde_json::json!({"event_id": "e", "type": "refused", "at": "2026-11-26T08:00:00+07:00"})),
            ["/reason"]
        );
        assert_eq!(
            pointers(serde_json::json!({"event_id": "e", "type": "payment_requested", "at": "x"})),
            ["/at", "/amount"]
        );
        assert_eq!(
            pointers(serde_json::json!({"event_id": "", "type": "teleported", "at": "2026-11-26T08:00:00+07:00"})),
            ["/event_id", "/type"]
        );
        assert_eq!(
            pointers(
                serde_json::json!({"event_id": "e", "type": "apology", "at": "2026-11-26T08:00:00+07:00", "new_appointment": "soon"})
            ),
            ["/new_appointment", "/reason"]
        );
    }
}
