//! The durable store: a backend (sled 0.34 on one node, or PostgreSQL shared by
//! several) behind one writer per node with group commit (docs/ARCHITECTURE.md §3,
//! docs/STORAGE.md).
//!
//! Every write is a command run by one writer thread against the store and the
//! batch so far; the writer takes all pending commands, applies them as one atomic
//! sled batch, flushes sled and `fdatasync`s its data file, and only then answers
//! every command of the batch. On sled the flush and sync run on a thread of their
//! own while the writer applies the next batch (`writer`). A flush or sync error is
//! fail-stop: writes are refused from then on, `/readyz` fails and the process exits
//! after draining.
//! Everything lives in one sled tree whose keys start with a one-byte `Space`, so
//! that one batch is one atomic unit; the dossier records themselves lie beside it in
//! the value log (`values`), durable before the tree points to them.
//!
//! The crate also holds the transactional outbox (`outbox`: jobs written in the same
//! batch as the change that causes them) and the rule that every file holding personal
//! data or secrets is its user's alone (`files`). It depends on nothing of the gateway
//! above it.

pub mod backend;
mod blobs;
mod codec;
pub mod files;
pub mod keys;
pub mod outbox;
pub mod postgres;
pub mod rows;
mod section;
mod sled_backend;
mod tx;
mod values;
mod writer;

pub use section::{StoreBackend, StoreSection};

pub use backend::{Backend, CommitError, Reads};
pub use blobs::BlobStore;
pub use codec::{compress_json, decode, encode, encode_compressed, encode_record_json};
pub use sled_backend::SledBackend;
pub use tx::{Overlay, Tx};

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
};

use prometheus_client::metrics::{counter::Counter, histogram::Histogram};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};

pub use keys::{Key, Prefix, Range};

/// Something a committed batch tells the rest of the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitNote {
    /// An outbound job was queued or changed (its outbox key).
    Job(Key),
    /// An outbound job left the outbox (delivered, acknowledged or dead).
    JobGone(Key),
    /// The deadline schedule gained an entry at this time (seconds since the epoch).
    Schedule(i64),
}

/// Why the store could not serve a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Writes cannot be made durable now; nothing was acknowledged.
    #[error("the store cannot make writes durable")]
    Unavailable,
    /// The backend (sled, PostgreSQL) reported an error.
    #[error("store error: {0}")]
    Backend(String),
    /// A stored value could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A record would be too large to store safely.
    #[error("the record would take {bytes} bytes; at most {limit} can be stored")]
    TooLarge {
        /// Its encoded size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A write command failed unexpectedly.
    #[error("internal error in a store command")]
    Internal,
    /// Another process holds the store.
    #[error("the store in {0} is in use by another running gateway; stop that one, or give this one another data_dir")]
    InUse(String),
}

/// Store metrics, registered by the metrics module.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    /// Group commits that made writes durable.
    pub commits: Counter,
    /// Commands per group commit.
    pub batch_size: Histogram,
    /// Time of flush plus fdatasync, in seconds.
    pub sync_seconds: Histogram,
}

impl Default for StoreMetrics {
    fn default() -> Self {
        Self {
            commits: Counter::default(),
            batch_size: Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
            sync_seconds: Histogram::new([0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0]),
        }
    }
}

/// What `/readyz` looks at.
#[derive(Debug, Default)]
pub struct StoreHealth {
    failed: AtomicBool,
    /// When the batch being committed started (ms since the epoch), 0 when idle.
    committing_since_ms: AtomicI64,
}

impl StoreHealth {
    /// True once a flush or sync failed: no write will be accepted again.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// True when writes are accepted and no commit has been stuck for `max_ms`.
    pub fn ready(&self, now_ms: i64, max_ms: i64) -> bool {
        let since = self.committing_since_ms.load(Ordering::Acquire);
        !self.failed() && (since == 0 || now_ms - since <= max_ms)
    }
}

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type WriteFn = Box<dyn FnOnce(&mut Tx<'_>) -> Completion + Send>;
type ExclusiveFn = Box<dyn FnOnce(&dyn backend::Reads) + Send>;

/// A command for the writer, with the keys it says it will read.
struct Write {
    run: WriteFn,
    reads: Vec<Key>,
}

enum Command {
    Write(Write),
    /// Runs between batches with nothing else writing (consistent exports).
    Exclusive(ExclusiveFn),
    /// Commits what came before, then ends the writer.
    Stop,
}

/// A cheap handle to the store.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    commands: mpsc::Sender<Command>,
    health: Arc<StoreHealth>,
    failed: watch::Receiver<bool>,
    writer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
    blobs: BlobStore,
    dir: PathBuf,
    leading: watch::Receiver<bool>,
    /// Keeps a lone node's leadership channel open.
    _alone: Arc<watch::Sender<bool>>,
}

impl Store {
    /// Opens (or creates) the store under `data_dir`, starting its writer thread.
    /// `subscribers` receive the notes of every committed batch.
    pub fn open(
        data_dir: &Path,
        config: &StoreSection,
        metrics: StoreMetrics,
        subscribers: Vec<mpsc::UnboundedSender<CommitNote>>,
    ) -> Result<Store, StoreError> {
        let dir = data_dir.join("store");
        let backend: Arc<dyn Backend> = match config.backend {
            crate::StoreBackend::Sled => {
                let sled = SledBackend::open(&dir, config.cache_capacity_mb, data_dir)?;
                sled.start_compacting()?;
                Arc::new(sled)
            }
            crate::StoreBackend::Postgres => {
                let url = config.url.as_deref().ok_or_else(|| StoreError::Backend("[store] url is required".into()))?;
                let password = config.password_env.as_deref().and_then(|var| std::env::var(var).ok());
                Arc::new(postgres::PostgresBackend::open(
                    url,
                    password.as_deref(),
                    config.ca_file.as_deref(),
                    Some(subscribers.clone()),
                )?)
            }
        };
        // A node alone leads from the start, for good.
        let (alone, leading) = watch::channel(true);
        let leading = backend.leadership().unwrap_or(leading);
        let blobs = BlobStore::open(&data_dir.join("blobs"))
            .map_err(|e| StoreError::Backend(format!("cannot open the blob directory: {e}")))?;
        let (tx, rx) = mpsc::channel(config.max_batch * 4);
        let health = Arc::new(StoreHealth::default());
        let (failed_tx, failed_rx) = watch::channel(false);
        let writer = writer::Writer {
            backend: backend.clone(),
            commands: rx,
            max_batch: config.max_batch,
            durable: writer::Durable { health: health.clone(), failed: Arc::new(failed_tx), metrics, subscribers },
        };
        let handle = std::thread::Builder::new()
            .name("motcua-store-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| StoreError::Backend(format!("cannot start the writer: {e}")))?;
        Ok(Store {
            backend,
            commands: tx,
            health,
            failed: failed_rx,
            writer: Arc::new(std::sync::Mutex::new(Some(handle))),
            blobs,
            dir: data_dir.to_owned(),
            leading,
            _alone: Arc::new(alone),
        })
    }

    /// Whether this node runs the cluster's singletons now, and when that changes.
    pub fn leadership(&self) -> watch::Receiver<bool> {
        self.leading.clone()
    }

    /// False while the backend cannot reach a database that takes writes.
    pub fn writable(&self) -> bool {
        self.backend.writable()
    }

    /// Runs `f` in the writer. Its writes become part of the next group commit if it
    /// returns `Ok`, and are dropped if it returns `Err`; either way the answer comes
    /// only after the commit that covers the batch.
    pub async fn write<R, E, F>(&self, f: F) -> Result<Result<R, E>, StoreError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
    {
        self.write_reading(Vec::new(), f).await
    }

    /// As `write`, naming keys `f` will read. Where a read is a round trip to the
    /// database, the writer fetches the keys of a whole batch at once before its
    /// commands run, rather than one by one inside them.
    pub async fn write_reading<R, E, F>(&self, reads: Vec<Key>, f: F) -> Result<Result<R, E>, StoreError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
    {
        if self.health.failed() {
            return Err(StoreError::Unavailable);
        }
        let (reply, answer) = oneshot::channel();
        let run: WriteFn = Box::new(move |tx: &mut Tx<'_>| -> Completion {
            // A command that panics is a bug in that command, not a durability
            // failure: it is answered as an internal error and leaves no trace.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(tx)));
            if !matches!(result, Ok(Ok(_))) {
                tx.local.clear();
                tx.notes.clear();
            }
            match result {
                Ok(result) => Box::new(move |commit: Result<(), StoreError>| {
                    let _ = reply.send(commit.map(|()| result));
                }),
                Err(_) => {
                    tracing::error!("a store command panicked; its writes were discarded");
                    Box::new(move |_| {
                        let _ = reply.send(Err(StoreError::Internal));
                    })
                }
            }
        });
        self.commands.send(Command::Write(Write { run, reads })).await.map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| StoreError::Unavailable)?
    }

    /// Runs `f` in the writer thread between batches, with no write in progress (a
    /// consistent export sees the backend through the seam, never its own handle).
    pub async fn exclusive<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&dyn backend::Reads) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: ExclusiveFn = Box::new(move |backend: &dyn backend::Reads| {
            let _ = reply.send(f(backend));
        });
        self.commands.send(Command::Exclusive(run)).await.map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| StoreError::Unavailable)
    }

    /// A committed value.
    pub fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend.get(key.full())
    }

    /// A committed value decoded from JSON.
    pub fn get_json<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, StoreError> {
        self.get(key)?.map(|b| decode(key, &b)).transpose()
    }

    /// Entries whose keys start with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &Prefix) -> impl Iterator<Item = Result<(Key, Vec<u8>), StoreError>> + '_ {
        backend::scan_prefix(&*self.backend, prefix.full()).map(|item| item.map(|(k, v)| (Key::from_full(k), v)))
    }

    /// How many entries have keys that start with `prefix`, counted without copying or
    /// decoding them.
    pub fn count_prefix(&self, prefix: &Prefix) -> Result<usize, StoreError> {
        self.backend.count_prefix(prefix.full())
    }

    /// Entries with keys in `range`, in key order.
    pub fn range(&self, range: &Range) -> impl Iterator<Item = Result<(Key, Vec<u8>), StoreError>> + '_ {
        backend::range(&*self.backend, &range.start, &range.end).map(|item| item.map(|(k, v)| (Key::from_full(k), v)))
    }

    /// The store's health, for probes.
    pub fn health(&self) -> &StoreHealth {
        &self.health
    }

    /// Resolves once a flush or sync has failed.
    pub async fn wait_failed(&self) {
        let mut failed = self.failed.clone();
        let _ = failed.wait_for(|f| *f).await;
    }

    /// The content-addressed blob directory.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Size of the store on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.backend.size_on_disk()
    }

    /// Stops the writer after it has committed everything sent before, and waits for
    /// it. Other handles can still read; their writes are refused.
    pub async fn close(&self) {
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = self.commands.send(Command::Stop).await;
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_command_is_an_internal_error_and_the_store_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &StoreSection::default(), StoreMetrics::default(), Vec::new()).unwrap();
        let panicking = store.write(|tx| -> Result<(), StoreError> {
            tx.put(&keys::meta("half"), b"written".to_vec());
            panic!("a bug in a command")
        });
        let fine = store.write(|tx| -> Result<(), StoreError> {
            tx.put(&keys::meta("fine"), b"yes".to_vec());
            Ok(())
        });
        let (panicked, fine) = tokio::join!(panicking, fine);
        assert!(matches!(panicked, Err(StoreError::Internal)), "{panicked:?}");
        assert!(matches!(fine, Ok(Ok(()))));
        assert_eq!(store.get(&keys::meta("half")).unwrap(), None, "its writes were discarded");
        assert_eq!(store.get(&keys::meta("fine")).unwrap().as_deref(), Some(&b"yes"[..]));
        assert!(!store.health().failed());
    }
}
