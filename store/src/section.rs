//! `[store]` as the configuration file writes it: the backend and how it is tuned.

use std::path::PathBuf;

use serde::Deserialize;

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// sled's cache of deserialized tree nodes, in MiB. Small by default: the
    /// operating system's page cache holds the hot part of the log anyway, and intake
    /// measured no faster with 64 MiB than with 16.
    #[serde(default = "default_cache_mb")]
    pub cache_capacity_mb: u64,
    /// The most commands one group commit takes.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// How long `/readyz` tolerates no successful sync while writes are pending, in seconds.
    #[serde(default = "default_ready_secs")]
    pub ready_sync_secs: u64,
    /// `"sled"` (embedded, the default) or `"postgres"` (docs/STORAGE.md).
    #[serde(default)]
    pub backend: StoreBackend,
    /// PostgreSQL: the connection string (libpq form or URL), without its password.
    pub url: Option<String>,
    /// PostgreSQL: the environment variable holding the password.
    pub password_env: Option<String>,
    /// PostgreSQL: the CA that signed the database server's certificate (TLS with
    /// rustls; `sslmode` in `url` says whether TLS is required).
    pub ca_file: Option<PathBuf>,
}

/// Where the store keeps its records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreBackend {
    /// sled 0.34 in the data directory.
    #[default]
    Sled,
    /// A PostgreSQL database (one node at a time for now).
    Postgres,
}

fn default_cache_mb() -> u64 {
    16
}
fn default_max_batch() -> usize {
    512
}
fn default_ready_secs() -> u64 {
    10
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            cache_capacity_mb: default_cache_mb(),
            max_batch: default_max_batch(),
            ready_sync_secs: default_ready_secs(),
            backend: StoreBackend::Sled,
            url: None,
            password_env: None,
            ca_file: None,
        }
    }
}
