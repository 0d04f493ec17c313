//! Compaction of the value log: a segment a third of whose bytes are replaced records
//! has what the tree still points to appended again and re-pointed; the segment is
//! deleted only once the new pointers are durable (docs/ARCHITECTURE.md §3).
//!
//! Only the re-pointing holds the apply lock, so a batch never waits for the
//! compactor's reads, appends or syncs, and the compactor rests after each step as
//! long as the step took, so that it never takes more than half a core from intake.

use std::{
    sync::{PoisonError, atomic::Ordering, mpsc},
    time::{Duration, Instant},
};

use super::{CommitError, Inner, USAGE_KEY, fatal};
use crate::values::{Entry, Pointer};

/// How often the compactor looks for segments worth compacting.
const COMPACT_EVERY: Duration = Duration::from_secs(10);
/// Entries the compactor moves in one step (about a tenth of a megabyte of records).
const MOVE_AT_ONCE: usize = 64;

/// Compacts segments worth it every `COMPACT_EVERY` until told to stop.
pub(super) fn run(inner: &Inner, stopped: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(COMPACT_EVERY) {
        for segment in inner.values.worth_compacting() {
            if !matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            if let Err(e) = inner.compact(segment, |worked| rest(stopped, worked)) {
                tracing::error!(error = %e, "the value log could not be compacted; refusing writes from now on");
                inner.broken.store(true, Ordering::Release);
                return;
            }
            tracing::debug!(segment, "value log segment compacted");
        }
    }
}

/// Waits as long as the last step took, or less if the compactor is told to stop.
fn rest(stopped: &mpsc::Receiver<()>, worked: Duration) {
    let _ = stopped.recv_timeout(worked);
}

impl Inner {
    /// Moves what is still live in `segment` to the current one, makes the new
    /// pointers durable, then deletes the segment; `pause` is given the time each step
    /// took.
    pub(super) fn compact(&self, segment: u32, mut pause: impl FnMut(Duration)) -> Result<(), CommitError> {
        let mut moving = Vec::with_capacity(MOVE_AT_ONCE);
        let mut started = Instant::now();
        for entry in self.values.entries(segment).map_err(fatal)? {
            moving.push(entry.map_err(fatal)?);
            if moving.len() == MOVE_AT_ONCE {
                self.move_live(&moving)?;
                moving.clear();
                pause(started.elapsed());
                started = Instant::now();
            }
        }
        self.move_live(&moving)?;
        self.sync()?;
        self.values.remove(segment).map_err(fatal)
    }

    /// Copies what of `entries` is live and points the tree at the copies.
    fn move_live(&self, entries: &[Entry]) -> Result<(), CommitError> {
        let copies = self.copy_live(entries)?;
        self.repoint(&copies)
    }

    /// Whether the tree points at `entry` now.
    fn points_to(&self, entry: &Entry) -> Result<bool, CommitError> {
        let raw = self.db.get(&entry.key).map_err(fatal)?;
        Ok(raw.is_some_and(|raw| Pointer::of(&entry.key, &raw) == Some(entry.at)))
    }

    /// Appends again, durably, those of `entries` the tree points to now, and returns
    /// each with its copy's place. Done without the apply lock: a batch may replace
    /// any of them meanwhile, which `repoint` sees.
    pub(super) fn copy_live<'e>(&self, entries: &'e [Entry]) -> Result<Vec<(&'e Entry, Pointer)>, CommitError> {
        let mut live = Vec::new();
        for entry in entries {
            if self.points_to(entry)? {
                live.push(entry);
            }
        }
        if live.is_empty() {
            return Ok(Vec::new());
        }
        let pairs: Vec<(&[u8], &[u8])> = live.iter().map(|e| (e.key.as_slice(), e.value.as_slice())).collect();
        let copied = self.values.append(&pairs).map_err(fatal)?;
        Ok(live.into_iter().zip(copied).collect())
    }

    /// Points the tree at each copy whose original it still points to; a copy of a
    /// record a batch replaced since is dead from the start. A crash before this leaves
    /// the copies unpointed, dead bytes in the current segment, which a batch's usage
    /// record may have counted live: at most one step's worth, until that segment is
    /// compacted itself.
    pub(super) fn repoint(&self, copies: &[(&Entry, Pointer)]) -> Result<(), CommitError> {
        if copies.is_empty() {
            return Ok(());
        }
        let _applying = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let mut batch = sled::Batch::default();
        for (entry, copy) in copies {
            if self.points_to(entry)? {
                batch.insert(entry.key.as_slice(), &copy.encode()[..]);
                self.values.release(entry.key.len(), entry.at);
            } else {
                self.values.release(entry.key.len(), *copy);
            }
        }
        batch.insert(USAGE_KEY, self.values.usage_record());
        self.db.apply_batch(batch).map_err(fatal)
    }
}
