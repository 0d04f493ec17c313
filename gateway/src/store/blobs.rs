//! Content-addressed storage of inline attachments outside sled (sled never syncs
//! its separate blob files): write to a temporary file, fsync it, rename it to its
//! SHA-256, fsync the directory. Only the hash goes into the store.

use std::{
    fs::{self, File},
    io::Write,
    path::{Path, PathBuf},
};

/// The blob directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    /// Opens (creating) the directory.
    pub fn open(dir: &Path) -> std::io::Result<BlobStore> {
        fs::create_dir_all(dir)?;
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
        let temp = shard.join(format!(".{sha256_hex}.{}.tmp", std::process::id()));
        {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        fs::rename(&temp, &target)?;
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
