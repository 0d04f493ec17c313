//! Compaction of the value log: a segment a third of whose bytes are replaced records
//! has what the tree still points to appended again and re-pointed, under the same lock
//! as a batch's apply; the segment is deleted only once the new pointers are durable
//! (docs/ARCHITECTURE.md §3).

use std::{
    sync::{PoisonError, atomic::Ordering, mpsc},
    time::Duration,
};

use super::{CommitError, Inner, USAGE_KEY, fatal};
use crate::values::{Entry, Pointer};

/// How often the compactor looks for segments worth compacting.
const COMPACT_EVERY: Duration = Duration::from_secs(10);
/// Entries the compactor moves under one hold of the apply lock.
const MOVE_AT_ONCE: usize = 256;

/// Compacts segments worth it every `COMPACT_EVERY` until told to stop.
pub(super) fn run(inner: &Inner, stopped: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(COMPACT_EVERY) {
        for segment in inner.values.worth_compacting() {
            if !matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            if let Err(e) = inner.compact(segment) {
                tracing::error!(error = %e, "the value log could not be compacted; refusing writes from now on");
                inner.broken.store(true, Ordering::Release);
                return;
            }
            tracing::debug!(segment, "value log segment compacted");
        }
    }
}

impl Inner {
    /// Moves what is still live in `segment` to the current one, makes the new
    /// pointers durable, then deletes the segment.
    pub(super) fn compact(&self, segment: u32) -> Result<(), CommitError> {
        let mut moving = Vec::with_capacity(MOVE_AT_ONCE);
        for entry in self.values.entries(segment).map_err(fatal)? {
            moving.push(entry.map_err(fatal)?);
            if moving.len() == MOVE_AT_ONCE {
                self.move_live(&moving)?;
                moving.clear();
            }
        }
        self.move_live(&moving)?;
        self.sync()?;
        self.values.remove(segment).map_err(fatal)
    }

    /// Appends again those of `entries` that the tree still points to, and points it
    /// at their new places.
    fn move_live(&self, entries: &[Entry]) -> Result<(), CommitError> {
        let _applying = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let mut live = Vec::new();
        for entry in entries {
            let raw = self.db.get(&entry.key).map_err(fatal)?;
            if raw.is_some_and(|raw| Pointer::of(&entry.key, &raw) == Some(entry.at)) {
                live.push(entry);
            }
        }
        if live.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(&[u8], &[u8])> = live.iter().map(|e| (e.key.as_slice(), e.value.as_slice())).collect();
        let moved = self.values.append(&pairs).map_err(fatal)?;
        let mut batch = sled::Batch::default();
        for (entry, at) in live.iter().zip(moved) {
            batch.insert(entry.key.as_slice(), &at.encode()[..]);
            self.values.release(entry.key.len(), entry.at);
        }
        batch.insert(USAGE_KEY, self.values.usage_record());
        self.db.apply_batch(batch).map_err(fatal)
    }
}
