//! Configuration as written: the TOML file's sections (`file`), relocation of a
//! file's relative paths, and the problems found while checking it, each with its
//! key path. The checked runtime form is `crate::settings`.

pub mod audit_file;
pub mod dvcqg_file;
pub mod emc_file;
pub mod file;
mod network_file;
pub mod notify_file;
pub mod payment_file;
pub mod relocate;
pub mod ui_file;
pub mod vnpost_file;

use std::path::{Path, PathBuf};

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path, e.g. `units[3] (04585).desk`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Problems collected while validating.
#[derive(Debug, Clone, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// Records a problem at `path`.
    pub fn add(&mut self, path: impl Into<String>, message: impl std::fmt::Display) {
        self.0.push(Problem { path: path.into(), message: message.to_string() });
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// The problems, in the order found, taken out.
    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

/// Resolves a path from the configuration relative to the file's directory.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_owned() } else { base.join(path) }
}

/// Checks that `url` is an absolute http(s) URL without query or fragment.
pub fn check_url(path: &str, url: &str, problems: &mut Problems) {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(['?', '#', ' ']) => {}
        _ => problems.add(path, format!("{url:?} is not an absolute http(s) URL without query")),
    }
}

/// Adds a problem at `path` when `file` cannot be read.
pub fn check_file(path: &str, file: &Path, problems: &mut Problems) {
    if let Err(e) = std::fs::metadata(file) {
        problems.add(path, format!("cannot read {}: {e}", file.display()));
    }
}
