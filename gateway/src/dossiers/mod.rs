//! Dossiers as the gateway keeps them: the served model plus the gateway's own
//! bookkeeping, and the operations that create and change them.

pub mod events;
pub mod intake;
pub mod portal_intake;
pub mod portal_sync;
pub mod record;
pub mod upkeep;

pub use record::DossierRecord;

use crate::settings::Settings;

/// The dossier as served: the model of docs/CONTRACT.md §8 with the Mẫu 01 receipt data,
/// serialized straight from the record.
#[derive(Debug, serde::Serialize)]
pub struct Served<'a> {
    /// The dossier.
    #[serde(flatten)]
    pub dossier: &'a motcua_schemas::Dossier,
    /// The Mẫu 01 data.
    pub receipt: motcua_schemas::Receipt,
    /// For repeated desk events: whether nothing changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeated: Option<bool>,
}

/// The dossier of `record` as served.
pub fn served<'a>(record: &'a DossierRecord, settings: &Settings) -> Served<'a> {
    let dossier = &record.dossier;
    let desk_name = settings.network.desk(&dossier.desk).map(|d| d.name.as_str()).unwrap_or(dossier.desk.as_str());
    // The receipt as registered at intake (computed for records older than that).
    let mut receipt = dossier.receipt(desk_name);
    if let Some(facts) = &record.receipt {
        receipt.appointment_at = facts.appointment_at;
        receipt.return_method = facts.return_method;
        receipt.desk = facts.desk.clone();
    }
    Served { dossier, receipt, repeated: None }
}

/// The dossiers that units `units` received on the Vietnam days `from..=to`, read
/// through the status index (which names each dossier's unit).
pub fn received_by(
    store: &crate::store::Store,
    units: &std::collections::BTreeSet<String>,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<Vec<motcua_schemas::Dossier>, crate::store::StoreError> {
    use crate::store::{Space, decode};
    let mut out = Vec::new();
    for item in store.scan_prefix(Space::Index, crate::store::keys::STATUS_PREFIX) {
        let (key, value) = item?;
        if !units.contains(String::from_utf8_lossy(&value).as_ref()) {
            continue;
        }
        let Some(code) = key.rsplit(|b| *b == b'|').next() else { continue };
        let Some(bytes) = store.get(Space::Dossier, code)? else { continue };
        let record: DossierRecord = decode(Space::Dossier, code, &bytes)?;
        let day = motcua_schemas::time::to_vn(record.dossier.received_at).date();
        if from <= day && day <= to {
            out.push(record.dossier);
        }
    }
    Ok(out)
}
