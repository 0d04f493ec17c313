//! Dossiers as the gateway keeps them: the served model plus the gateway's own
//! bookkeeping, and the operations that create and change them.

pub mod events;
pub mod intake;
pub mod record;
pub mod upkeep;

pub use record::DossierRecord;

use crate::config::Settings;

/// The dossier as served: the model of CONTRACT §8 with the Mẫu 01 receipt data.
pub fn served(record: &DossierRecord, settings: &Settings) -> serde_json::Value {
    let dossier = &record.dossier;
    let desk_name = settings.network.desk(&dossier.desk).map(|d| d.name.as_str()).unwrap_or(dossier.desk.as_str());
    let mut value = serde_json::to_value(dossier).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("receipt".into(), serde_json::to_value(dossier.receipt(desk_name)).unwrap_or_default());
    }
    value
}
