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

use super::{
    CommitNote, StoreError,
    backend::{Backend, CommitError, Entries, Reads},
    tx::Overlay,
    values::{self, Entry, Pointer, ReadError, ValueLog},
};

/// Tries of a held sled lock, 50 ms apart.
const LOCK_TRIES: u32 = 40;
/// How often the compactor looks for segments worth compacting.
const COMPACT_EVERY: Duration = Duration::from_secs(10);
/// Entries the compactor moves under one hold of the apply lock.
const MOVE_AT_ONCE: usize = 256;
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
    /// Held while a batch or the compactor appends to the log and applies to sled, so
    /// that a record the compactor moves is never one a batch has just replaced.
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
            .spawn(move || compact_loop(&inner, &stopped))
            .map_err(|e| StoreError::Backend(format!("cannot start the value log's compactor: {e}")))?;
        *self.compactor.lock().unwrap_or_else(PoisonError::into_inner) = Some((stop, handle));
        Ok(())
    }

    /// Compacts every segment worth it now (tests; the compactor does this on its own).
    #[doc(hidden)]
    pub fn compact_now(&self) -> Result<usize, StoreError> {
        let segments = self.inner.values.worth_compacting();
        for &segment in &segments {
            self.inner.compact(segment).map_err(|e| StoreError::Backend(e.to_string()))?;
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

    /// Moves what is still live in `segment` to the current one, makes the new
    /// pointers durable, then deletes the segment.
    fn compact(&self, segment: u32) -> Result<(), CommitError> {
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

/// Compacts segments worth it every `COMPACT_EVERY` until told to stop.
fn compact_loop(inner: &Inner, stopped: &mpsc::Receiver<()>) {
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
mod tests {
    use super::*;
    use crate::keys;

    fn record(code: &str, round: u32) -> Vec<u8> {
        crate::encode_compressed(&serde_json::json!({"code": code, "round": round, "text": "hồ sơ ".repeat(40)}))
            .unwrap()
    }

    fn commit(db: &SledBackend, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        let batch: Overlay = writes.iter().cloned().collect();
        db.commit(&batch, &[]).unwrap();
    }

    fn code(n: u32) -> String {
        format!("000.00.15.H01-261201-{n:04}")
    }

    fn raw(db: &SledBackend, key: &[u8]) -> Vec<u8> {
        db.inner.db.get(key).unwrap().unwrap().to_vec()
    }

    #[test]
    fn records_live_in_the_value_log_and_the_tree_holds_pointers() {
        let dir = tempfile::tempdir().unwrap();
        let db = SledBackend::open(&dir.path().join("store"), 8, dir.path()).unwrap();
        let small = keys::meta("small");
        let writes: Vec<_> = (1..=20)
            .map(|n| (keys::dossier(&code(n)).full().to_vec(), Some(record(&code(n), 1))))
            .chain([(small.full().to_vec(), Some(vec![7u8; 200]))])
            .collect();
        commit(&db, &writes);
        for (key, value) in &writes {
            assert_eq!(db.get(key).unwrap().as_ref(), value.as_ref());
        }
        let first = keys::dossier(&code(1));
        assert_eq!(raw(&db, first.full()).len(), values::POINTER_LEN, "a record is a pointer in the tree");
        assert_eq!(raw(&db, small.full()), vec![7u8; 200], "other spaces stay in the tree");
        let scanned: Vec<_> = crate::backend::scan_prefix(&db, keys::dossiers().full()).map(Result::unwrap).collect();
        assert_eq!(scanned.len(), 20);
        assert!(scanned.iter().zip(&writes).all(|((k, v), (key, value))| k == key && Some(v) == value.as_ref()));
        // A record removed is gone; one written in a store before the log is still read.
        commit(&db, &[(first.full().to_vec(), None)]);
        assert_eq!(db.get(first.full()).unwrap(), None);
        let inline = record(&code(99), 1);
        db.inner.db.insert(keys::dossier(&code(99)).full(), inline.clone()).unwrap();
        assert_eq!(db.get(keys::dossier(&code(99)).full()).unwrap(), Some(inline));
    }

    #[test]
    fn compaction_keeps_every_live_record_and_frees_what_was_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let segment_bytes = 1024;
        let db = SledBackend::open_with_segments(&store, 8, dir.path(), segment_bytes).unwrap();
        for round in 1..=30 {
            let writes: Vec<_> =
                (1..=10).map(|n| (keys::dossier(&code(n)).full().to_vec(), Some(record(&code(n), round)))).collect();
            commit(&db, &writes);
        }
        let values_dir = dir.path().join("values");
        let segments = || std::fs::read_dir(&values_dir).unwrap().count();
        let before = (segments(), db.size_on_disk().unwrap());
        assert!(before.0 > 10, "{before:?}");
        assert!(db.compact_now().unwrap() > 0);
        assert!(segments() < before.0 / 3, "{} segments of {}", segments(), before.0);
        let latest = |db: &SledBackend| {
            (1..=10)
                .map(|n| {
                    crate::decode::<serde_json::Value>(
                        &keys::dossier(&code(n)),
                        &db.get(keys::dossier(&code(n)).full()).unwrap().unwrap(),
                    )
                    .unwrap()["round"]
                        .clone()
                })
                .collect::<Vec<_>>()
        };
        assert!(latest(&db).iter().all(|round| *round == 30));
        // After a restart the records are where the tree says, and nothing is left to
        // compact but what the restart began.
        drop(db);
        let db = SledBackend::open_with_segments(&store, 8, dir.path(), segment_bytes).unwrap();
        assert!(latest(&db).iter().all(|round| *round == 30));
        db.compact_now().unwrap();
        assert_eq!(db.compact_now().unwrap(), 0);
        assert!(latest(&db).iter().all(|round| *round == 30));
        // What each segment holds is read back on open as the batches kept it, the same
        // as counting every pointer again; the record is not part of the contents.
        let live = |db: &SledBackend| {
            let record = db.inner.values.usage_record();
            record.chunks_exact(12).filter(|c| c[4..] != [0u8; 8]).map(<[u8]>::to_vec).collect::<Vec<_>>()
        };
        let kept = live(&db);
        assert!(!kept.is_empty());
        assert_eq!(db.get(USAGE_KEY).unwrap(), None);
        assert!(crate::backend::scan_prefix(&db, b"m").next().is_none(), "nothing listed in the meta space");
        db.inner.db.remove(USAGE_KEY).unwrap();
        drop(db);
        let db = SledBackend::open_with_segments(&store, 8, dir.path(), segment_bytes).unwrap();
        assert_eq!(live(&db), kept, "counted from the pointers");
    }

    #[test]
    fn a_torn_tail_is_ignored_and_a_damaged_record_is_an_error_naming_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let key = keys::dossier(&code(1));
        let value = record(&code(1), 1);
        {
            let db = SledBackend::open(&store, 8, dir.path()).unwrap();
            commit(&db, &[(key.full().to_vec(), Some(value.clone()))]);
        }
        let segment = dir.path().join("values").join("00000001.seg");
        // A batch that reached the log but not the tree when the process stopped.
        let mut bytes = std::fs::read(&segment).unwrap();
        let whole = bytes.len();
        bytes.extend_from_within(..whole / 2);
        std::fs::write(&segment, &bytes).unwrap();
        let db = SledBackend::open(&store, 8, dir.path()).unwrap();
        assert_eq!(db.get(key.full()).unwrap(), Some(value.clone()));
        let entries: Vec<_> = db.inner.values.entries(1).unwrap().map(Result::unwrap).collect();
        assert_eq!(entries.len(), 1, "the torn entry ends the segment");
        drop(db);
        // One flipped byte in the record: an error, never another record's bytes.
        bytes[whole - 5] ^= 0x40;
        std::fs::write(&segment, &bytes).unwrap();
        let db = SledBackend::open(&store, 8, dir.path()).unwrap();
        let error = db.get(key.full()).unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(_)) && error.to_string().contains("261201-0001"), "{error}");
        drop(db);
        // A segment lost altogether: an error too, not a read that goes round forever.
        std::fs::remove_file(&segment).unwrap();
        let db = SledBackend::open(&store, 8, dir.path()).unwrap();
        let error = db.get(key.full()).unwrap_err();
        assert!(error.to_string().contains("segment is missing"), "{error}");
    }
}
