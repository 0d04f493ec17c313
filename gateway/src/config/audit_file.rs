//! `[audit]` as written: the sealed history's checkpoint periods, the key that signs
//! them, and where they are published (docs/ARCHITECTURE.md §10).

use std::path::PathBuf;

use serde::Deserialize;

/// `[audit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// The Ed25519 key (PKCS#8) that signs the checkpoints; made on first start when
    /// missing. `audit/ed25519.pk8` in the data directory by default.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Length of a checkpoint period in seconds, dividing a day (86400: one a day).
    #[serde(default = "default_period")]
    pub period_secs: u64,
    /// How long after a period ends its checkpoint is made, in seconds.
    #[serde(default = "default_settle")]
    pub settle_secs: u64,
    /// A directory that receives each checkpoint as a file.
    #[serde(default)]
    pub publish_dir: Option<PathBuf>,
    /// An address each checkpoint is POSTed to, as JSON.
    #[serde(default)]
    pub publish_url: Option<String>,
    /// Extra CA to trust for `publish_url`.
    #[serde(default)]
    pub publish_ca_file: Option<PathBuf>,
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection {
            key_file: None,
            period_secs: default_period(),
            settle_secs: default_settle(),
            publish_dir: None,
            publish_url: None,
            publish_ca_file: None,
        }
    }
}

fn default_period() -> u64 {
    86_400
}
fn default_settle() -> u64 {
    600
}
