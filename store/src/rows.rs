//! The queryable face of the dossiers on a shared database: for each stored dossier
//! record, the columns a province queries by (code, status, unit, procedure, times,
//! overdue), read from the record's stored JSON by field name so that the store needs
//! nothing of the dossier logic above it (docs/STORAGE.md).

use serde::Deserialize;

use super::{Key, decode};

/// One dossier's row.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierRow {
    /// The dossier code.
    pub code: String,
    /// The national portal status code.
    pub status: i16,
    /// The unit that handles it.
    pub unit: String,
    /// The procedure code.
    pub procedure: String,
    /// When the gateway committed it (seconds since the epoch).
    pub received_at: f64,
    /// When the result is due (seconds since the epoch).
    pub due_at: f64,
    /// The due time passed while it was open.
    pub overdue: bool,
}

#[derive(Deserialize)]
struct Stored {
    dossier: StoredDossier,
}

#[derive(Deserialize)]
struct StoredDossier {
    code: String,
    status: u8,
    target_unit: String,
    procedure: StoredProcedure,
    #[serde(with = "motcua_schemas::time::rfc3339")]
    received_at: jiff::Timestamp,
    #[serde(with = "motcua_schemas::time::rfc3339")]
    due_at: jiff::Timestamp,
    overdue: bool,
}

#[derive(Deserialize)]
struct StoredProcedure {
    code: String,
}

fn seconds(at: jiff::Timestamp) -> f64 {
    at.as_millisecond() as f64 / 1000.0
}

/// The row of a stored dossier record (`key` as the backend holds it); `None` when
/// the value is not a dossier record the row can be read from.
pub fn dossier_row(key: &[u8], value: &[u8]) -> Option<DossierRow> {
    let stored: Stored = decode(&Key::from_full(key.to_vec()), value).ok()?;
    let d = stored.dossier;
    Some(DossierRow {
        code: d.code,
        status: i16::from(d.status),
        unit: d.target_unit,
        procedure: d.procedure.code,
        received_at: seconds(d.received_at),
        due_at: seconds(d.due_at),
        overdue: d.overdue,
    })
}
