//! Moving a store between backends (docs/STORAGE.md): every entry of a sled store, a
//! snapshot file or a PostgreSQL database copied into an empty sled store or an empty
//! PostgreSQL database, in batches of one atomic commit each, then counted on both
//! sides. The blobs stay in the data directory, which a node keeps whatever its backend.

use std::path::PathBuf;

use crate::store::{Backend, Overlay, SledBackend, StoreError, postgres::PostgresBackend};

/// One side of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// A data directory whose store is sled (`sled:DIR`).
    Sled(PathBuf),
    /// A snapshot file written by `motcua backup` (`snapshot:FILE`, source only).
    Snapshot(PathBuf),
    /// A PostgreSQL database (`postgres:CONNECTION-STRING`).
    Postgres(String),
}

impl std::str::FromStr for Side {
    type Err = String;

    fn from_str(s: &str) -> Result<Side, String> {
        match s.split_once(':') {
            Some(("sled", dir)) => Ok(Side::Sled(dir.into())),
            Some(("snapshot", file)) => Ok(Side::Snapshot(file.into())),
            Some(("postgres", url)) => Ok(Side::Postgres(url.into())),
            _ => Err(format!("{s:?}: give sled:DATA_DIR, snapshot:FILE or postgres:CONNECTION-STRING")),
        }
    }
}

/// Why a migration stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The snapshot is not valid.
    #[error(transparent)]
    Snapshot(#[from] crate::backup::BackupError),
    /// The target already holds entries.
    #[error("the target already holds {0} entries; migrate into an empty store")]
    NotEmpty(usize),
    /// A batch could not be committed.
    #[error("the target refused a batch: {0}")]
    Commit(String),
    /// The two sides do not hold the same number of entries afterwards.
    #[error("copied {copied} entries but the target holds {held}")]
    Count {
        /// Entries copied.
        copied: usize,
        /// Entries the target holds.
        held: usize,
    },
    /// A side that cannot be used here.
    #[error("{0}")]
    Usage(String),
}

/// Entries per commit.
const BATCH: usize = 10_000;

/// Opens one side's backend without joining its cluster (no leadership, no notes).
pub fn open(side: &Side, password: Option<&str>) -> Result<Box<dyn Backend>, MigrateError> {
    match side {
        Side::Sled(dir) => {
            crate::files::private_dir(dir).map_err(|e| MigrateError::Usage(format!("{}: {e}", dir.display())))?;
            Ok(Box::new(SledBackend::open(&dir.join("store"), 64, dir)?))
        }
        Side::Postgres(url) => Ok(Box::new(PostgresBackend::open(url, password, None, None)?)),
        Side::Snapshot(_) => Err(MigrateError::Usage("a snapshot can only be the source".into())),
    }
}

/// Copies every entry of `from` into the empty `to`; returns how many.
pub fn migrate(from: &Side, to: &Side, password: Option<&str>) -> Result<usize, MigrateError> {
    let target = open(to, password)?;
    let held = target.count_prefix(b"")?;
    if held > 0 {
        return Err(MigrateError::NotEmpty(held));
    }
    let mut batch = Overlay::new();
    let mut copied = 0;
    let flush = |batch: &mut Overlay| -> Result<(), MigrateError> {
        target.commit(batch, &[]).map_err(|e| MigrateError::Commit(e.to_string()))?;
        batch.clear();
        Ok(())
    };
    let mut take = |key: Vec<u8>, value: Vec<u8>, batch: &mut Overlay| -> Result<(), MigrateError> {
        batch.insert(key, Some(value));
        copied += 1;
        if batch.len() >= BATCH {
            flush(batch)?;
        }
        Ok(())
    };
    match from {
        Side::Snapshot(file) => {
            let bytes = std::fs::read(file).map_err(|e| MigrateError::Usage(format!("{}: {e}", file.display())))?;
            for (key, value) in crate::backup::entries(&bytes)? {
                take(key.to_vec(), value.to_vec(), &mut batch)?;
            }
        }
        other => {
            let source = open(other, password)?;
            for item in source.scan_from(std::ops::Bound::Unbounded) {
                let (key, value) = item?;
                take(key, value, &mut batch)?;
            }
            source.close();
        }
    }
    flush(&mut batch)?;
    let held = target.count_prefix(b"")?;
    target.close();
    if held != copied {
        return Err(MigrateError::Count { copied, held });
    }
    Ok(copied)
}
