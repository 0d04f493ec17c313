//! sled 0.34 as the store's backend on one node: one tree whose keys start with the
//! space byte, so that one batch is one atomic unit, and beside it the value log that
//! holds the dossier records the tree points to (`values`, docs/ARCHITECTURE.md §3).
//!
//! sled's own flush reaches the page cache only (`sync_file_range`); a sync
//! `fdatasync`s its data file so that a returned commit is on the disk. A batch's
//! records are durable in the value log before sled is given their pointers, so no
//! state sled can recover, even after a power loss, points at a record that is not
//! there.

use std::{
    fs::File,
    ops::Bound,
    path::Path,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::Duration,
};

mod compaction;

use super::{
    CommitNote, StoreError,
    backend::{Backend, CommitError, Entries, Reads},
    tx::Overlay,
    values::{self, Pointer, ReadError, ValueLog},
};

/// Tries of a held sled lock, 50 ms apart.
const LOCK_TRIES: u32 = 40;
/// Times a read follows a record whose segment was compacted away meanwhile.
const READ_TRIES: usize = 4;

/// Where the tree keeps what each value log segment still holds: the backend's own
/// bookkeeping, in the meta space, never read or listed as part of the store's contents
/// (so a backup or a migration does not carry it into another store's segments).
const USAGE_KEY: &[u8] = b"m\0value log usage";

/// sled and the value log, shared with the compactor.
struct Inner {
    db: sled::Db,
    data_file: File,
    values: ValueLog,
    /// Held while a batch appends to the log and applies to sled, and while the
    /// compactor re-points what it copied, so that a record the compactor moves is never
    /// one a batch has just replaced.
    applying: Mutex<()>,
    /// Set when the compactor could not make its work durable: the next batch fails,
    /// and the store stops taking writes as after any failed sync.
    broken: AtomicBool,
}

/// The sled backend.
pub struct SledBackend {
    inner: Arc<Inner>,
    compactor: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

fn fatal(e: impl std::fmt::Display) -> CommitError {
    CommitError::Fatal(e.to_string())
}

impl SledBackend {
    /// Opens (or creates) the sled store in `dir` and its value log in `data_dir`.
    pub fn open(dir: &Path, cache_capacity_mb: u64, data_dir: &Path) -> Result<SledBackend, StoreError> {
        Self::open_with_segments(dir, cache_capacity_mb, data_dir, values::SEGMENT_BYTES)
    }

    /// As `open`, with value log segments of `segment_bytes` (tests use small ones).
    #[doc(hidden)]
    pub fn open_with_segments(
        dir: &Path,
        cache_capacity_mb: u64,
        data_dir: &Path,
        segment_bytes: u64,
    ) -> Result<SledBackend, StoreError> {
        // A store closed a moment ago may still be letting go of its file lock (sled
        // releases it from a thread of its own), so a held lock is tried for a moment.
        let mut tries = 0;
        let db = loop {
            let opened = sled::Config::new()
                .path(dir)
                .cache_capacity(cache_capacity_mb.saturating_mul(1024 * 1024))
                .flush_every_ms(None)
                .mode(sled::Mode::HighThroughput)
                .open();
            match opened {
                Ok(db) => break db,
                Err(sled::Error::Io(io))
                    if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("acquire lock") =>
                {
                    tries += 1;
                    if tries >= LOCK_TRIES {
                        return Err(StoreError::InUse(data_dir.display().to_string()));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(other) => return Err(other.into()),
            }
        };
        let data_file = File::open(dir.join("db"))
            .map_err(|e| StoreError::Backend(format!("cannot open sled's data file: {e}")))?;
        let values = ValueLog::open(&data_dir.join("values"), segment_bytes)
            .map_err(|e| StoreError::Backend(format!("cannot open the value log: {e}")))?;
        // What each segment still holds was kept in the tree with the last batch that
        // changed it; a store without that record has its pointers counted once.
        let kept = db.get(USAGE_KEY)?;
        if !kept.is_some_and(|record| values.restore_usage(&record)) {
            for item in db.scan_prefix(super::keys::dossiers().full()) {
                let (key, raw) = item?;
                if let Some(at) = Pointer::of(&key, &raw) {
                    values.count_live(key.len(), at);
                }
            }
        }
        let inner = Inner { db, data_file, values, applying: Mutex::new(()), broken: AtomicBool::new(false) };
        Ok(SledBackend { inner: Arc::new(inner), compactor: Mutex::new(None) })
    }

    /// Starts the thread that compacts the value log's segments while the store runs
    /// (the store's own writer does; a tool that only reads or copies a store does not).
    pub fn start_compacting(&self) -> Result<(), StoreError> {
        let (stop, stopped) = mpsc::channel();
        let inner = self.inner.clone();
        let handle = std::thread::Builder::new()
            .name("motcua-store-compactor".into())
            .spawn(move || compaction::run(&inner, &stopped))
            .map_err(|e| StoreError::Backend(format!("cannot start the value log's compactor: {e}")))?;
        *self.compactor.lock().unwrap_or_else(PoisonError::into_inner) = Some((stop, handle));
        Ok(())
    }

    /// Compacts every segment worth it now (tests; the compactor does this on its own).
    #[doc(hidden)]
    pub fn compact_now(&self) -> Result<usize, StoreError> {
        let segments = self.inner.values.worth_compacting();
        for &segment in &segments {
            self.inner.compact(segment, drop).map_err(|e| StoreError::Backend(e.to_string()))?;
        }
        Ok(segments.len())
    }

    fn stop_compacting(&self) {
        let running = self.compactor.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some((stop, handle)) = running {
            drop(stop);
            let _ = handle.join();
        }
    }
}

impl Drop for SledBackend {
    fn drop(&mut self) {
        // The compactor holds sled open: it must end for the store to be opened again.
        self.stop_compacting();
    }
}

impl Inner {
    /// The stored value of `key` whose raw value in the tree is `raw`.
    fn resolve(&self, key: &[u8], mut raw: sled::IVec) -> Result<Option<Vec<u8>>, StoreError> {
        for _ in 0..READ_TRIES {
            let Some(at) = Pointer::of(key, &raw) else { return Ok(Some(raw.to_vec())) };
            match self.values.read(key, at) {
                Ok(value) => return Ok(Some(value)),
                // Compacted away since the tree was read: the tree has its new place.
                Err(ReadError::Moved) => match self.db.get(key)? {
                    Some(again) if again == raw => {
                        return Err(StoreError::Corrupt(format!(
                            "{:?}: its value log segment is missing",
                            String::from_utf8_lossy(key)
                        )));
                    }
                    Some(again) => raw = again,
                    None => return Ok(None),
                },
                Err(ReadError::Corrupt(why)) => {
                    return Err(StoreError::Corrupt(format!("{:?}: {why}", String::from_utf8_lossy(key))));
                }
                Err(ReadError::Io(e)) => return Err(StoreError::Backend(format!("cannot read the value log: {e}"))),
            }
        }
        Err(StoreError::Backend("a record kept moving while it was read".into()))
    }

    fn apply(&self, batch: &Overlay) -> Result<(), CommitError> {
        if self.broken.load(Ordering::Acquire) {
            return Err(CommitError::Fatal("the value log's compaction failed".into()));
        }
        let _applying = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let separate: Vec<(&[u8], &[u8])> = batch
            .iter()
            .filter_map(|(key, value)| {
                value.as_deref().filter(|v| values::separated(key, v)).map(|v| (key.as_slice(), v))
            })
            .collect();
        let mut pointers =
            if separate.is_empty() { Vec::new() } else { self.values.append(&separate).map_err(fatal)? }.into_iter();
        let mut sled_batch = sled::Batch::default();
        let mut records_changed = !separate.is_empty();
        for (key, value) in batch {
            if key.as_slice() == USAGE_KEY {
                continue;
            }
            if super::keys::is_dossier(key)
                && let Some(old) = self.db.get(key).map_err(fatal)?
                && let Some(at) = Pointer::of(key, &old)
            {
                self.values.release(key.len(), at);
                records_changed = true;
            }
            match value {
                Some(value) if values::separated(key, value) => {
                    let at = pointers.next().ok_or_else(|| fatal("the value log lost count of a batch"))?;
                    sled_batch.insert(key.as_slice(), &at.encode()[..]);
                }
                Some(value) => sled_batch.insert(key.as_slice(), value.as_slice()),
                None => sled_batch.remove(key.as_slice()),
            }
        }
        if records_changed {
            sled_batch.insert(USAGE_KEY, self.values.usage_record());
        }
        self.db.apply_batch(sled_batch).map_err(fatal)
    }

    fn sync(&self) -> Result<(), CommitError> {
        // sled's flush writes every batch applied before it was called; fdatasync then
        // puts them on the disk.
        self.db
            .flush()
            .map(drop)
            .map_err(|e| e.to_string())
            .and_then(|()| self.data_file.sync_data().map_err(|e| e.to_string()))
            .map_err(CommitError::Fatal)
    }
}

impl Reads for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if key == USAGE_KEY {
            return Ok(None);
        }
        match self.inner.db.get(key)? {
            Some(raw) => self.inner.resolve(key, raw),
            None => Ok(None),
        }
    }

    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_> {
        let contents = self
            .inner
            .db
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .filter(|item| !matches!(item, Ok((key, _)) if key.as_ref() == USAGE_KEY));
        Box::new(contents.filter_map(|item| {
            let resolved = item.map_err(StoreError::from).and_then(|(key, raw)| {
                let value = self.inner.resolve(&key, raw)?;
                Ok(value.map(|value| (key.to_vec(), value)))
            });
            resolved.transpose()
        }))
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0;
        for key in self.inner.db.scan_prefix(prefix).keys() {
            if key?.as_ref() != USAGE_KEY {
                count += 1;
            }
        }
        Ok(count)
    }
}

impl Backend for SledBackend {
    fn writer_reads(&self) -> &dyn Reads {
        self
    }

    fn commit(&self, batch: &Overlay, _notes: &[CommitNote]) -> Result<(), CommitError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.apply(batch)?;
        self.sync()
    }

    fn pipelines(&self) -> bool {
        true
    }

    fn apply(&self, batch: &Overlay) -> Result<(), CommitError> {
        self.inner.apply(batch)
    }

    fn sync(&self) -> Result<(), CommitError> {
        self.inner.sync()
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()?.saturating_add(self.inner.values.size()))
    }

    fn close(&self) {
        self.stop_compacting();
        let _ = self.inner.db.flush();
        let _ = self.inner.data_file.sync_data();
    }
}

#[cfg(test)]
mod tests;
