//! Files and directories that hold personal data or secrets (the store, blobs,
//! TLS keys, backups): readable by the gateway's user only — directories 0700,
//! files 0600 — whatever the umask the service was started with.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

/// Mode of private directories.
pub const DIR_MODE: u32 = 0o700;
/// Mode of private files.
pub const FILE_MODE: u32 = 0o600;

/// Makes every file and directory the process creates from now on private to its
/// user, including those other libraries create (sled's data and snapshot files).
pub fn restrict_umask() {
    rustix::process::umask(rustix::fs::Mode::RWXG | rustix::fs::Mode::RWXO);
}

/// Creates `path` (and its parents) if needed and makes it private; an existing
/// directory of an older, looser install is tightened too.
pub fn private_dir(path: &Path) -> io::Result<()> {
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))
}

/// Creates a new private file; fails if `path` exists, so two writers never share one.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)
}

/// Writes `bytes` to a new private file at `path` and syncs it.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = create_new_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The permission bits of `path`.
pub fn mode_of(path: &Path) -> io::Result<u32> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_and_directories_have_no_group_or_other_bits() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        private_dir(&sub).unwrap();
        assert_eq!(mode_of(&sub).unwrap(), DIR_MODE);
        let file = sub.join("secret");
        write_new_private(&file, b"x").unwrap();
        assert_eq!(mode_of(&file).unwrap(), FILE_MODE);
        assert!(write_new_private(&file, b"y").is_err(), "never overwritten");
    }
}
