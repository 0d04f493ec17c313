//! Harness for the end-to-end tests: build and run the real `motcua` binary on a
//! temporary configuration and data directory, talk to it over HTTPS with tokens
//! minted from the development keys, and stand up real HTTP peers on loopback.

pub mod config;
pub mod gateway;
pub mod peers;
pub mod samples;
pub mod tokens;

pub use config::TestConfig;
pub use gateway::Gateway;

use std::path::{Path, PathBuf};

/// The repository's root directory.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate lives in the workspace").to_owned()
}

/// A file of the repository, read as text.
pub fn repo_file(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Installs the ring provider as the process default (the only one linked).
pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
