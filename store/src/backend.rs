//! The seam under the store: what the node's writer and readers need of the database
//! that holds the bytes — point reads and ordered scans of what is committed, a batch
//! that sees every node's commits and excludes theirs while it runs, one atomic
//! multi-record commit that is durable when it returns, and its size. The dossier logic,
//! the outbox and the backup see only this; sled (`sled_backend`) and PostgreSQL are
//! the backends behind it (docs/ARCHITECTURE.md §3).

use std::ops::Bound;

use super::{CommitNote, StoreError, tx::Overlay};

/// A key and its value (full keys, the space byte first).
pub type Entry = (Vec<u8>, Vec<u8>);

/// Entries in key order.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + 'a>;

/// Reads of what is committed.
pub trait Reads: Send + Sync {
    /// The committed value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The committed values of `keys`, in their order (at once where a read is a round
    /// trip).
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|key| self.get(key)).collect()
    }

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

    /// Whether the keys a batch's commands say they will read are worth fetching at
    /// once before they run (a read is a round trip to the database).
    fn reads_ahead(&self) -> bool {
        false
    }

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
