//! The seam under the store: what the node's writer and readers need of the database
//! that holds the bytes — point reads and ordered scans of what is committed, a batch
//! that sees every node's commits and excludes theirs while it runs, one atomic
//! multi-record commit that is durable when it returns, and its size. The dossier logic, the outbox and the backup see only this; sled is one
//! backend behind it (docs/ARCHITECTURE.md §3).

use std::{ops::Bound, path::Path};

use super::{CommitNote, StoreError, tx::Overlay};

/// A key and its value (full keys, the space byte first).
pub type Entry = (Vec<u8>, Vec<u8>);

/// Tries of a held sled lock, 50 ms apart.
const LOCK_TRIES: u32 = 40;

/// Entries in key order.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + 'a>;

/// Reads of what is committed.
pub trait Reads: Send + Sync {
    /// The committed value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Committed entries from `start` on, in key order (the caller stops reading).
    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_>;

    /// How many committed keys start with `prefix`, counted without copying values.
    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError>;
}

/// Why a batch was not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitError {
    /// Nothing is known of the batch and nothing may be written again (a failed
    /// `fsync` cannot be retried safely): the node stops taking writes.
    #[error("{0}")]
    Fatal(String),
    /// The batch was not acknowledged (the database is unreachable, or failing over);
    /// its callers are told to retry, and the next batch tries again.
    #[error("{0}")]
    Transient(String),
}

/// What the store needs of the database under it.
pub trait Backend: Reads + 'static {
    /// Starts a batch: from here until `commit`, `writer_reads` sees everything any node
    /// committed before, and no other node commits (one batch at a time in the cluster).
    fn begin(&self) -> Result<(), CommitError> {
        Ok(())
    }

    /// The reads a batch's commands see, between `begin` and `commit`.
    fn writer_reads(&self) -> &dyn Reads;

    /// Applies every write of `batch` (a value, or `None` for a removal) as one atomic
    /// unit, durable on return, and tells the other nodes `notes`.
    fn commit(&self, batch: &Overlay, notes: &[CommitNote]) -> Result<(), CommitError>;

    /// Whether a commit splits into `apply` and `sync`, so that the writer runs the next
    /// batch while the last is being made durable (one node, no cluster to exclude).
    fn pipelines(&self) -> bool {
        false
    }

    /// Applies `batch` as one atomic unit, visible to reads at once and durable only
    /// after the next `sync` (pipelining backends).
    fn apply(&self, batch: &Overlay) -> Result<(), CommitError> {
        self.commit(batch, &[])
    }

    /// Makes everything applied so far durable (pipelining backends).
    fn sync(&self) -> Result<(), CommitError> {
        Ok(())
    }

    /// False while the backend knows it cannot commit (no writable primary reachable).
    fn writable(&self) -> bool {
        true
    }

    /// Whether this node leads the cluster (runs the dispatcher, the deadline clock and
    /// the pollers), and when that changes; `None` when the node is alone (it leads).
    fn leadership(&self) -> Option<tokio::sync::watch::Receiver<bool>> {
        None
    }

    /// Bytes the backend takes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// Makes everything durable before the writer stops.
    fn close(&self);
}

/// Committed entries with keys starting with `prefix`.
pub fn scan_prefix<'a>(backend: &'a dyn Reads, prefix: &[u8]) -> Entries<'a> {
    let prefix = prefix.to_vec();
    Box::new(
        backend
            .scan_from(Bound::Included(prefix.clone()))
            .take_while(move |item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))),
    )
}

/// Committed entries with keys in `[from, to)`.
pub fn range<'a>(backend: &'a dyn Reads, from: &[u8], to: &[u8]) -> Entries<'a> {
    let to = to.to_vec();
    Box::new(
        backend
            .scan_from(Bound::Included(from.to_vec()))
            .take_while(move |item| item.as_ref().map_or(true, |(k, _)| *k < to)),
    )
}

/// sled 0.34: one tree whose keys start with the space byte, so that one batch is
/// one atomic unit. sled's own flush reaches the page cache only
/// (`sync_file_range`); the commit `fdatasync`s its data file so that a returned
/// commit is on the disk.
pub struct SledBackend {
    db: sled::Db,
    data_file: std::fs::File,
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl SledBackend {
    /// Opens (or creates) the sled store in `dir`.
    pub fn open(dir: &Path, cache_capacity_mb: u64, data_dir: &Path) -> Result<SledBackend, StoreError> {
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
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(other) => return Err(other.into()),
            }
        };
        let data_file = std::fs::File::open(dir.join("db"))
            .map_err(|e| StoreError::Backend(format!("cannot open sled's data file: {e}")))?;
        Ok(SledBackend { db, data_file })
    }
}

impl Reads for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_> {
        Box::new(
            self.db
                .range::<Vec<u8>, _>((start, Bound::Unbounded))
                .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from)),
        )
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0;
        for key in self.db.scan_prefix(prefix).keys() {
            key?;
            count += 1;
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
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(value) => sled_batch.insert(key.as_slice(), value.as_slice()),
                None => sled_batch.remove(key.as_slice()),
            }
        }
        self.db.apply_batch(sled_batch).map_err(|e| CommitError::Fatal(e.to_string()))
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

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    fn close(&self) {
        let _ = self.db.flush();
        let _ = self.data_file.sync_data();
    }
}
