//! `[ui]` as written: the provincial centre's web pages and who may log in to them.

use std::path::PathBuf;

use serde::Deserialize;

/// `[ui]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSection {
    /// A file of `[[operators]]`, relative to this file; keep it readable by the
    /// gateway's user only (`motcua operator add` writes it so).
    pub operators_file: Option<PathBuf>,
    /// Operators written in this file.
    #[serde(default)]
    pub operators: Vec<OperatorSection>,
    /// Minutes without a request after which a session ends.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u64,
    /// Failed logins allowed per account in 15 minutes (per address: four times as many).
    #[serde(default = "default_login_attempts")]
    pub login_attempts: u32,
    /// The environment variable that holds the key sessions are signed with (at least
    /// 32 bytes, the same on every node); without it each node keeps a key of its own
    /// in its data directory.
    pub session_key_env: Option<String>,
}

fn default_idle_minutes() -> u64 {
    30
}

fn default_login_attempts() -> u32 {
    5
}

/// One operator account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSection {
    /// The login name.
    pub name: String,
    /// The name shown in the pages.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `centre` (every unit), `commune` (its unit and sub-units) or `auditor` (every
    /// unit, read only, no personal data).
    pub role: String,
    /// The unit of a commune's staff.
    #[serde(default)]
    pub unit: Option<String>,
    /// The password as an Argon2id PHC string.
    pub password_hash: String,
}

/// A file of operators.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorsFile {
    /// `[[operators]]`.
    #[serde(default)]
    pub operators: Vec<OperatorSection>,
}
