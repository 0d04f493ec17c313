//! Accepting a dossier (docs/ARCHITECTURE.md §1): check it against the configuration, then in one
//! store command assign its code, route it, start its clock, and write it together
//! with its idempotency key and its delivery job.

use std::sync::Arc;

use jiff::Timestamp;
use motcua_schemas::{
    AgencyCode, Channel, Deadline, Dossier, DossierCode, EventType, FieldError, HistoryEntry, InlineContent, Intake,
    OrderKind, OrderState, PostalInfo, ReturnAddress, ReturnMethod, S10ItemCode, Status, UnitCode, time::to_vn,
};
use serde::{Deserialize, Serialize};

use super::json::DossierJson;
use super::record::DossierRecord;
use crate::catalogue::Procedure;
use crate::clock::Clock;
use crate::outbox::{self, Destination, JobKind};
use crate::settings::Settings;
use crate::store::{Key, Store, StoreError, Tx, keys};

/// A normalized submission ready to be accepted.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The intake.
    pub intake: Intake,
    /// The applicant's commune (routing of dossiers for a retired district).
    pub applicant_commune: Option<UnitCode>,
    /// The inbound shipment of a postal dossier.
    pub inbound_item: Option<S10ItemCode>,
    /// Inline contents, written to the blob store first.
    pub contents: Vec<InlineContent>,
    /// The submitting client.
    pub client_id: String,
    /// For a dossier from the national portal: its code there and the record's
    /// fields the gateway does not read.
    pub portal: Option<super::record::PortalState>,
    /// Whether a portal dossier given again with other content updates the stored one
    /// (a pull, or a push that says `isUpdating`); otherwise it is a duplicate and
    /// changes nothing.
    pub updates: bool,
}

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Its content does not fit the configuration (422).
    #[error("invalid dossier")]
    Invalid(Vec<FieldError>),
    /// It conflicts with a stored dossier (409).
    #[error("{0}")]
    Conflict(String),
    /// It names a dossier another client submitted: a peer may update only what it
    /// submitted itself.
    #[error("the dossier was submitted by another client")]
    NotYours,
    /// The store could not take it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An inline attachment could not be stored durably.
    #[error("cannot store an attachment: {0}")]
    Blob(std::io::Error),
}

/// What became of an accepted submission.
#[derive(Debug, Clone)]
pub enum IntakeOutcome {
    /// A new dossier (201), with its JSON as written when it could be kept.
    Created(Box<DossierRecord>, Option<DossierJson>),
    /// The same submission again: the dossier it created (200).
    Repeated(Box<DossierRecord>),
    /// A new version of a dossier from the national portal, taken as an update.
    Updated(Box<DossierRecord>),
}

#[derive(Serialize, Deserialize)]
struct IdempotencyEntry {
    code: DossierCode,
}

fn idempotency_key(submission: &Submission) -> Key {
    if let Some(code) = submission.portal.as_ref().and_then(|p| p.origin_code.as_ref()) {
        // The national portal's code names the dossier whichever way it came in.
        return keys::portal_submission(code);
    }
    match submission.intake.channel {
        Channel::Portal => keys::contract_submission(&submission.client_id, &submission.intake.external_ref),
        Channel::Postal => keys::postal_submission(&submission.intake.external_ref),
    }
}

/// SHA-256 over the normalized submission: equal for "the same body" (docs/CONTRACT.md §0).
pub fn fingerprint(intake: &Intake, applicant_commune: Option<&UnitCode>) -> String {
    let mut ctx = crate::digest::Sha256Json::new(b"");
    // An intake always serializes: its maps have string keys.
    let _ = ctx.json(intake);
    ctx.update(applicant_commune.map(UnitCode::as_str).unwrap_or("").as_bytes());
    crate::digest::hex(ctx.finish().as_ref())
}

/// Checks a submission against the configuration: a known procedure that allows its
/// channel, and a known unit.
pub fn check<'s>(settings: &'s Settings, intake: &Intake) -> Result<&'s Procedure, Vec<FieldError>> {
    let mut errors = Vec::new();
    let procedure = settings.catalogue.get(&intake.procedure.code);
    match procedure {
        None => errors.push(FieldError::new(
            &intake.pointers.procedure,
            format!("procedure {} is not in the catalogue", intake.procedure.code),
        )),
        Some(p) if !p.channels.contains(&intake.channel) => errors.push(FieldError::new(
            &intake.pointers.procedure,
            format!("procedure {} is not accepted through the {} channel", p.code, intake.channel.as_str()),
        )),
        Some(_) => {}
    }
    if !settings.network.knows(&intake.requested_unit) {
        errors.push(FieldError::new(&intake.pointers.unit, format!("unit {} is not known", intake.requested_unit)));
    }
    match procedure {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(errors),
    }
}

/// Accepts a submission: blobs first (so a stored hash always has its file), then
/// one store command. Answers only after the commit that covers it.
pub async fn submit(
    store: &Store,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    submission: Submission,
) -> Result<IntakeOutcome, IntakeError> {
    let mut fingerprint = fingerprint(&submission.intake, submission.applicant_commune.as_ref());
    if let Some(portal) = submission.portal.as_ref().filter(|p| !p.extra.is_empty()) {
        let extra = serde_json::to_vec(&portal.extra).unwrap_or_default();
        let digest = ring::digest::digest(&ring::digest::SHA256, &[fingerprint.as_bytes(), &extra].concat());
        fingerprint = crate::digest::hex(digest.as_ref());
    }
    let mut claims = Vec::new();
    if !submission.contents.is_empty() {
        let blobs = store.blobs().clone();
        let contents = submission.contents.clone();
        let hashes: Vec<String> = contents
            .iter()
            .map(|c| submission.intake.documents.get(c.document).and_then(|d| d.sha256.clone()).unwrap_or_default())
            .collect();
        claims = tokio::task::spawn_blocking(move || {
            let mut claims = Vec::new();
            for (content, hash) in contents.iter().zip(hashes) {
                match blobs.put_claimed(&hash, &content.bytes) {
                    Ok(claim) => claims.push(claim),
                    Err(e) => {
                        blobs.settle(claims, false);
                        return Err(e);
                    }
                }
            }
            Ok(claims)
        })
        .await
        .map_err(|e| IntakeError::Blob(std::io::Error::other(e)))?
        .map_err(IntakeError::Blob)?;
    }
    // Whether it was given before is the one read every submission makes.
    let reads = vec![idempotency_key(&submission)];
    let outcome =
        store.write_reading(reads, move |tx| accept(tx, &settings, submission, fingerprint, clock.now())).await;
    // A refused dossier leaves no attachment behind.
    store.blobs().settle(claims, matches!(outcome, Ok(Ok(_))));
    outcome?
}

/// Whether the result has left the desk: returned, or on its way by post. From then
/// on where it goes can no longer change.
pub fn result_left(record: &DossierRecord) -> bool {
    let d = &record.dossier;
    d.status.is_final()
        || d.postal.return_item.is_some()
        || d.postal.orders.iter().any(|o| o.kind == OrderKind::Return && o.state != OrderState::Cancelled)
        || (d.status == Status::Processed && d.return_method == ReturnMethod::Post)
}

/// A return method and address as the history records them.
fn where_it_goes(method: ReturnMethod, address: Option<&ReturnAddress>) -> serde_json::Value {
    serde_json::json!({ "return_method": method, "return_address": address })
}

/// Takes a new version of a dossier the national portal sent again: what the
/// applicant may change (contact, documents, fees, return address, the fields the
/// gateway does not read) is replaced, the change is recorded in the history with the
/// fields it touched, and the desk is told to read the dossier again. Its code,
/// procedure, unit and clock stay as they are. A change of where the result goes is
/// recorded with the old and the new, told to the desk on its own, and refused once
/// the result has left.
fn update_from_portal(
    tx: &mut Tx<'_>,
    settings: &Settings,
    mut record: DossierRecord,
    s: &Submission,
    fingerprint: String,
    now: Timestamp,
) -> Result<DossierRecord, IntakeError> {
    let (old, new) = (&record.dossier, &s.intake);
    let mut changed = Vec::new();
    if old.applicant.phone != new.applicant.phone {
        changed.push("SoDienThoai");
    }
    if old.applicant.email != new.applicant.email {
        changed.push("Email");
    }
    if old.documents != new.documents {
        changed.push("TaiLieuNop");
    }
    if old.fees != new.fees {
        changed.push("DanhSachLePhi");
    }
    let moved = old.return_address != new.return_address || old.return_method != new.return_method;
    if moved {
        if result_left(&record) {
            return Err(IntakeError::Invalid(vec![FieldError::new(
                "/DiaChiNhanKetQua",
                "the result has left the desk: where it goes can no longer change",
            )]));
        }
        changed.push("DiaChiNhanKetQua");
    }
    let extra = s.portal.as_ref().map(|p| p.extra.clone()).unwrap_or_default();
    if record.portal.extra != extra {
        changed.push("các trường khác");
    }
    let before = where_it_goes(old.return_method, old.return_address.as_ref());
    let d = &mut record.dossier;
    d.applicant.phone = new.applicant.phone.clone();
    d.applicant.email = new.applicant.email.clone();
    d.documents = new.documents.clone();
    d.fees = new.fees.clone();
    d.return_method = new.return_method;
    d.return_address = new.return_address.clone();
    record.portal.extra = extra;
    record.fingerprint = fingerprint;
    let text = if changed.is_empty() {
        "Cổng Dịch vụ công quốc gia gửi lại hồ sơ".to_owned()
    } else {
        format!("Cổng Dịch vụ công quốc gia cập nhật hồ sơ ({})", changed.join(", "))
    };
    super::events::note(&mut record, now, text, serde_json::json!({ "mark": "portal_update", "fields": changed }));
    let desk = record.dossier.desk.clone();
    if moved {
        let after = where_it_goes(record.dossier.return_method, record.dossier.return_address.as_ref());
        let text = format!(
            "Thay đổi nơi nhận kết quả theo đề nghị gửi qua Cổng Dịch vụ công quốc gia: {}",
            record.dossier.return_method.label()
        );
        let details =
            serde_json::json!({ "mark": "return_address_changed", "old": before, "new": after, "by": s.client_id });
        super::events::note(&mut record, now, text, details);
        crate::outbox::notice(tx, &desk, crate::outbox::NoticeKind::ReturnAddressChanged, &record.dossier, now)?;
    }
    crate::outbox::notice(tx, &desk, crate::outbox::NoticeKind::Updated, &record.dossier, now)?;
    record.save(tx, settings, now)?;
    Ok(record)
}

/// A code a peer supplies must be one of the agency that receives the dossier and of
/// the day it is received, so that it can never take a number the gateway is about to
/// issue to another agency or on another day (docs/DOMAIN.md §1).
fn check_supplied_code(code: &DossierCode, agency: &AgencyCode, received: jiff::civil::Date) -> Result<(), String> {
    if code.agency() != *agency {
        return Err(format!("dossier code {code} is not of agency {agency}, which receives this dossier"));
    }
    if code.date() != received {
        return Err(format!("dossier code {code} is not dated today ({})", received.strftime("%d/%m/%Y")));
    }
    Ok(())
}

enum IssueError {
    Store(StoreError),
    Code(String),
}

impl IssueError {
    fn into_intake(self, pointer: &str) -> IntakeError {
        match self {
            IssueError::Store(e) => IntakeError::Store(e),
            IssueError::Code(message) => IntakeError::Invalid(vec![FieldError::new(pointer, message)]),
        }
    }
}

/// The agency's next free code of the day: the counter steps over numbers a peer's
/// codes already took.
fn issue_code(tx: &mut Tx<'_>, agency: &AgencyCode, date: jiff::civil::Date) -> Result<DossierCode, IssueError> {
    let counter_key = keys::code_counter(agency.as_str(), &date.strftime("%y%m%d").to_string());
    loop {
        let seq = tx.next_counter(&counter_key).map_err(IssueError::Store)?;
        let code = DossierCode::new(agency, date, seq).map_err(|e| IssueError::Code(e.to_string()))?;
        if tx.get(&keys::dossier(code.as_str())).map_err(IssueError::Store)?.is_none() {
            return Ok(code);
        }
    }
}

/// Runs in the writer, so the submission is moved into the new record rather than
/// copied.
fn accept(
    tx: &mut Tx<'_>,
    settings: &Settings,
    s: Submission,
    fingerprint: String,
    now: Timestamp,
) -> Result<IntakeOutcome, IntakeError> {
    let idem_key = idempotency_key(&s);
    if let Some(entry) = tx.get_json::<IdempotencyEntry>(&idem_key)? {
        let record = DossierRecord::load(tx, &entry.code)?
            .ok_or_else(|| StoreError::Corrupt(format!("idempotency key of missing dossier {}", entry.code)))?;
        // Nothing of another client's dossier is told or changed, not even that the
        // same content was sent before.
        if record.submitted_by != s.client_id {
            return Err(IntakeError::NotYours);
        }
        return if record.fingerprint == fingerprint {
            Ok(IntakeOutcome::Repeated(Box::new(record)))
        } else if s.portal.is_some() && record.portal.origin_code.is_some() {
            if s.updates {
                update_from_portal(tx, settings, record, &s, fingerprint, now)
                    .map(|r| IntakeOutcome::Updated(Box::new(r)))
            } else {
                // The portal creating again a dossier it already gave: a duplicate.
                Ok(IntakeOutcome::Repeated(Box::new(record)))
            }
        } else {
            Err(IntakeError::Conflict(format!(
                "{} {} was already submitted with different content (dossier {})",
                if s.intake.channel == Channel::Portal { "MaHoSoCongDVC" } else { "ItemCode" },
                s.intake.external_ref,
                entry.code
            )))
        };
    }
    let intake = &s.intake;
    let procedure = check(settings, intake).map_err(IntakeError::Invalid)?;
    let skew = jiff::SignedDuration::from_secs(i64::try_from(settings.deadlines.event_clock_skew_secs).unwrap_or(0));
    if intake.submitted_at > now.checked_add(skew).unwrap_or(now) {
        return Err(IntakeError::Invalid(vec![FieldError::new(
            &intake.pointers.submitted,
            "the dossier cannot have been submitted after the gateway's clock",
        )]));
    }
    let received_date = to_vn(now).date();
    let route = settings
        .network
        .route(&intake.requested_unit, s.applicant_commune.as_ref(), &procedure.levels, received_date)
        .map_err(|e| IntakeError::Invalid(vec![FieldError::new(&intake.pointers.unit, e.to_string())]))?;
    let desk = settings.network.desk(&route.desk).ok_or_else(|| {
        IntakeError::Invalid(vec![FieldError::new(
            &intake.pointers.unit,
            format!("desk {} is not configured", route.desk),
        )])
    })?;

    let code = match &intake.code {
        Some(code) => {
            check_supplied_code(code, &desk.agency, received_date)
                .map_err(|message| IntakeError::Invalid(vec![FieldError::new(&intake.pointers.code, message)]))?;
            if tx.get(&keys::dossier(code.as_str()))?.is_some() {
                return Err(IntakeError::Conflict(format!("dossier code {code} is already used by another dossier")));
            }
            code.clone()
        }
        None => issue_code(tx, &desk.agency, received_date).map_err(|e| e.into_intake(&intake.pointers.code))?,
    };

    let deadline = Deadline::start(&settings.calendar, now, procedure.processing, procedure.cutoff);
    let channel_note = match intake.channel {
        Channel::Portal => "Tiếp nhận hồ sơ nộp trực tuyến qua Cổng dịch vụ công",
        Channel::Postal => "Tiếp nhận hồ sơ qua dịch vụ bưu chính công ích",
    };
    let mut history = vec![HistoryEntry {
        seq: 1,
        at: now,
        recorded_at: now,
        kind: EventType::Intake,
        actor: s.client_id.clone(),
        status_before: None,
        status_after: Status::NewlyRegistered,
        note: Some(channel_note.to_owned()),
        details: Some(serde_json::json!({ "desk": desk.id, "target_unit": route.target })),
        prev: None,
    }];
    for step in &route.steps {
        history.push(HistoryEntry {
            seq: history.len() as u32 + 1,
            at: now,
            recorded_at: now,
            kind: EventType::Note,
            actor: "gateway".to_owned(),
            status_before: Some(Status::NewlyRegistered),
            status_after: Status::NewlyRegistered,
            note: Some(step.note(&settings.network)),
            details: Some(serde_json::json!({ "route": step })),
            prev: None,
        });
    }
    let notify_consent =
        intake.notify_consent || settings.notify.as_ref().is_some_and(|n| n.presumed_consent.contains(&intake.channel));
    let collect_from_home = intake.collect_from_home;
    let Submission { intake, client_id, portal, inbound_item, .. } = s;
    let dossier = Dossier {
        code: code.clone(),
        channel: intake.channel,
        level: intake.level,
        external_ref: intake.external_ref,
        procedure: intake.procedure,
        applicant: intake.applicant,
        requested_unit: intake.requested_unit.to_string(),
        target_unit: route.target.clone(),
        desk: desk.id.clone(),
        documents: intake.documents,
        fees: intake.fees,
        return_method: intake.return_method,
        return_address: intake.return_address,
        submitted_at: intake.submitted_at,
        received_at: now,
        due_at: deadline.due_at,
        appointment_at: deadline.due_at,
        status: Status::NewlyRegistered,
        status_name: Status::NewlyRegistered.name().to_owned(),
        overdue: false,
        history,
        postal: PostalInfo { inbound_item, ..PostalInfo::default() },
        rating: None,
    };
    let mut record = DossierRecord {
        dossier,
        deadline,
        submitted_by: client_id,
        fingerprint,
        compliance: Default::default(),
        receipt: None,
        documents: Vec::new(),
        portal: portal.unwrap_or_default(),
        payments: Vec::new(),
        notify: crate::notify::Consent { given: notify_consent, stopped_at: None },
        chain: None,
        saved: None,
    };
    if collect_from_home {
        match crate::peers::post::order(tx, settings, &mut record.dossier, OrderKind::Collection, 0, now)? {
            Some(number) => {
                let text = format!("Người nộp đề nghị thu gom hồ sơ tại nhà: đã đặt Bưu điện ({number})");
                let details = serde_json::json!({ "mark": "collection_requested", "order": number });
                super::events::note(&mut record, now, text, details);
            }
            None => {
                let text = "Người nộp đề nghị thu gom hồ sơ tại nhà; chưa có dịch vụ bưu chính để đặt".to_owned();
                super::events::note(&mut record, now, text, serde_json::json!({ "mark": "collection_unplaced" }));
            }
        }
    }
    // A portal dossier with fees still due may pay them online from the start.
    if settings.payment.is_some() && record.dossier.channel == Channel::Portal {
        let due = record.dossier.fees.iter().filter(|f| !f.paid).map(|f| f.amount).fold(0u64, u64::saturating_add);
        if due > 0 {
            match super::payments::open(tx, settings, &mut record, due, now) {
                Ok(_) => {}
                Err(super::payments::OpenError::Store(e)) => return Err(e.into()),
                // Fees beyond the platform's bounds are left to the desk.
                Err(_) => {}
            }
        }
    }
    // The receipt is issued now, from what was registered now, and never changes.
    record.receipt = Some(crate::forms::issue_receipt(&record.dossier, &record.fingerprint, settings, now));
    let json = record.save_keeping_json(tx, settings, now, super::record::MAX_INTAKE_RECORD_BYTES)?;
    if settings.notify.is_some() {
        crate::notify::changed(tx, settings, &record.dossier, &record.notify, EventType::Intake, 1, now)?;
    }
    crate::peers::emc::changed(tx, settings, &record.dossier, 1, true, now)?;
    tx.put_json(&idem_key, &IdempotencyEntry { code: code.clone() })?;
    outbox::enqueue(tx, Destination::Desk(desk.id.clone()), JobKind::Deliver, &code, now)?;
    // The contract tells the portal of status changes only; the national portal is
    // sent the new record at once.
    crate::peers::portal::changed(tx, settings, &record.dossier, 1, false, record.portal.promotion, now)?;
    Ok(IntakeOutcome::Created(Box::new(record), json))
}
