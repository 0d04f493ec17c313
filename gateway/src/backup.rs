//! Backups: a consistent, verifiable snapshot of the store and its blobs, and the
//! restore that rebuilds a data directory from one.
//!
//! The export runs in the store's writer between two batches (docs/ARCHITECTURE.md §3), so no
//! write is half in it. The snapshot is a simple stream: a header line, then records
//! `tag · key length · key · value length · value` (tag `k` for a store entry, `b`
//! for a blob), then a trailer with the counts and the SHA-256 of everything before
//! it, which `verify` checks before anything is restored.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use ring::digest::{Context, SHA256};

const HEADER: &[u8] = b"MOTCUA-SNAPSHOT 1\n";

/// Why a snapshot could not be written, verified or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The backend could not commit a restored batch.
    #[error("the store could not take the restored entries: {0}")]
    Commit(String),
    /// The snapshot is not whole or not ours.
    #[error("not a valid snapshot: {0}")]
    Invalid(String),
    /// The target directory already holds a store.
    #[error("{0} already holds a store; restore into an empty directory")]
    NotEmpty(String),
}

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Store entries.
    pub entries: u64,
    /// Blobs.
    pub blobs: u64,
    /// SHA-256 of the snapshot body, hex.
    pub sha256: String,
}

struct HashingWriter<W> {
    inner: W,
    digest: Context,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn record(out: &mut impl Write, tag: u8, key: &[u8], value: &[u8]) -> io::Result<()> {
    out.write_all(&[tag])?;
    out.write_all(&(key.len() as u32).to_be_bytes())?;
    out.write_all(key)?;
    out.write_all(&(value.len() as u32).to_be_bytes())?;
    out.write_all(value)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a snapshot of everything in `backend` and the blobs under `blobs` to `out`.
/// Run it where no write can happen meanwhile (the store's exclusive step).
pub fn export(backend: &dyn crate::store::Reads, blobs: &Path, out: impl Write) -> Result<Summary, BackupError> {
    let mut out = HashingWriter { inner: io::BufWriter::new(out), digest: Context::new(&SHA256) };
    out.write_all(HEADER)?;
    let mut entries = 0u64;
    for item in backend.scan_from(std::ops::Bound::Unbounded) {
        let (key, value) = item?;
        record(&mut out, b'k', &key, &value)?;
        entries += 1;
    }
    let mut blob_count = 0u64;
    if let Ok(shards) = fs::read_dir(blobs) {
        let mut files: Vec<_> = shards
            .flatten()
            .filter(|e| e.path().is_dir())
            .flat_map(|shard| fs::read_dir(shard.path()).into_iter().flatten().flatten())
            .collect();
        files.sort_by_key(|e| e.file_name());
        for file in files {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.len() != 64 || name.starts_with('.') {
                continue;
            }
            record(&mut out, b'b', name.as_bytes(), &fs::read(file.path())?)?;
            blob_count += 1;
        }
    }
    let HashingWriter { mut inner, digest } = out;
    let digest = digest.finish();
    inner.write_all(b"e")?;
    inner.write_all(&entries.to_be_bytes())?;
    inner.write_all(&blob_count.to_be_bytes())?;
    inner.write_all(digest.as_ref())?;
    inner.flush()?;
    Ok(Summary { entries, blobs: blob_count, sha256: hex(digest.as_ref()) })
}

/// One record of a verified snapshot.
enum Record<'a> {
    Entry(&'a [u8], &'a [u8]),
    Blob(&'a str, &'a [u8]),
}

fn parse(bytes: &[u8]) -> Result<(Vec<Record<'_>>, Summary), BackupError> {
    let invalid = |why: &str| BackupError::Invalid(why.to_owned());
    if !bytes.starts_with(HEADER) {
        return Err(invalid("it does not start with the snapshot header"));
    }
    let trailer_at = bytes.len().checked_sub(1 + 8 + 8 + 32).ok_or_else(|| invalid("it is truncated"))?;
    let (body, trailer) = bytes.split_at(trailer_at);
    if trailer[0] != b'e' {
        return Err(invalid("the trailer is missing: it is truncated"));
    }
    let digest = ring::digest::digest(&SHA256, body);
    if digest.as_ref() != &trailer[17..] {
        return Err(invalid("the checksum does not match: it is damaged"));
    }
    let count = |at: usize| u64::from_be_bytes(trailer[at..at + 8].try_into().unwrap_or_default());
    let summary = Summary { entries: count(1), blobs: count(9), sha256: hex(digest.as_ref()) };
    let mut records = Vec::new();
    let mut at = HEADER.len();
    let take = |at: &mut usize| -> Result<&[u8], BackupError> {
        let len = body.get(*at..*at + 4).ok_or_else(|| invalid("a record is cut"))?;
        let len = u32::from_be_bytes(len.try_into().unwrap_or_default()) as usize;
        let slice = body.get(*at + 4..*at + 4 + len).ok_or_else(|| invalid("a record is cut"))?;
        *at += 4 + len;
        Ok(slice)
    };
    while at < body.len() {
        let tag = body[at];
        at += 1;
        let (key, value) = (take(&mut at)?, take(&mut at)?);
        records.push(match tag {
            b'k' => Record::Entry(key, value),
            b'b' => Record::Blob(std::str::from_utf8(key).map_err(|_| invalid("a blob name is not text"))?, value),
            _ => return Err(invalid("unknown record tag")),
        });
    }
    let entries = records.iter().filter(|r| matches!(r, Record::Entry(..))).count() as u64;
    if entries != summary.entries || records.len() as u64 - entries != summary.blobs {
        return Err(invalid("the record counts do not match the trailer"));
    }
    Ok((records, summary))
}

/// A store entry of a snapshot: its full key and its value.
pub type SnapshotEntry<'a> = (&'a [u8], &'a [u8]);

/// The store entries of a verified snapshot.
pub fn entries(bytes: &[u8]) -> Result<Vec<SnapshotEntry<'_>>, BackupError> {
    let (records, _) = parse(bytes)?;
    Ok(records
        .into_iter()
        .filter_map(|r| match r {
            Record::Entry(key, value) => Some((key, value)),
            Record::Blob(..) => None,
        })
        .collect())
}

/// Checks a snapshot whole (header, every record, counts and checksum).
pub fn verify(bytes: &[u8]) -> Result<Summary, BackupError> {
    parse(bytes).map(|(_, summary)| summary)
}

/// Rebuilds a data directory's store and blobs from a verified snapshot.
pub fn restore(bytes: &[u8], data_dir: &Path, cache_capacity_mb: u64) -> Result<Summary, BackupError> {
    let (records, summary) = parse(bytes)?;
    let store_dir = data_dir.join("store");
    if store_dir.exists() && fs::read_dir(&store_dir)?.next().is_some() {
        return Err(BackupError::NotEmpty(data_dir.display().to_string()));
    }
    crate::files::private_dir(data_dir)?;
    let blobs = crate::store::BlobStore::open(&data_dir.join("blobs"))?;
    let backend = crate::store::SledBackend::open(&store_dir, cache_capacity_mb, data_dir)?;
    let mut batch = std::collections::BTreeMap::new();
    for record in records {
        match record {
            Record::Entry(key, value) => {
                batch.insert(key.to_vec(), Some(value.to_vec()));
                if batch.len() >= 10_000 {
                    crate::store::Backend::commit(&backend, &std::mem::take(&mut batch), &[])
                        .map_err(|e| BackupError::Commit(e.to_string()))?;
                }
            }
            Record::Blob(name, content) => blobs.put(name, content)?,
        }
    }
    crate::store::Backend::commit(&backend, &batch, &[]).map_err(|e| BackupError::Commit(e.to_string()))?;
    crate::store::Backend::close(&backend);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_round_trips_and_damage_is_detected() {
        let source = tempfile::tempdir().unwrap();
        use crate::store::{Backend, Overlay, Reads, SledBackend};
        let db = SledBackend::open(&source.path().join("store"), 8, source.path()).unwrap();
        let mut batch = Overlay::new();
        batch.insert(b"dA".to_vec(), Some(b"one".to_vec()));
        batch.insert(b"oB".to_vec(), Some(b"two".to_vec()));
        db.commit(&batch, &[]).unwrap();
        let blobs = crate::store::BlobStore::open(&source.path().join("blobs")).unwrap();
        let hash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        blobs.put(hash, b"hello").unwrap();
        let mut snapshot = Vec::new();
        let summary = export(&db, &source.path().join("blobs"), &mut snapshot).unwrap();
        assert_eq!((summary.entries, summary.blobs), (2, 1));
        assert_eq!(verify(&snapshot).unwrap(), summary);

        let target = tempfile::tempdir().unwrap();
        restore(&snapshot, target.path(), 8).unwrap();
        let restored = SledBackend::open(&target.path().join("store"), 8, target.path()).unwrap();
        assert_eq!(restored.get(b"oB").unwrap().unwrap(), b"two");
        assert_eq!(
            crate::store::BlobStore::open(&target.path().join("blobs")).unwrap().get(hash).unwrap().unwrap(),
            b"hello"
        );
        drop(restored);
        assert!(matches!(restore(&snapshot, target.path(), 8), Err(BackupError::NotEmpty(_))));

        let mut damaged = snapshot.clone();
        damaged[HEADER.len() + 6] ^= 1;
        assert!(matches!(verify(&damaged), Err(BackupError::Invalid(_))));
        assert!(matches!(verify(&snapshot[..snapshot.len() - 10]), Err(BackupError::Invalid(_))));
    }
}
