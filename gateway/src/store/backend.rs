//! The seam under the store: what the single writer and the readers need of the
//! database that holds the bytes — point reads and ordered scans of what is
//! committed, one atomic multi-record commit that is durable when it returns, and its
//! size. The dossier logic, the outbox and the backup see only this; sled is one
//! backend behind it (docs/ARCHITECTURE.md §3).

use std::{ops::Bound, path::Path};

use super::{StoreError, tx::Overlay};

/// A key and its value (full keys, the space byte first).
pub type Entry = (Vec<u8>, Vec<u8>);

/// Entries in key order.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + 'a>;

/// What the store needs of the database under it.
pub trait Backend: Send + Sync + 'static {
    /// The committed value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Committed entries from `start` on, in key order (the caller stops reading).
    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_>;

    /// Applies every write of `batch` (a value, or `None` for a removal) as one atomic
    /// unit, durable on return. An error is fail-stop: nothing is known of the batch.
    fn commit(&self, batch: &Overlay) -> Result<(), String>;

    /// How many committed keys start with `prefix`, counted without copying values.
    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError>;

    /// Bytes the backend takes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// Makes everything durable before the writer stops.
    fn close(&self);
}

/// Committed entries with keys starting with `prefix`.
pub fn scan_prefix<'a>(backend: &'a dyn Backend, prefix: &[u8]) -> Entries<'a> {
    let prefix = prefix.to_vec();
    Box::new(
        backend
            .scan_from(Bound::Included(prefix.clone()))
            .take_while(move |item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))),
    )
}

/// Committed entries with keys in `[from, to)`.
pub fn range<'a>(backend: &'a dyn Backend, from: &[u8], to: &[u8]) -> Entries<'a> {
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
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_capacity_mb.saturating_mul(1024 * 1024))
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("acquire lock") =>
                {
                    StoreError::InUse(data_dir.display().to_string())
                }
                other => other.into(),
            })?;
        let data_file = std::fs::File::open(dir.join("db"))
            .map_err(|e| StoreError::Backend(format!("cannot open sled's data file: {e}")))?;
        Ok(SledBackend { db, data_file })
    }
}

impl Backend for SledBackend {
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

    fn commit(&self, batch: &Overlay) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(value) => sled_batch.insert(key.as_slice(), value.as_slice()),
                None => sled_batch.remove(key.as_slice()),
            }
        }
        self.db
            .apply_batch(sled_batch)
            .map_err(|e| e.to_string())
            .and_then(|()| self.db.flush().map(drop).map_err(|e| e.to_string()))
            .and_then(|()| self.data_file.sync_data().map_err(|e| e.to_string()))
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0;
        for key in self.db.scan_prefix(prefix).keys() {
            key?;
            count += 1;
        }
        Ok(count)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    fn close(&self) {
        let _ = self.db.flush();
        let _ = self.data_file.sync_data();
    }
}
