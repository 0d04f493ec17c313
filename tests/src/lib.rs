//! Harness for the end-to-end tests: build and run the real `motcua` binary on a
//! temporary configuration and data directory, talk to it over HTTPS with tokens
//! minted from the development keys, and stand up real HTTP peers on loopback.

pub mod browser;
pub mod config;
pub mod gateway;
pub mod openapi;
pub mod pages;
pub mod peers;
pub mod samples;
pub mod smtp;
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

/// Polls `check` until it returns `Some`, for at most `seconds`; panics with `what`
/// otherwise.
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out after {seconds} s waiting for: {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
