//! The unified intake model (docs/CONTRACT.md §8): one dossier shape for both channels, as
//! stored and as served, and the normalized intake that the channel adapters produce.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{DossierCode, IdKind, PhoneNumber, ProcedureCode, S10ItemCode, UnitCode};
use crate::status::{EventType, Status};
use crate::time::rfc3339;

/// How the dossier reached the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public service portal (`KenhThucHien` 2).
    Portal,
    /// The public postal service (`KenhThucHien` 3).
    Postal,
}

impl Channel {
    /// The national portal's `KenhThucHien` code.
    pub fn portal_code(self) -> u8 {
        match self {
            Channel::Portal => 2,
            Channel::Postal => 3,
        }
    }

    /// The name used in configuration and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Postal => "postal",
        }
    }
}

/// How the result goes back to the applicant (`HinhThucNhanKetQua` 1, 2, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnMethod {
    /// Collected at the desk.
    Desk,
    /// Sent by post.
    Post,
    /// Returned online through the portal.
    Online,
}

impl ReturnMethod {
    /// The method for a national portal `HinhThucNhanKetQua` code.
    pub fn from_portal_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(ReturnMethod::Desk),
            2 => Some(ReturnMethod::Post),
            3 => Some(ReturnMethod::Online),
            _ => None,
        }
    }

    /// The Vietnamese wording on forms.
    pub fn label(self) -> &'static str {
        match self {
            ReturnMethod::Desk => "Nhận trực tiếp tại Bộ phận Một cửa",
            ReturnMethod::Post => "Nhận qua dịch vụ bưu chính công ích",
            ReturnMethod::Online => "Nhận trực tuyến",
        }
    }
}

/// The applicant type `LoaiDoiTuong`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// 1 — a citizen.
    Citizen,
    /// 2 — an enterprise.
    Enterprise,
    /// 3 — a state agency.
    StateAgency,
    /// 4 — other.
    Other,
}

impl ApplicantKind {
    /// The kind for a national portal `LoaiDoiTuong` code.
    pub fn from_portal_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(ApplicantKind::Citizen),
            2 => Some(ApplicantKind::Enterprise),
            3 => Some(ApplicantKind::StateAgency),
            4 => Some(ApplicantKind::Other),
            _ => None,
        }
    }
}

/// A procedure as named on the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureRef {
    /// The national (or provincial) procedure code.
    pub code: ProcedureCode,
    /// The name, NFC.
    pub name: String,
}

/// A postal-style address: free text plus the unit codes it lies in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Street, hamlet, house number (NFC).
    pub detail: String,
    /// Province code, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<UnitCode>,
    /// District code (pre-2025 addresses), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<UnitCode>,
    /// Commune code, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<UnitCode>,
}

/// The applicant (`ChuHoSo` / `Sender`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// Citizen, enterprise, state agency or other.
    pub kind: ApplicantKind,
    /// Full name (NFC).
    pub name: String,
    /// Which identity number was given.
    pub id_type: IdKind,
    /// The identity number, validated for its type.
    pub id_number: String,
    /// Phone in the national `0…` form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Home address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// Where and to whom a result goes by post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnAddress {
    /// The address.
    #[serde(flatten)]
    pub address: Address,
    /// The recipient's name (NFC).
    pub recipient: String,
    /// The recipient's phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
}

/// One document of the dossier: a reference to a file, or inline content stored
/// outside the queue under its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The file or document name (NFC).
    pub name: String,
    /// The component code of the procedure's document list (`MaThanhPhanHoSo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Where the file can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// SHA-256 of the content, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Number of paper pages (postal dossiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// True when the content was sent inline and is kept in the gateway's blob store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stored: bool,
    /// What the digitization score counts of it (docs/DOMAIN.md, "Digitization").
    #[serde(default, skip_serializing_if = "Digitization::is_unmarked")]
    pub digitization: Digitization,
}

/// How a submitted component or a result was digitized (Circular 01/2023/TT-VPCP):
/// the portal's `DuocSoHoa`, `DuocTaiSuDung` and `DuocLayTuKhoDMQG`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digitization {
    /// Scanned or born digital, and kept as an electronic copy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digitized: bool,
    /// An electronic copy digitized before was reused instead of asking again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reused: bool,
    /// Taken from the national digitized-documents store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_national_store: bool,
}

impl Digitization {
    /// True when nothing is marked.
    pub fn is_unmarked(&self) -> bool {
        *self == Digitization::default()
    }

    /// True when the document counts as digitized (digitized, reused or taken from
    /// the national store all give an electronic copy).
    pub fn counts(&self) -> bool {
        self.digitized || self.reused || self.from_national_store
    }
}

/// A fee or charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// What the fee is for (NFC).
    pub name: String,
    /// Amount in đồng.
    pub amount: u64,
    /// Whether it has been paid.
    pub paid: bool,
    /// The payment transaction, if paid online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
}

/// One entry of a dossier's history: every event, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Position in the history, from 1.
    pub seq: u32,
    /// When it happened (for desk events, the time the desk gave).
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
    /// When the gateway recorded it.
    #[serde(with = "rfc3339")]
    pub recorded_at: Timestamp,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Who did it: `gateway`, a client id, or a desk id.
    pub actor: String,
    /// The status before (none for the intake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before: Option<Status>,
    /// The status after.
    pub status_after: Status,
    /// Free text (NFC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Event-specific fields (reason, items, amount, unit, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// SHA-256 (hex) of the dossier's link before this one in its sealed history
    /// (docs/ARCHITECTURE.md §10); none on entries written before the history was sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// The order code of the `n`-th apology letter (Mẫu 04) of dossier `code`.
pub fn letter_order_code(code: &str, n: u32) -> String {
    format!("{code}-XL{n}")
}

/// A letter sent to the applicant by post (the Mẫu 04 apology).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalLetter {
    /// `{dossier code}-XL{n}`.
    pub order_code: String,
    /// The S10 code of the shipment, once the postal service created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<S10ItemCode>,
    /// The last delivery status reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Postal shipments of the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalInfo {
    /// The S10 code of the shipment that brought a postal dossier.
    pub inbound_item: Option<S10ItemCode>,
    /// The S10 code of the result shipment.
    pub return_item: Option<S10ItemCode>,
    /// The last delivery status of the result shipment.
    pub return_status: Option<String>,
    /// Letters sent by post.
    pub letters: Vec<PostalLetter>,
    /// Orders placed with VNPost for this dossier (docs/PEERS.md §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<PostOrder>,
}

/// What a postal order carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// The dossier's papers, from the applicant's home to the desk.
    Collection,
    /// The result, from the desk to the applicant.
    Return,
    /// A letter (the Mẫu 04 apology) to the applicant.
    Letter,
}

/// Where a postal order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Queued; the operator has not confirmed it yet.
    Requested,
    /// The operator has it (`Status` 100 or 101).
    Created,
    /// The post has the shipment.
    PickedUp,
    /// Delivered.
    Delivered,
    /// Could not be delivered.
    Undeliverable,
    /// Cancelled before pick-up.
    Cancelled,
}

/// An order placed with the postal operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostOrder {
    /// `OrderNumber`.
    pub number: String,
    /// What it carries.
    pub kind: OrderKind,
    /// The waybill code it was sent with, from the pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<S10ItemCode>,
    /// Where it stands.
    pub state: OrderState,
    /// The operator's words for its last tracking event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<String>,
    /// When the gateway requested it (no event of it can be earlier).
    #[serde(default, with = "crate::time::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<Timestamp>,
}

/// A dossier as stored and served (docs/CONTRACT.md §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    /// The dossier code.
    pub code: DossierCode,
    /// Portal or postal.
    pub channel: Channel,
    /// 3 (một phần) or 4 (toàn trình), for portal dossiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// The portal's submission id, or the S10 code of the inbound shipment.
    pub external_ref: String,
    /// The procedure.
    pub procedure: ProcedureRef,
    /// The applicant.
    pub applicant: Applicant,
    /// The unit code as received.
    pub requested_unit: String,
    /// The unit that handles the dossier (after succession and competence level).
    pub target_unit: UnitCode,
    /// The desk the dossier is routed to.
    pub desk: String,
    /// The documents.
    pub documents: Vec<Document>,
    /// Fees.
    pub fees: Vec<Fee>,
    /// How the result goes back.
    pub return_method: ReturnMethod,
    /// Where a result by post goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_address: Option<ReturnAddress>,
    /// When the applicant submitted (`NgayNopHoSo` / `AcceptedAt`).
    #[serde(with = "rfc3339")]
    pub submitted_at: Timestamp,
    /// When the gateway committed the dossier.
    #[serde(with = "rfc3339")]
    pub received_at: Timestamp,
    /// When the result is due.
    #[serde(with = "rfc3339")]
    pub due_at: Timestamp,
    /// The appointment given to the applicant (a later one after an apology).
    #[serde(with = "rfc3339")]
    pub appointment_at: Timestamp,
    /// The national portal status code.
    pub status: Status,
    /// The status's Vietnamese name.
    pub status_name: String,
    /// True once the due time passed while the dossier was open.
    pub overdue: bool,
    /// Every event, in order.
    pub history: Vec<HistoryEntry>,
    /// Postal shipments.
    pub postal: PostalInfo,
    /// The applicant's satisfaction rating (1–3), once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

impl Dossier {
    /// Sets the status and its name together.
    pub fn set_status(&mut self, status: Status) {
        self.status = status;
        self.status_name = status.name().to_owned();
    }

    /// The last history entry's sequence number.
    pub fn last_seq(&self) -> u32 {
        self.history.last().map_or(0, |h| h.seq)
    }

    /// Appends an entry, numbering it, and returns its sequence number.
    pub fn push_history(&mut self, mut entry: HistoryEntry) -> u32 {
        entry.seq = self.last_seq() + 1;
        let seq = entry.seq;
        self.history.push(entry);
        seq
    }

    /// The Mẫu 01 receipt data, given the receiving desk's display name.
    pub fn receipt(&self, desk_name: &str) -> Receipt {
        Receipt {
            code: self.code.clone(),
            applicant: self.applicant.name.clone(),
            phone: self.applicant.phone.clone(),
            procedure: self.procedure.clone(),
            documents: self.documents.iter().map(|d| d.name.clone()).collect(),
            received_at: self.received_at,
            appointment_at: self.appointment_at,
            desk: desk_name.to_owned(),
            return_method: self.return_method,
        }
    }
}

/// The data of the Mẫu 01 receipt and appointment slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The dossier code.
    pub code: DossierCode,
    /// The applicant's name.
    pub applicant: String,
    /// The applicant's phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    /// The procedure.
    pub procedure: ProcedureRef,
    /// The names of the documents received.
    pub documents: Vec<String>,
    /// When the dossier was received.
    #[serde(with = "rfc3339")]
    pub received_at: Timestamp,
    /// When the result will be returned.
    #[serde(with = "rfc3339")]
    pub appointment_at: Timestamp,
    /// The receiving desk.
    pub desk: String,
    /// How the result is returned.
    pub return_method: ReturnMethod,
}

/// A field that failed validation, located in the request as the caller wrote it
/// (a JSON pointer for portal JSON, an XML path for postal XML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// `/ChuHoSo/DinhDanh/SoDinhDanh` or `/BuuGuiHoSo/ItemCode`.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// A field error at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }
}

/// Where the fields the gateway checks against its configuration sit in the
/// caller's request, so that those errors point into the request too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IntakePointers {
    /// The procedure code.
    pub procedure: String,
    /// The requested unit.
    pub unit: String,
    /// The fees (level-4 payment check).
    pub fees: String,
    /// The applicant's commune.
    pub applicant_commune: String,
    /// The portal-assigned dossier code, if any.
    pub code: String,
    /// The submission time.
    pub submitted: String,
}

/// A dossier as a channel adapter normalized it, before the gateway checks it
/// against the configuration, routes it and gives it a code and a due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    /// Portal or postal.
    pub channel: Channel,
    /// 3 or 4 for portal dossiers.
    pub level: Option<u8>,
    /// The idempotency key: the portal's submission id or the inbound S10 code.
    pub external_ref: String,
    /// A dossier code the portal already assigned.
    pub code: Option<DossierCode>,
    /// The procedure as named by the caller.
    pub procedure: ProcedureRef,
    /// The applicant.
    pub applicant: Applicant,
    /// The unit the dossier is addressed to.
    pub requested_unit: UnitCode,
    /// The documents; inline contents travel beside them in `contents`.
    pub documents: Vec<Document>,
    /// Fees.
    pub fees: Vec<Fee>,
    /// How the result goes back.
    pub return_method: ReturnMethod,
    /// Where a result by post goes.
    pub return_address: Option<ReturnAddress>,
    /// The applicant asks the post to collect the papers from home (thu gom hồ sơ tại
    /// nhà). Left out of the serialized form when false, so that older fingerprints hold.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub collect_from_home: bool,
    /// The applicant agreed to be told of the dossier's progress by e-mail, SMS or Zalo
    /// (docs/NOTIFY.md). Left out when false, so that older fingerprints hold.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify_consent: bool,
    /// When the applicant submitted.
    #[serde(with = "rfc3339")]
    pub submitted_at: Timestamp,
    /// Where the checked fields sit in the request.
    pub pointers: IntakePointers,
}

/// The bytes of a document sent inline, by its index in `Intake::documents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineContent {
    /// Index of the document it belongs to.
    pub document: usize,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
}

/// What a citizen is told of (docs/NOTIFY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// The dossier was received (with the receipt's facts).
    Received,
    /// The desk asks for a supplement.
    SupplementRequested,
    /// An apology (Mẫu 04) with a new appointment.
    Apology,
    /// The result is ready.
    ResultReady,
    /// The result was returned (at the desk, by post, online).
    Returned,
}

impl NotifyEvent {
    /// Every event, in the order of a dossier's life.
    pub const ALL: [NotifyEvent; 5] = [
        NotifyEvent::Received,
        NotifyEvent::SupplementRequested,
        NotifyEvent::Apology,
        NotifyEvent::ResultReady,
        NotifyEvent::Returned,
    ];

    /// The event a history entry of `kind` tells the citizen of, if any.
    pub fn of(kind: crate::EventType) -> Option<NotifyEvent> {
        use crate::EventType as E;
        match kind {
            E::Intake => Some(NotifyEvent::Received),
            E::SupplementRequested => Some(NotifyEvent::SupplementRequested),
            E::Apology => Some(NotifyEvent::Apology),
            E::ResultReady => Some(NotifyEvent::ResultReady),
            E::ReturnedAtDesk | E::PostalDelivered | E::PortalAccepted => Some(NotifyEvent::Returned),
            _ => None,
        }
    }

    /// Its name in configuration and jobs.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::Received => "received",
            NotifyEvent::SupplementRequested => "supplement_requested",
            NotifyEvent::Apology => "apology",
            NotifyEvent::ResultReady => "result_ready",
            NotifyEvent::Returned => "returned",
        }
    }
}
