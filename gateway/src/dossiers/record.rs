//! The stored form of a dossier: the model of docs/CONTRACT.md §8 plus what only the
//! gateway needs (the agency's clock, who submitted it, the submission fingerprint).

use jiff::Timestamp;
use motcua_schemas::{Deadline, Dossier, DossierCode, EventType, HistoryEntry, Status, UnitCode};
use serde::{Deserialize, Serialize};

use crate::store::{StoreError, Tx, keys};

/// A dossier as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DossierRecord {
    /// The dossier as served.
    pub dossier: Dossier,
    /// The agency's clock.
    pub deadline: Deadline,
    /// The client that submitted it (a portal sees only its own dossiers).
    pub submitted_by: String,
    /// SHA-256 of the normalized submission, to tell a repeat from a conflict.
    pub fingerprint: String,
    /// The directive's bookkeeping: marks scheduled and made, apologies, explanations.
    #[serde(default)]
    pub compliance: Compliance,
    /// What the Mẫu 01 receipt says beyond the submission, fixed at intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<crate::forms::ReceiptFacts>,
    /// The forms issued for it after intake (02–06), each as issued.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<crate::forms::IssuedDocument>,
    /// What the national portal has of it.
    #[serde(default, skip_serializing_if = "PortalState::is_empty")]
    pub portal: PortalState,
    /// Its fees' payments through the national payment platform, every attempt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<Payment>,
    /// What the applicant said about being told of the dossier (docs/NOTIFY.md).
    #[serde(default, skip_serializing_if = "crate::notify::Consent::is_empty")]
    pub notify: crate::notify::Consent,
    /// Its place in the sealed history (docs/ARCHITECTURE.md §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<crate::audit::Chain>,
    /// What the indexes and statistics were computed from when it was loaded (`None`
    /// for a new record), so that saving it can move exactly what changed.
    #[serde(skip)]
    pub(crate) saved: Option<Summary>,
}

/// What the national portal has of a dossier (docs/PEERS.md §1.5, §1.8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortalState {
    /// The portal's own code (`MaHoSo`) of a dossier that came from the portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_code: Option<String>,
    /// The portal has the record: later record syncs are updates.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered: bool,
    /// The history entry up to which the portal has the progress steps.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub steps_synced: u32,
    /// The fields of the portal's record the gateway does not read, as they came.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// A trade-promotion dossier the portal pushed (it names a trader,
    /// `TenThuongNhan`): its status goes back with `DongBoTrangThaiHoSo` where
    /// configured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub promotion: bool,
}

/// One attempt to have a dossier's fees paid online (docs/PAYMENT.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `MaThamChieu`, unique per attempt.
    pub reference: String,
    /// The amount asked for, in đồng.
    pub amount: u64,
    /// `ThoiGianGD` of the `INIT` (`yyyyMMddHHmmss`, Vietnam time).
    pub time: String,
    /// When it was opened.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub opened_at: Timestamp,
    /// Where it stands.
    pub state: PaymentState,
    /// The payment page the platform gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `MaGiaoDich`, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// `MaNganHang`, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Being opened at the platform.
    Opening,
    /// Open: the citizen may pay at its page.
    Open,
    /// Paid.
    Paid,
    /// The platform refused it or the payment failed.
    Failed,
    /// Not paid in time.
    Expired,
}

impl PaymentState {
    /// Still waiting for the citizen.
    pub fn is_open(self) -> bool {
        matches!(self, PaymentState::Opening | PaymentState::Open)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl PortalState {
    fn is_empty(&self) -> bool {
        *self == PortalState::default()
    }
}

/// What the indexes and statistics were last computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub(crate) unit: UnitCode,
    pub(crate) status: Status,
    pub(crate) overdue: bool,
    pub(crate) apologies: u32,
    pub(crate) rating: Option<u8>,
    pub(crate) apology_missing: bool,
    pub(crate) explanation_missing: bool,
    #[serde(default)]
    pub(crate) digitized: bool,
    #[serde(default)]
    pub(crate) results_digitized: bool,
}

impl Summary {
    /// The summary of `record` as it is now.
    pub fn of(record: &DossierRecord) -> Summary {
        let d = &record.dossier;
        Summary {
            unit: d.target_unit.clone(),
            status: d.status,
            overdue: d.overdue,
            apologies: record.compliance.apologies,
            rating: d.rating,
            apology_missing: record.compliance.apology_missing,
            explanation_missing: record.compliance.explanation_missing,
            digitized: d.documents.iter().any(|doc| doc.digitization.counts()),
            results_digitized: results_digitized(d),
        }
    }

    pub(crate) fn open_overdue(&self) -> bool {
        self.status.is_open() && self.overdue
    }
}

/// Whether the newest result the desk gave has a digitized document.
fn results_digitized(d: &Dossier) -> bool {
    let Some(result) = d.history.iter().rev().find(|h| h.kind == EventType::ResultReady) else { return false };
    let documents = result.details.as_ref().and_then(|x| x.get("result_documents")).and_then(|x| x.as_array());
    documents.into_iter().flatten().any(|doc| {
        doc.get("digitization")
            .and_then(|m| serde_json::from_value::<motcua_schemas::Digitization>(m.clone()).ok())
            .is_some_and(|m| m.counts())
    })
}

/// The deadline marks of docs/DOMAIN.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// The due time is near: warn the desk.
    DueSoon,
    /// The due time has passed: mark the dossier overdue.
    Overdue,
    /// The grace for the explanation has passed without one.
    ExplanationMissing,
}

impl MarkKind {
    /// The name used in keys and history.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::DueSoon => "due_soon",
            MarkKind::Overdue => "overdue",
            MarkKind::ExplanationMissing => "explanation_missing",
        }
    }
}

/// A mark waiting in the deadline schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledMark {
    /// Which mark.
    pub kind: MarkKind,
    /// When it falls due.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub at: Timestamp,
}

/// What the provincial directive asks the gateway to keep track of for a dossier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compliance {
    /// Marks waiting in the schedule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<ScheduledMark>,
    /// The due-soon notice went out.
    #[serde(default)]
    pub due_soon_sent: bool,
    /// When the dossier was marked overdue.
    #[serde(default, with = "motcua_schemas::time::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub overdue_at: Option<Timestamp>,
    /// Apologies sent (Mẫu 04 letters).
    #[serde(default)]
    pub apologies: u32,
    /// It became overdue without an apology before its due time (a violation).
    #[serde(default)]
    pub apology_missing: bool,
    /// An explanation was recorded.
    #[serde(default)]
    pub explained: bool,
    /// The explanation was not given within the grace.
    #[serde(default)]
    pub explanation_missing: bool,
}

impl DossierRecord {
    /// The record of `code`, if any.
    pub fn load(tx: &Tx<'_>, code: &DossierCode) -> Result<Option<DossierRecord>, StoreError> {
        let record: Option<DossierRecord> = tx.get_json(&keys::dossier(code.as_str()))?;
        Ok(record.map(|mut r| {
            r.saved = Some(Summary::of(&r));
            r
        }))
    }

    /// True when the record was read from the store (not one being created).
    pub fn is_stored(&self) -> bool {
        self.saved.is_some()
    }

    /// Every form issued for the dossier, in order: the receipt first.
    pub fn issued(&self) -> Vec<crate::forms::IssuedDocument> {
        let receipt = self.receipt.as_ref().map(|f| crate::forms::receipt(&self.dossier, f));
        receipt.into_iter().chain(self.documents.iter().cloned()).collect()
    }

    /// The `n`-th issued form `form` ("01" … "06"), from 1.
    pub fn document(&self, form: &str, n: usize) -> Option<crate::forms::IssuedDocument> {
        self.issued().into_iter().filter(|d| d.content.form == form).nth(n.checked_sub(1)?)
    }

    /// Appends a history entry and returns its sequence number.
    #[allow(clippy::too_many_arguments)]
    pub fn record_event(
        &mut self,
        kind: EventType,
        actor: &str,
        at: Timestamp,
        recorded_at: Timestamp,
        status_after: Status,
        note: Option<String>,
        details: Option<serde_json::Value>,
    ) -> u32 {
        let status_before = Some(self.dossier.status);
        self.dossier.set_status(status_after);
        self.dossier.push_history(HistoryEntry {
            seq: 0,
            at,
            recorded_at,
            kind,
            actor: actor.to_owned(),
            status_before,
            status_after,
            note,
            details,
            prev: None,
        })
    }
}

/// Largest stored record: a record read, rewritten or moved by the value log's
/// compactor costs a bounded amount, and records of stores written before the value log,
/// which sit in sled's tree, stay well below the size at which sled would move them
/// into its blob files, which it never syncs.
pub const MAX_RECORD_BYTES: usize = 60 * 1024;

/// Pads `record`'s first history note with incompressible text until its stored
/// encoding lies within 64 bytes of `MAX_RECORD_BYTES`, as a record that grew through
/// a long life might, and returns that encoding (tests of the limit).
#[doc(hidden)]
pub fn pad_to_the_limit(record: &mut DossierRecord) -> Result<Vec<u8>, StoreError> {
    let limit = MAX_RECORD_BYTES;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let padding: String = (0..2 * limit)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(seed % 62) as usize])
        })
        .collect();
    let size_with = |record: &mut DossierRecord, n: usize| -> Result<usize, StoreError> {
        record.dossier.history[0].note = Some(padding[..n].to_owned());
        Ok(crate::store::encode_compressed(record)?.len())
    };
    let (mut low, mut high) = (0usize, padding.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if size_with(record, mid)? <= limit {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    // Compressed sizes do not grow one byte per character (nor always grow: the
    // compressor switches between its block kinds), so the search above lands only
    // near the best length: look on both sides of it.
    let mut best = low;
    for n in (low.saturating_sub(2048)..(low + 512).min(padding.len())).rev() {
        let size = size_with(record, n)?;
        if size <= limit && limit - size < 64 {
            best = n;
            break;
        }
    }
    size_with(record, best)?;
    crate::store::encode_compressed(record)
}

/// Largest record accepted at intake: the other 20 KiB are the room a dossier's
/// history needs to grow through its life (a hundred events and more) without a
/// later save — the overdue mark, an apology — being refused.
pub const MAX_INTAKE_RECORD_BYTES: usize = 40 * 1024;
