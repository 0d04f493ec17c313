//! What the national portal is told when a dossier changes (docs/PEERS.md §1.4–§1.6):
//! a record sync and a progress sync that each carry the dossier's latest state. A
//! newer sync of a dossier supersedes its pending older ones, so an outage ends with
//! the portal holding the real final state, and a sync that was given up is made good
//! by the next one.

use jiff::Timestamp;
use motcua_schemas::Dossier;

use crate::outbox::{self, Destination, Job, JobKind};
use crate::store::{Key, Prefix, StoreError, Tx, keys};

/// The name of a sync kind in its index keys (`None` for jobs that are not syncs).
fn tag(kind: &JobKind) -> Option<&'static str> {
    match kind {
        JobKind::PortalRecord => Some("record"),
        JobKind::PortalProgress => Some("progress"),
        _ => None,
    }
}

/// The index key naming the newest sync of `kind` queued for dossier `code`.
fn latest_key(kind: &JobKind, code: &str) -> Option<Key> {
    tag(kind).map(|tag| keys::portal_sync_latest(tag, code))
}

/// The index prefix of the given-up syncs of `kind` of dossier `code`.
fn dead_prefix(kind: &JobKind, code: &str) -> Option<Prefix> {
    tag(kind).map(|tag| keys::portal_dead_prefix(tag, code))
}

fn sync(tx: &mut Tx<'_>, kind: JobKind, dossier: &Dossier, now: Timestamp) -> Result<(), StoreError> {
    let code = &dossier.code;
    let key = latest_key(&kind, code.as_str());
    let job = outbox::enqueue(tx, Destination::Portal, kind, code, now)?;
    if let Some(key) = key {
        tx.put(&key, job.id.to_be_bytes().to_vec());
    }
    Ok(())
}

/// Queues a progress sync for the steps a finished one could not carry (more than
/// the portal takes in one request).
pub fn queue_more_progress(tx: &mut Tx<'_>, dossier: &Dossier, now: Timestamp) -> Result<(), StoreError> {
    sync(tx, JobKind::PortalProgress, dossier, now)
}

/// Queues the syncs that carry `dossier`'s state as it is now: its record and its
/// progress steps.
pub fn queue(tx: &mut Tx<'_>, dossier: &Dossier, now: Timestamp) -> Result<(), StoreError> {
    sync(tx, JobKind::PortalRecord, dossier, now)?;
    sync(tx, JobKind::PortalProgress, dossier, now)
}

/// True when a newer sync of the same kind and dossier is queued: this one need not
/// be sent, the newer one carries a later state.
pub fn superseded(store: &crate::store::Store, job: &Job) -> bool {
    let Some(key) = latest_key(&job.kind, job.dossier.as_str()) else { return false };
    let latest = store.get(&key).ok().flatten();
    latest.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok()).is_some_and(|id| u64::from_be_bytes(id) > job.id)
}

/// Remembers a given-up sync, so that the next sync to succeed can settle it.
pub fn remember_dead(tx: &mut Tx<'_>, job: &Job) {
    if let Some(tag) = tag(&job.kind) {
        tx.put(&keys::portal_dead(tag, job.dossier.as_str(), job.id), Vec::new());
    }
}

/// Removes the given-up syncs of the kind and dossier of `job`, which has just
/// carried a later state to the portal. Returns how many were settled.
pub fn settle_dead(tx: &mut Tx<'_>, job: &Job) -> Result<usize, StoreError> {
    let Some(prefix) = dead_prefix(&job.kind, job.dossier.as_str()) else { return Ok(0) };
    let entries = tx.scan_prefix_after(&prefix, None, 1000)?;
    let mut settled = 0;
    for (key, _) in entries {
        let id = keys::parse_portal_dead(&key, &prefix);
        tx.remove(&key);
        if let Some(id) = id.filter(|id| *id < job.id)
            && tx.get(&keys::dead(id))?.is_some()
        {
            crate::outbox::forget_dead(tx, id, job.dossier.as_str());
            settled += 1;
        }
    }
    Ok(settled)
}
