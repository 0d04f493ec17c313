//! The network's sections of the configuration file as written: desks and units
//! (units also come from the files named by `unit_files`).

use std::path::PathBuf;

use serde::Deserialize;

/// How a desk takes its dossiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskMode {
    /// The gateway posts to the desk.
    Push,
    /// The desk polls its inbox.
    Pull,
}

/// `[[desks]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSection {
    /// The desk id.
    pub id: String,
    /// Its display name (Vietnamese).
    pub name: String,
    /// Its agency code (QCVN 102), used in dossier codes.
    pub agency_code: String,
    /// Push or pull.
    pub mode: DeskMode,
    /// Base URL of a push desk.
    pub url: Option<String>,
    /// CA file to trust for this desk's TLS certificate (system roots otherwise).
    pub ca_file: Option<PathBuf>,
    /// Timeout of one call, in seconds (the retry section's default otherwise).
    pub timeout_secs: Option<u64>,
    /// Calls in flight at once (the retry section's default otherwise).
    pub concurrency: Option<usize>,
    /// Units (current codes) whose desk this is; the same as `desk` on the unit.
    #[serde(default)]
    pub serves: Vec<String>,
    /// The signature block of the letters it issues, e.g. `["KT. CHỦ TỊCH",
    /// "PHÓ CHỦ TỊCH"]`; `["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]` by default.
    #[serde(default)]
    pub signer: Vec<String>,
}

/// `[[units]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSection {
    /// The statistics office code.
    pub code: String,
    /// The name (Vietnamese).
    pub name: String,
    /// The level name (`tinh`, `huyen`, `xa`, …).
    pub level: String,
    /// The parent unit's code.
    pub parent: Option<String>,
    /// The desk serving the unit (its nearest ancestor's otherwise).
    pub desk: Option<String>,
    /// First day the unit exists (`YYYY-MM-DD`); since always if absent.
    pub valid_from: Option<String>,
    /// Last day the unit exists; it still does if absent.
    pub valid_until: Option<String>,
    /// For a unit that ended, the unit that takes over the day after (for a former
    /// district, the one used when the applicant's own commune does not decide).
    pub successor: Option<String>,
}

/// A file of `[[units]]` named by `unit_files` (as `motcua units import` writes it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitsFile {
    /// The units.
    #[serde(default)]
    pub units: Vec<UnitSection>,
}
