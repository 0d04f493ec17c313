//! Changing a dossier (docs/CONTRACT.md §5, §6): desk progress events through the status
//! machine, and the transitions the gateway makes itself (result delivered by post,
//! accepted by the portal). Every status change of a portal dossier queues a status
//! call to the portal in the same batch, so the portal hears of each change once and
//! in order.

use std::sync::Arc;

use jiff::Timestamp;
use motcua_adapters::desk::{DeskEvent, EventFields};
use motcua_schemas::{Channel, DossierCode, EventType, FieldError, OrderKind, ReturnMethod, TransitionError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::effects::{ShipmentEvent, Shipped};
use super::record::DossierRecord;
use crate::clock::Clock;
use crate::outbox::{self, Destination, JobKind};
use crate::settings::Settings;
use crate::store::{Store, StoreError, Tx, keys};

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// No such dossier for this caller (404).
    #[error("no such dossier")]
    NotFound,
    /// The status machine refuses it (409, with the allowed events).
    #[error(transparent)]
    NotAllowed(#[from] TransitionError),
    /// Its content is invalid for this dossier (422).
    #[error("invalid event")]
    Invalid(Vec<FieldError>),
    /// The event id was used before for a different event (409).
    #[error("{0}")]
    Conflict(String),
    /// The store could not take it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What became of an event.
#[derive(Debug, Clone)]
pub enum EventOutcome {
    /// Applied now.
    Applied(Box<DossierRecord>),
    /// Applied before (same event id, same content): nothing changed.
    Repeated(Box<DossierRecord>),
}

#[derive(Serialize, Deserialize)]
struct AppliedEvent {
    fingerprint: String,
}

fn fingerprint(event: &DeskEvent) -> String {
    let bytes = serde_json::to_vec(event).unwrap_or_default();
    crate::digest::hex(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref())
}

/// A change to record on a dossier: what happened, who did it, when, and what the
/// history keeps of it.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happened.
    pub kind: EventType,
    /// Who did it (a desk, a client, `gateway`, `portal`, `postal`).
    pub actor: String,
    /// When it happened.
    pub at: Timestamp,
    /// Free text.
    pub note: Option<String>,
    /// Event-specific fields.
    pub details: Option<serde_json::Value>,
}

impl Change {
    /// `kind` done by `actor` at `at`.
    pub fn by(actor: &str, kind: EventType, at: Timestamp) -> Change {
        Change { kind, actor: actor.to_owned(), at, note: None, details: None }
    }

    /// With a note.
    pub fn note(mut self, note: impl Into<String>) -> Change {
        self.note = Some(note.into());
        self
    }

    /// With details.
    pub fn details(mut self, details: serde_json::Value) -> Change {
        self.details = Some(details);
        self
    }
}

/// Records `change` on the dossier (history, status) at `now` and tells the portal
/// of it. Returns the history sequence number of the new entry.
pub fn transition(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &mut DossierRecord,
    change: Change,
    now: Timestamp,
) -> Result<u32, EventError> {
    let before = record.dossier.status;
    let after = change.kind.apply(before)?;
    let Change { kind, actor, at, note, details } = change;
    let seq = record.record_event(kind, &actor, at, now, after, note, details);
    crate::notify::changed(tx, settings, &record.dossier, &record.notify, kind, seq, now)?;
    crate::peers::emc::changed(tx, settings, &record.dossier, seq, before != after, now)?;
    let promotion = record.portal.promotion;
    crate::peers::portal::changed(tx, settings, &record.dossier, seq, before != after, promotion, now)?;
    Ok(seq)
}

/// An event error inside a command that only the store can fail: a refused
/// transition there means the record is not what the command expected.
pub fn into_store_error(e: EventError) -> StoreError {
    match e {
        EventError::Store(e) => e,
        other => StoreError::Corrupt(other.to_string()),
    }
}

/// The furthest an apology may move an appointment: a bound on a peer's date, far
/// beyond any extension a procedure allows.
const LONGEST_EXTENSION: jiff::SignedDuration = jiff::SignedDuration::from_hours(5 * 366 * 24);

/// Moves the appointment along with the due time unless an apology set a later one.
fn follow_due(record: &mut DossierRecord, old_due: Timestamp) {
    let d = &mut record.dossier;
    d.due_at = record.deadline.due_at;
    if d.appointment_at == old_due || d.appointment_at < d.due_at {
        d.appointment_at = d.due_at;
    }
}

/// The time an event is recorded at: the desk's own time, which may neither precede
/// the dossier's previous event nor lie ahead of the gateway's clock by more than the
/// allowed skew (docs/DOMAIN.md §8: backdating would rewrite the statistics). Within
/// the skew it is brought into `[previous event, now]`. The skew is between clocks:
/// a desk's events are strictly in the order of its own clock, so one may never
/// precede the same desk's previous event of the dossier (a result before its own
/// "received").
fn reported_time(
    record: &DossierRecord,
    desk: &str,
    event: &DeskEvent,
    settings: &Settings,
    now: Timestamp,
) -> Result<Timestamp, EventError> {
    let skew = jiff::SignedDuration::from_secs(i64::try_from(settings.deadlines.event_clock_skew_secs).unwrap_or(0));
    let own =
        record.dossier.history.iter().filter(|h| h.kind != EventType::Note && h.actor == desk).map(|h| h.at).max();
    if let Some(own) = own
        && event.at < own
    {
        return Err(invalid(
            "/at",
            format!(
                "the event precedes this desk's previous event of the dossier ({})",
                motcua_schemas::time::format_rfc3339(own)
            ),
        ));
    }
    let previous = record.dossier.history.iter().filter(|h| h.kind != EventType::Note).map(|h| h.at).max();
    let latest = now.checked_add(skew).unwrap_or(now);
    if event.at > latest {
        return Err(invalid("/at", "the event lies in the future of the gateway's clock"));
    }
    if let Some(previous) = previous {
        let earliest = previous.checked_sub(skew).unwrap_or(previous);
        if event.at < earliest {
            return Err(invalid(
                "/at",
                format!(
                    "the event precedes the dossier's previous event ({})",
                    motcua_schemas::time::format_rfc3339(previous)
                ),
            ));
        }
        return Ok(event.at.clamp(previous.min(now), now));
    }
    Ok(event.at.min(now))
}

fn invalid(pointer: &str, message: impl Into<String>) -> EventError {
    EventError::Invalid(vec![FieldError::new(pointer, message)])
}

/// Applies a desk's event to dossier `code` in one store command.
pub async fn apply_desk_event(
    store: &Store,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    desk: String,
    code: DossierCode,
    event: DeskEvent,
) -> Result<EventOutcome, EventError> {
    store.write(move |tx| apply(tx, &settings, &desk, &code, event, clock.now())).await?
}

fn apply(
    tx: &mut Tx<'_>,
    settings: &Settings,
    desk: &str,
    code: &DossierCode,
    event: DeskEvent,
    now: Timestamp,
) -> Result<EventOutcome, EventError> {
    // Authorize before anything else is looked up: a dossier this desk does not hold
    // now is unknown to it, whatever the body says (no event id probing, no replay).
    let mut record = DossierRecord::load(tx, code)?.filter(|r| r.dossier.desk == desk).ok_or(EventError::NotFound)?;
    let mark = keys::desk_event(code.as_str(), &event.event_id);
    let fingerprint = fingerprint(&event);
    if let Some(seen) = tx.get_json::<AppliedEvent>(&mark)? {
        return if seen.fingerprint == fingerprint {
            Ok(EventOutcome::Repeated(Box::new(record)))
        } else {
            Err(EventError::Conflict(format!("event_id {} was already used for a different event", event.event_id)))
        };
    }
    let at = reported_time(&record, desk, &event, settings, now)?;
    let old_due = record.deadline.due_at;
    let procedure = settings.catalogue.get(&record.dossier.procedure.code);
    let mut details = serde_json::Map::new();
    details.insert("event_id".into(), event.event_id.clone().into());
    if at != event.at {
        details.insert("reported_at".into(), motcua_schemas::time::format_rfc3339(event.at).into());
    }
    if let Some(officer) = &event.officer {
        details.insert("officer".into(), json!(officer));
    }

    // Check the transition and the digitized components before any side effect.
    event.kind.apply(record.dossier.status)?;
    let held = record.dossier.documents.len();
    if let Some(i) = event.digitized.iter().position(|(n, _)| *n as usize > held) {
        return Err(invalid(&format!("/digitized/{i}/document"), format!("the dossier holds {held} documents")));
    }
    for (n, marks) in &event.digitized {
        if let Some(doc) = record.dossier.documents.get_mut((*n as usize).saturating_sub(1)) {
            let d = &mut doc.digitization;
            d.digitized |= marks.digitized;
            d.reused |= marks.reused;
            d.from_national_store |= marks.from_national_store;
        }
    }
    if !event.digitized.is_empty() {
        let marked: Vec<u32> = event.digitized.iter().map(|(n, _)| *n).collect();
        details.insert("digitized".into(), json!(marked));
    }
    if event.kind == EventType::PaymentReceived {
        let today = motcua_schemas::time::to_vn(now).date();
        crate::stats::update(tx, &record.dossier.target_unit, today, |s| s.paid_at_desk += 1)?;
    }
    match &event.fields {
        EventFields::None => {}
        EventFields::Reason(reason) => {
            details.insert("reason".into(), reason.clone().into());
        }
        EventFields::Items(items) => {
            details.insert("items".into(), json!(items));
        }
        EventFields::Amount(amount) => {
            details.insert("amount".into(), (*amount).into());
            let today = motcua_schemas::time::to_vn(now).date();
            crate::stats::update(tx, &record.dossier.target_unit, today, |s| s.payments_requested += 1)?;
            if settings.payment.is_some() {
                let opened = super::payments::open(tx, settings, &mut record, *amount, now);
                match opened {
                    Ok(reference) => {
                        details.insert("payment_reference".into(), reference.into());
                    }
                    // A payment still open is the one the applicant pays.
                    Err(super::payments::OpenError::AlreadyOpen(reference)) => {
                        details.insert("payment_reference".into(), reference.into());
                    }
                    Err(super::payments::OpenError::Store(e)) => return Err(e.into()),
                    Err(e) => return Err(invalid("/amount", e.to_string())),
                }
            }
        }
        EventFields::Result { documents, return_method } => {
            if let Some(method) = return_method {
                if *method == ReturnMethod::Post && record.dossier.return_address.is_none() {
                    return Err(invalid("/return_method", "the dossier has no return address for a result by post"));
                }
                if *method == ReturnMethod::Online && record.dossier.channel != Channel::Portal {
                    return Err(invalid("/return_method", "only portal dossiers can receive their result online"));
                }
                record.dossier.return_method = *method;
            }
            if record.dossier.return_method == ReturnMethod::Post && settings.postal.is_none() {
                return Err(invalid("/return_method", "no postal service is configured to return the result"));
            }
            details.insert("result_documents".into(), json!(documents));
            details.insert("return_method".into(), json!(record.dossier.return_method));
        }
        EventFields::Apology { new_appointment, reason } => {
            if *new_appointment <= now {
                return Err(invalid("/new_appointment", "the new appointment must lie in the future"));
            }
            if *new_appointment > now.checked_add(LONGEST_EXTENSION).unwrap_or(now) {
                return Err(invalid("/new_appointment", "the new appointment may lie at most five years ahead"));
            }
            record.dossier.appointment_at = *new_appointment;
            details.insert("new_appointment".into(), motcua_schemas::time::format_rfc3339(*new_appointment).into());
            details.insert("reason".into(), reason.clone().into());
            record.compliance.apologies += 1;
            let n = record.compliance.apologies;
            details.insert("letter".into(), n.into());
            match record.dossier.channel {
                Channel::Portal => {
                    crate::peers::portal::apology(tx, settings, &record.dossier, n, now)?;
                }
                Channel::Postal => {
                    crate::peers::post::order(tx, settings, &mut record.dossier, OrderKind::Letter, n, now)?;
                }
            }
        }
        EventFields::Explanation(text) => {
            details.insert("text".into(), text.clone().into());
            record.compliance.explained = true;
        }
        EventFields::Forward(unit) => {
            let levels = procedure.map(|p| p.levels.clone()).unwrap_or_default();
            let route = settings
                .network
                .route(unit, None, &levels, motcua_schemas::time::to_vn(now).date())
                .map_err(|e| invalid("/unit", e.to_string()))?;
            if route.desk == record.dossier.desk {
                return Err(invalid("/unit", format!("unit {unit} is served by this desk already")));
            }
            details.insert("from_desk".into(), record.dossier.desk.clone().into());
            details.insert("to_desk".into(), route.desk.clone().into());
            details.insert("unit".into(), unit.to_string().into());
            details.insert("route".into(), json!(route.steps));
            record.dossier.desk = route.desk.clone();
            record.dossier.target_unit = route.target.clone();
            outbox::enqueue(tx, Destination::Desk(route.desk), JobKind::Deliver, code, now)?;
        }
    }
    match event.kind {
        EventType::SupplementRequested => record.deadline.pause(&settings.calendar, at),
        EventType::SupplementReceived => {
            if let Some(p) = procedure {
                record.deadline.resume(&settings.calendar, at, p.supplement, p.processing, p.cutoff);
            }
            follow_due(&mut record, old_due);
        }
        _ => {}
    }
    let details: serde_json::Value = details.into();
    let mut change = Change::by(desk, event.kind, at).details(details.clone());
    change.note = event.note.clone();
    transition(tx, settings, &mut record, change, now)?;
    // The form the event calls for (02, 03, 04, 05, 06) is issued with it.
    if let Some(document) = crate::forms::issue_for_event(
        &record.dossier,
        &record.documents,
        settings,
        event.kind,
        Some(&details),
        event.note.as_deref(),
        at,
    ) {
        record.documents.push(document);
    }
    if event.kind == EventType::ResultReady && record.dossier.return_method == ReturnMethod::Post {
        crate::peers::post::order(tx, settings, &mut record.dossier, OrderKind::Return, 0, now)?;
    }
    // Papers the post has not picked up yet need not travel any more.
    if matches!(event.kind, EventType::Withdrawn | EventType::Refused | EventType::Stopped) {
        crate::peers::post::cancel_open(tx, settings, &record.dossier, now)?;
    }
    record.save(tx, settings, now)?;
    tx.put_json(&mark, &AppliedEvent { fingerprint })?;
    Ok(EventOutcome::Applied(Box::new(record)))
}

/// Whether a history entry is a gateway note of this `mark` (delivered, overdue, …).
pub fn has_mark(record: &DossierRecord, mark: &str) -> bool {
    record
        .dossier
        .history
        .iter()
        .any(|h| h.details.as_ref().and_then(|d| d.get("mark")).and_then(|m| m.as_str()) == Some(mark))
}

/// Adds a gateway note without a status change.
pub fn note(record: &mut DossierRecord, now: Timestamp, text: String, details: serde_json::Value) -> u32 {
    let status = record.dossier.status;
    record.record_event(EventType::Note, "gateway", now, now, status, Some(text), Some(details))
}

/// What a postal delivery event did.
#[derive(Debug, Clone)]
pub struct PostalEventOutcome {
    /// The dossier the shipment belongs to.
    pub code: DossierCode,
    /// Its status afterwards.
    pub status: motcua_schemas::Status,
    /// True when the same event had been applied before.
    pub repeated: bool,
}

/// Applies a delivery event of a result shipment (docs/CONTRACT.md §4): `DELIVERED` moves
/// the dossier from 9 to 10; `FAILED` and `RETURNED` keep it at 9 and flag it for its
/// desk; every event is recorded. Idempotent on (item, status, time).
pub async fn apply_postal_event(
    store: &Store,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    event: motcua_adapters::postal::PostalEvent,
) -> Result<PostalEventOutcome, EventError> {
    store.write(move |tx| apply_postal(tx, &settings, &event, clock.now())).await?
}

fn apply_postal(
    tx: &mut Tx<'_>,
    settings: &Settings,
    event: &motcua_adapters::postal::PostalEvent,
    now: Timestamp,
) -> Result<PostalEventOutcome, EventError> {
    use motcua_adapters::postal::DeliveryStatus;
    let code = tx.get(&keys::item(event.item.as_str()))?.ok_or(EventError::NotFound)?;
    let code: DossierCode =
        String::from_utf8_lossy(&code).parse().map_err(|_| StoreError::Corrupt("item index".into()))?;
    let mut record = DossierRecord::load(tx, &code)?.ok_or(EventError::NotFound)?;
    let mark = keys::postal_event(event.item.as_str(), event.status.as_str(), event.at.as_second());
    if tx.get(&mark)?.is_some() {
        return Ok(PostalEventOutcome { code, status: record.dossier.status, repeated: true });
    }
    // A shipment's event cannot precede the dossier it carries, nor lie beyond the
    // clock (a result "delivered in 1970" would close the dossier in the past).
    let skew = jiff::SignedDuration::from_secs(i64::try_from(settings.deadlines.event_clock_skew_secs).unwrap_or(0));
    let earliest = record.dossier.received_at.checked_sub(skew).unwrap_or(record.dossier.received_at);
    if event.at < earliest || event.at > now.checked_add(skew).unwrap_or(now) {
        return Err(invalid(
            "/SuKienBuuGui/At",
            "the event's time lies before the dossier was received or beyond the gateway's clock",
        ));
    }
    let at = event.at.min(now);
    let status_text = event.status.as_str();
    let details = json!({ "mark": "shipment", "item": event.item, "delivery_status": status_text });
    let is_result = record.dossier.postal.return_item.as_ref() == Some(&event.item);
    let letter = record.dossier.postal.letters.iter_mut().find(|l| l.item_code.as_ref() == Some(&event.item));
    let (carries, reference) = if let Some(letter) = letter {
        letter.status = Some(status_text.to_owned());
        (OrderKind::Letter, letter.order_code.clone())
    } else if is_result {
        record.dossier.postal.return_status = Some(status_text.to_owned());
        (OrderKind::Return, event.item.to_string())
    } else {
        record.save(tx, settings, now)?;
        tx.put(&mark, Vec::new());
        return Ok(PostalEventOutcome { code, status: record.dossier.status, repeated: false });
    };
    let shipped = match event.status {
        DeliveryStatus::Delivered => Shipped::Delivered,
        DeliveryStatus::Failed | DeliveryStatus::Returned => Shipped::Undeliverable,
        _ => Shipped::Other,
    };
    let words = event.note.clone().unwrap_or_else(|| match shipped {
        Shipped::Undeliverable => "Bưu điện không phát được kết quả".to_owned(),
        _ => status_text.to_owned(),
    });
    let shipment = ShipmentEvent { shipped, carries, reference, at, words, details };
    super::effects::shipment(tx, settings, &mut record, shipment, now)?;
    record.save(tx, settings, now)?;
    tx.put(&mark, Vec::new());
    Ok(PostalEventOutcome { code, status: record.dossier.status, repeated: false })
}

/// Records the applicant's rating (1–3): once, and only once the result is ready.
pub fn rate(
    tx: &mut Tx<'_>,
    settings: &Settings,
    code: &DossierCode,
    level: u8,
    now: Timestamp,
) -> Result<DossierRecord, EventError> {
    let mut record = DossierRecord::load(tx, code)?.ok_or(EventError::NotFound)?;
    if record.dossier.rating.is_some() {
        return Err(EventError::Conflict("this dossier has been rated already".into()));
    }
    if !matches!(record.dossier.status, motcua_schemas::Status::Processed | motcua_schemas::Status::Returned) {
        return Err(EventError::Conflict("a rating is accepted once the result is ready (status 9 or 10)".into()));
    }
    record.dossier.rating = Some(level);
    let label = ["Không hài lòng", "Hài lòng", "Rất hài lòng"][usize::from(level - 1)];
    note(&mut record, now, format!("Đánh giá của người nộp: {label}"), json!({ "mark": "rating", "level": level }));
    record.save(tx, settings, now)?;
    Ok(record)
}
