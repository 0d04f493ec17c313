//! Reading dossiers, for whoever asks — the API, the pages, the dispatcher: one record
//! by its code, and the dossiers of an index (every one, one status, the open overdue
//! ones) in code order a page at a time. No caller builds a key.

use motcua_schemas::{DossierCode, Status};

use super::DossierRecord;
use crate::store::{Key, Prefix, Store, StoreError, decode, keys};

/// The record of dossier `code`, if any.
pub fn get(store: &Store, code: &DossierCode) -> Result<Option<DossierRecord>, StoreError> {
    store.get_json(&keys::dossier(code.as_str()))
}

/// The stored bytes of dossier `code`, if any (the public lookup decodes a decoy in
/// their place when there are none).
pub fn get_bytes(store: &Store, code: &DossierCode) -> Result<Option<Vec<u8>>, StoreError> {
    store.get(&keys::dossier(code.as_str()))
}

/// Decodes the stored bytes of dossier `code`.
pub fn decode_bytes(code: &DossierCode, bytes: &[u8]) -> Result<DossierRecord, StoreError> {
    decode(&keys::dossier(code.as_str()), bytes)
}

/// The bytes of some stored record (the first in code order), if any.
pub fn any_bytes(store: &Store) -> Result<Option<Vec<u8>>, StoreError> {
    store.scan_prefix(&keys::dossiers()).next().transpose().map(|e| e.map(|(_, bytes)| bytes))
}

/// Which dossiers a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Every dossier.
    All,
    /// The dossiers of one status (the status index).
    Status(Status),
    /// The open overdue dossiers (the overdue index).
    Overdue,
}

impl Listing {
    fn prefix(self) -> Prefix {
        match self {
            Listing::All => keys::dossiers(),
            Listing::Status(status) => keys::status_prefix(status.code()),
            Listing::Overdue => keys::overdues(),
        }
    }
}

/// The codes the listing holds, in code order, from after `after` (a code) on: at most
/// `limit` of them. An entry whose code does not parse is passed over.
pub fn codes(
    store: &Store,
    listing: Listing,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<DossierCode>, StoreError> {
    let prefix = listing.prefix();
    let range = match after {
        Some(after) => prefix.after(after.as_bytes()),
        None => prefix.range(),
    };
    let mut out = Vec::new();
    for entry in store.range(&range) {
        if out.len() >= limit {
            break;
        }
        let (key, _): (Key, _) = entry?;
        if let Ok(code) = String::from_utf8_lossy(key.after(&prefix)).parse::<DossierCode>() {
            out.push(code);
        }
    }
    Ok(out)
}

/// The records of the listing, as [`codes`] names them (a code whose record is gone is
/// passed over).
pub fn records(
    store: &Store,
    listing: Listing,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<DossierRecord>, StoreError> {
    let mut out = Vec::new();
    for code in codes(store, listing, after, limit)? {
        out.extend(get(store, &code)?);
    }
    Ok(out)
}

/// How many open dossiers are overdue, counted on the index.
pub fn count_overdue(store: &Store) -> Result<usize, StoreError> {
    store.count_prefix(&keys::overdues())
}
