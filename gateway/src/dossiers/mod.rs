//! Dossiers as the gateway keeps them: the served model plus the gateway's own
//! bookkeeping, and the operations that create and change them.

pub mod effects;
pub mod events;
pub mod intake;
pub mod json;
pub mod payments;
pub mod read;
pub mod record;
mod seal;
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

/// The dossiers the `units` received on the Vietnam days `from..=to`, day by day in
/// code order, at most `limit`: for each day, the agencies the day's statistics name
/// (or every agency, for days recorded before they did), and of each the dossiers it
/// coded that day that the units handle. A unit's day costs its agencies' dossiers of
/// that day, whatever the store holds.
pub fn received_by(
    store: &crate::store::Store,
    network: &crate::network::Network,
    units: &std::collections::BTreeSet<String>,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    limit: usize,
) -> Result<Vec<motcua_schemas::Dossier>, crate::store::StoreError> {
    use crate::store::{decode, keys};
    let every: std::collections::BTreeSet<String> = network.desks().map(|d| d.agency.to_string()).collect();
    let mut out = Vec::new();
    for (day, agencies) in crate::stats::received_agencies(store, units, from, to)? {
        let yymmdd = day.strftime("%y%m%d").to_string();
        for agency in agencies.as_ref().unwrap_or(&every) {
            for item in store.range(&keys::coded_on(agency, &yymmdd)) {
                if out.len() >= limit {
                    return Ok(out);
                }
                let (code, bytes) = item?;
                let record: DossierRecord = decode(&code, &bytes)?;
                if units.contains(record.dossier.target_unit.as_str()) {
                    out.push(record.dossier);
                }
            }
        }
    }
    Ok(out)
}
