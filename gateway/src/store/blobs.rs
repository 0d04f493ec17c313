//! Content-addressed storage of inline attachments outside sled (sled never syncs
//! its separate blob files): write to a temporary file, fsync it, rename it to its
//! SHA-256, fsync the directory. Only the hash goes into the store.

use std::{
    fs::{self, File},
    path::{Path, PathBuf},
};

/// Numbers the temporary files of this process's writes.
static TEMP_NAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The blob directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    /// Opens (creating) the directory.
    pub fn open(dir: &Path) -> std::io::Result<BlobStore> {
        crate::files::private_dir(dir)?;
        Ok(BlobStore { dir: dir.to_owned() })
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
        let shard = target.parent().expect("blob paths have a shard directory");
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
}
