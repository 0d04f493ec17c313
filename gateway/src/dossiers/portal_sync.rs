//! What the portal is told when a dossier changes. With the gateway's own contract,
//! one status call per status change (docs/CONTRACT.md §6). With the national portal
//! (docs/PEERS.md §1.4–§1.6), a record sync and a progress sync that each carry the
//! dossier's latest state: a newer sync of a dossier supersedes its pending older
//! ones, so an outage ends with the portal holding the real final state, and a sync
//! that was given up is made good by the next one.

use jiff::Timestamp;

use super::DossierRecord;
use crate::outbox::{self, Destination, Job, JobKind};
use crate::settings::Settings;
use crate::store::{Space, StoreError, Tx};

/// The name of a sync kind in its index keys (`None` for jobs that are not syncs).
fn tag(kind: &JobKind) -> Option<&'static str> {
    match kind {
        JobKind::PortalRecord => Some("record"),
        JobKind::PortalProgress => Some("progress"),
        _ => None,
    }
}

/// The index key naming the newest sync of `kind` queued for dossier `code`.
fn latest_key(kind: &JobKind, code: &str) -> Option<Vec<u8>> {
    tag(kind).map(|tag| crate::store::keys::portal_sync_latest(tag, code))
}

/// The index prefix of the given-up syncs of `kind` of dossier `code`.
fn dead_prefix(kind: &JobKind, code: &str) -> Option<Vec<u8>> {
    tag(kind).map(|tag| crate::store::keys::portal_dead_prefix(tag, code))
}

fn sync(tx: &mut Tx<'_>, kind: JobKind, record: &DossierRecord, now: Timestamp) -> Result<(), StoreError> {
    let code = &record.dossier.code;
    let key = latest_key(&kind, code.as_str());
    let job = outbox::enqueue(tx, Destination::Portal, kind, code, now)?;
    if let Some(key) = key {
        tx.put(Space::Index, &key, job.id.to_be_bytes().to_vec());
    }
    Ok(())
}

/// Queues a progress sync for the steps a finished one could not carry (more than
/// the portal takes in one request).
pub fn queue_more_progress(tx: &mut Tx<'_>, record: &DossierRecord, now: Timestamp) -> Result<(), StoreError> {
    sync(tx, JobKind::PortalProgress, record, now)
}

/// Queues what a new history entry `seq` of `record` tells the portal.
pub fn queue(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &DossierRecord,
    seq: u32,
    status_changed: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(portal) = &settings.portal else { return Ok(()) };
    let channel = record.dossier.channel;
    match &portal.dvcqg {
        Some(dvcqg) if dvcqg.sync_channels.contains(&channel) => {
            sync(tx, JobKind::PortalRecord, record, now)?;
            sync(tx, JobKind::PortalProgress, record, now)
        }
        Some(_) => Ok(()),
        None if status_changed && channel == motcua_schemas::Channel::Portal => {
            outbox::enqueue(tx, Destination::Portal, JobKind::PortalStatus { seq }, &record.dossier.code, now).map(drop)
        }
        None => Ok(()),
    }
}

/// Queues what a gateway mark (overdue) tells the portal: the contract's status call
/// carries the overdue flag; the national portal's record has no such field.
pub fn queue_mark(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &DossierRecord,
    seq: u32,
    now: Timestamp,
) -> Result<(), StoreError> {
    match &settings.portal {
        Some(p) if p.dvcqg.is_none() && record.dossier.channel == motcua_schemas::Channel::Portal => {
            outbox::enqueue(tx, Destination::Portal, JobKind::PortalStatus { seq }, &record.dossier.code, now).map(drop)
        }
        _ => Ok(()),
    }
}

/// True when a newer sync of the same kind and dossier is queued: this one need not
/// be sent, the newer one carries a later state.
pub fn superseded(store: &crate::store::Store, job: &Job) -> bool {
    let Some(key) = latest_key(&job.kind, job.dossier.as_str()) else { return false };
    let latest = store.get(Space::Index, &key).ok().flatten();
    latest.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok()).is_some_and(|id| u64::from_be_bytes(id) > job.id)
}

/// Remembers a given-up sync, so that the next sync to succeed can settle it.
pub fn remember_dead(tx: &mut Tx<'_>, job: &Job) {
    if let Some(mut key) = dead_prefix(&job.kind, job.dossier.as_str()) {
        key.extend_from_slice(format!("{:020}", job.id).as_bytes());
        tx.put(Space::Index, &key, Vec::new());
    }
}

/// Removes the given-up syncs of the kind and dossier of `job`, which has just
/// carried a later state to the portal. Returns how many were settled.
pub fn settle_dead(tx: &mut Tx<'_>, job: &Job) -> Result<usize, StoreError> {
    let Some(prefix) = dead_prefix(&job.kind, job.dossier.as_str()) else { return Ok(0) };
    let entries = tx.scan_prefix_after(Space::Index, &prefix, None, 1000)?;
    let mut settled = 0;
    for (key, _) in entries {
        let id = key.get(prefix.len()..).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse::<u64>().ok());
        tx.remove(Space::Index, &key);
        if let Some(id) = id.filter(|id| *id < job.id)
            && tx.get(Space::Dead, &crate::store::keys::dead(id))?.is_some()
        {
            tx.remove(Space::Dead, &crate::store::keys::dead(id));
            settled += 1;
        }
    }
    Ok(settled)
}
