//! What an outbound job is: its destination, what it carries, and its delivery
//! bookkeeping.

use jiff::Timestamp;
use motcua_schemas::{DossierCode, time::rfc3339};
use serde::{Deserialize, Serialize};

/// Where a job goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "to", content = "id", rename_all = "snake_case")]
pub enum Destination {
    /// A one-stop desk (push or pull).
    Desk(String),
    /// The public service portal.
    Portal,
    /// The postal service.
    Postal,
    /// The national payment platform.
    Payment,
    /// A channel that tells citizens: `email`, `sms`, `zalo`.
    Notify(String),
    /// The national monitoring service (EMC).
    Tracking,
}

impl Destination {
    /// The name used in keys, metrics and the admin API: `desk:<id>`, `portal`, `postal`,
    /// `payment`.
    pub fn name(&self) -> String {
        match self {
            Destination::Desk(id) => format!("desk:{id}"),
            Destination::Portal => "portal".to_owned(),
            Destination::Postal => "postal".to_owned(),
            Destination::Payment => "payment".to_owned(),
            Destination::Notify(channel) => format!("notify:{channel}"),
            Destination::Tracking => "tracking".to_owned(),
        }
    }

    /// The key prefix of this destination's jobs.
    pub fn prefix(&self) -> crate::Prefix {
        crate::keys::destination_prefix(&self.name())
    }
}

/// The kinds of notice a desk receives (docs/CONTRACT.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The due time is near.
    DueSoon,
    /// The due time has passed.
    Overdue,
    /// The portal sent a new version of the dossier: read it again.
    Updated,
    /// The post could not deliver the result.
    ReturnFailed,
    /// The explanation of a late dossier is overdue.
    ExplanationMissing,
    /// The applicant changed where the result goes (method or address).
    ReturnAddressChanged,
}

/// A notice to a desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What it warns of.
    pub kind: NoticeKind,
    /// The dossier.
    pub code: DossierCode,
    /// The dossier's due time.
    #[serde(with = "rfc3339")]
    pub due_at: Timestamp,
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// Deliver the dossier to its desk.
    Deliver,
    /// Send a notice to a desk.
    Notice {
        /// The notice.
        notice: Notice,
    },
    /// Send the dossier's status as of history entry `seq` to the portal.
    PortalStatus {
        /// The history entry.
        seq: u32,
    },
    /// Send the dossier's whole current record to the national portal
    /// (`DongBoHoSoMC`); a newer one of the same dossier supersedes it.
    PortalRecord,
    /// Send the national portal the progress steps it does not have yet
    /// (`CapNhatTienDoHoSoMC`); a newer one of the same dossier supersedes it.
    PortalProgress,
    /// Send the national portal the status of a trade-promotion dossier it pushed, as
    /// of history entry `seq` (`DongBoTrangThaiHoSo`).
    PortalPromotionStatus {
        /// The history entry.
        seq: u32,
    },
    /// Ask the postal service to return the result to the applicant.
    ReturnOrder,
    /// Ask VNPost to collect the dossier's papers from the applicant's home.
    CollectionOrder,
    /// Cancel a VNPost order the post has not picked up.
    CancelOrder {
        /// Its `OrderNumber`.
        number: String,
    },
    /// Send the `n`-th apology letter (Mẫu 04) by the dossier's channel.
    Letter {
        /// Which letter, from 1.
        n: u32,
    },
    /// Open the payment `reference` at the national payment platform (`INIT`).
    PaymentInit {
        /// `MaThamChieu`.
        reference: String,
    },
    /// Tell the national monitoring service of the status of history entry `seq`.
    Tracking {
        /// The history entry.
        seq: u32,
    },
    /// Tell the applicant of `event`, recorded in history entry `seq`.
    Notify {
        /// What happened.
        event: motcua_schemas::NotifyEvent,
        /// The history entry.
        seq: u32,
    },
}

/// One outbound job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Store-wide sequence number.
    pub id: u64,
    /// Where it goes.
    pub destination: Destination,
    /// What it does.
    #[serde(flatten)]
    pub kind: JobKind,
    /// The dossier it concerns.
    pub dossier: DossierCode,
    /// When it was queued.
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not to be tried before this time.
    #[serde(with = "rfc3339")]
    pub not_before: Timestamp,
    /// A pull desk holds it until this time.
    #[serde(default, with = "rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub leased_until: Option<Timestamp>,
    /// The last error, if an attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Job {
    /// The job's key in the outbox: destination, NUL, big-endian id.
    pub fn key(&self) -> crate::Key {
        key(&self.destination, self.id)
    }

    /// True for jobs a pull desk acknowledges by dossier code (the dossier itself);
    /// notices are acknowledged by their id.
    pub fn acknowledged_by_code(&self) -> bool {
        matches!(self.kind, JobKind::Deliver)
    }
}

/// The outbox key of job `id` for `destination`.
pub fn key(destination: &Destination, id: u64) -> crate::Key {
    crate::keys::job(&destination.name(), id)
}

/// A job that will not be retried, with why and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The job as it was.
    pub job: Job,
    /// The last error.
    pub error: String,
    /// When it was given up.
    #[serde(with = "rfc3339")]
    pub died_at: Timestamp,
}
