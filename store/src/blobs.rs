//! Content-addressed storage of inline attachments outside sled (sled never syncs
//! its separate blob files): write to a temporary file, fsync it, rename it to its
//! SHA-256, fsync the directory. Only the hash goes into the store.
//!
//! A blob is written before the dossier that names it is committed (so that a stored
//! hash always has its file), under a claim: when the dossier is then refused, the
//! files its request created are removed again, unless another request has claimed or
//! committed the same content meanwhile.

use std::{
    collections::HashMap,
    fs::{self, File},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

/// Numbers the temporary files of this process's writes.
static TEMP_NAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What the requests writing one content have done, while any of them is under way.
#[derive(Debug, Default)]
struct Claimed {
    /// Requests holding a claim.
    holders: usize,
    /// Some request committed a dossier naming it.
    committed: bool,
}

/// The blob directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    claims: Arc<Mutex<HashMap<String, Claimed>>>,
}

/// A request's claim on a content it is storing.
#[derive(Debug)]
#[must_use = "settle a claim once the dossier naming the content is committed or refused"]
pub struct Claim {
    hash: String,
    created: bool,
}

impl BlobStore {
    /// Opens (creating) the directory.
    pub fn open(dir: &Path) -> std::io::Result<BlobStore> {
        crate::files::private_dir(dir)?;
        Ok(BlobStore { dir: dir.to_owned(), claims: Arc::default() })
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, HashMap<String, Claimed>> {
        self.claims.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `bytes` under `sha256_hex` for a dossier not yet committed; settle the
    /// claim when it is.
    pub fn put_claimed(&self, sha256_hex: &str, bytes: &[u8]) -> std::io::Result<Claim> {
        self.claims().entry(sha256_hex.to_owned()).or_default().holders += 1;
        let existed = self.path_of_checked(sha256_hex).is_some_and(|p| p.exists());
        let claim = Claim { hash: sha256_hex.to_owned(), created: !existed };
        match self.put(sha256_hex, bytes) {
            Ok(()) => Ok(claim),
            Err(e) => {
                self.settle(vec![claim], false);
                Err(e)
            }
        }
    }

    /// Settles claims: the dossier naming them was committed (the files stay), or not
    /// (the files these claims created go, unless another request still holds or has
    /// committed the same content).
    pub fn settle(&self, claims: Vec<Claim>, committed: bool) {
        let mut all = self.claims();
        for claim in claims {
            let Some(state) = all.get_mut(&claim.hash) else { continue };
            state.holders = state.holders.saturating_sub(1);
            state.committed |= committed;
            let (alone, kept) = (state.holders == 0, state.committed);
            if !committed
                && claim.created
                && alone
                && !kept
                && let Some(path) = self.path_of_checked(&claim.hash)
            {
                let _ = fs::remove_file(path);
            }
            if alone {
                all.remove(&claim.hash);
            }
        }
    }

    fn path_of_checked(&self, sha256_hex: &str) -> Option<PathBuf> {
        (sha256_hex.len() == 64 && sha256_hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| self.path_of(sha256_hex))
    }

    fn path_of(&self, sha256_hex: &str) -> PathBuf {
        self.dir.join(&sha256_hex[..2]).join(sha256_hex)
    }

    /// Stores `bytes` durably under `sha256_hex` (the caller computed it); storing
    /// the same content twice is a no-op.
    pub fn put(&self, sha256_hex: &str, bytes: &[u8]) -> std::io::Result<()> {
        if sha256_hex.len() != 64 || !sha256_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a SHA-256 in hex"));
        }
        let target = self.path_of(sha256_hex);
        if target.exists() {
            return Ok(());
        }
        let shard = target.parent().ok_or_else(|| std::io::Error::other("a blob path without a shard directory"))?;
        fs::create_dir_all(shard)?;
        // A name of its own per write: two writes of one attachment never share a
        // temporary file, and a failed write leaves none behind.
        let n = TEMP_NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = shard.join(format!(".{sha256_hex}.{}.{n}.tmp", std::process::id()));
        let written = crate::files::write_new_private(&temp, bytes).and_then(|()| fs::rename(&temp, &target));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        File::open(shard)?.sync_all()?;
        File::open(&self.dir)?.sync_all()
    }

    /// The content stored under `sha256_hex`, if any.
    pub fn get(&self, sha256_hex: &str) -> std::io::Result<Option<Vec<u8>>> {
        if sha256_hex.len() != 64 || !sha256_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        match fs::read(self.path_of(sha256_hex)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256_hex(bytes: &[u8]) -> String {
        ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn concurrent_writes_of_one_attachment_each_succeed_and_leave_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let content: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
        let hash = sha256_hex(&content);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| blobs.put(&hash, &content).unwrap());
            }
        });
        assert_eq!(blobs.get(&hash).unwrap().as_deref(), Some(content.as_slice()));
        let shard: Vec<_> =
            fs::read_dir(dir.path().join(&hash[..2])).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(shard, [std::ffi::OsString::from(&hash)]);
    }

    #[test]
    fn a_refused_dossiers_new_files_go_and_shared_or_committed_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let (a, b) = (b"tep thu nhat".to_vec(), b"tep thu hai".to_vec());
        let (ha, hb) = (sha256_hex(&a), sha256_hex(&b));
        // Refused alone: its new file goes.
        let claim = blobs.put_claimed(&ha, &a).unwrap();
        blobs.settle(vec![claim], false);
        assert_eq!(blobs.get(&ha).unwrap(), None);
        // Refused while another request holds the same content, which then commits.
        let first = blobs.put_claimed(&hb, &b).unwrap();
        let second = blobs.put_claimed(&hb, &b).unwrap();
        blobs.settle(vec![first], false);
        assert!(blobs.get(&hb).unwrap().is_some(), "another request still holds it");
        blobs.settle(vec![second], true);
        assert!(blobs.get(&hb).unwrap().is_some());
        // A content committed before is never removed by a later refusal.
        let again = blobs.put_claimed(&hb, &b).unwrap();
        blobs.settle(vec![again], false);
        assert!(blobs.get(&hb).unwrap().is_some(), "it existed before this request");
    }
}
