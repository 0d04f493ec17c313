//! The stored form of a dossier: the model of CONTRACT §8 plus what only the
//! gateway needs (the agency's clock, who submitted it, the submission fingerprint).

use jiff::Timestamp;
use motcua_schemas::{Deadline, Dossier, DossierCode, EventType, HistoryEntry, Status};
use serde::{Deserialize, Serialize};

use crate::store::{Space, StoreError, Tx};

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
}

impl DossierRecord {
    /// The record of `code`, if any.
    pub fn load(tx: &Tx<'_>, code: &DossierCode) -> Result<Option<DossierRecord>, StoreError> {
        tx.get_json(Space::Dossier, code.as_str().as_bytes())
    }

    /// Writes the record.
    pub fn save(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        let bytes = crate::store::encode(self)?;
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(StoreError::TooLarge { bytes: bytes.len(), limit: MAX_RECORD_BYTES });
        }
        tx.put(Space::Dossier, self.dossier.code.as_str().as_bytes(), bytes);
        Ok(())
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
        })
    }
}

/// Largest stored record: sled syncs only its main file, never its blob files, so
/// records stay well below the size at which sled would move them into blobs.
pub const MAX_RECORD_BYTES: usize = 60 * 1024;
