//! The transactional outbox: outbound jobs written in the same batch as the change
//! that causes them, keyed by destination and a store-wide sequence so that each
//! destination's jobs are read back in the order they were queued.

use jiff::Timestamp;
use motcua_schemas::{DossierCode, time::rfc3339};
use serde::{Deserialize, Serialize};

use crate::store::{CommitNote, Space, StoreError, Tx};

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
}

impl Destination {
    /// The name used in keys, metrics and the admin API: `desk:<id>`, `portal`, `postal`.
    pub fn name(&self) -> String {
        match self {
            Destination::Desk(id) => format!("desk:{id}"),
            Destination::Portal => "portal".to_owned(),
            Destination::Postal => "postal".to_owned(),
        }
    }

    /// The key prefix of this destination's jobs.
    pub fn prefix(&self) -> Vec<u8> {
        let mut prefix = self.name().into_bytes();
        prefix.push(0);
        prefix
    }
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// Deliver the dossier to its desk.
    Deliver,
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
    /// Leased (in flight, or in a pull desk's hands) until this time.
    #[serde(default, with = "rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub leased_until: Option<Timestamp>,
    /// The last error, if an attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Job {
    /// The job's key in the outbox: destination, NUL, big-endian id.
    pub fn key(&self) -> Vec<u8> {
        let mut key = self.destination.prefix();
        key.extend_from_slice(&self.id.to_be_bytes());
        key
    }
}

/// Queues a job for `dossier` in the same batch as the caller's other writes.
pub fn enqueue(
    tx: &mut Tx<'_>,
    destination: Destination,
    kind: JobKind,
    dossier: &DossierCode,
    now: Timestamp,
) -> Result<Job, StoreError> {
    let id = tx.next_counter(Space::Meta, b"job_seq")?;
    let job = Job {
        id,
        destination,
        kind,
        dossier: dossier.clone(),
        created_at: now,
        attempts: 0,
        not_before: now,
        leased_until: None,
        last_error: None,
    };
    let key = job.key();
    tx.put_json(Space::Outbox, &key, &job)?;
    tx.note(CommitNote::Job(key));
    Ok(job)
}
