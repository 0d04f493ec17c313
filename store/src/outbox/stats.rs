//! What the admin view and the metrics show of a destination's queue.

use jiff::Timestamp;
use motcua_schemas::DossierCode;
use serde::Serialize;

/// One destination in the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationStats {
    /// `desk:<id>`, `portal` or `postal`.
    pub destination: String,
    /// `push` or `pull`.
    pub mode: &'static str,
    /// Jobs queued.
    pub depth: usize,
    /// Age of the oldest queued job, in seconds.
    pub oldest_age_seconds: i64,
    /// Jobs being delivered now (push) or leased by the desk (pull).
    pub in_flight: usize,
    /// Attempts made on the queued jobs (for a pull desk, leases of its oldest
    /// jobs).
    pub attempts: u64,
    /// Dead letters.
    pub dead: usize,
    /// The oldest queued jobs, with their attempts and last error.
    pub oldest: Vec<JobStats>,
}

/// One queued job in the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct JobStats {
    /// Job id.
    pub id: u64,
    /// Its dossier.
    pub dossier: DossierCode,
    /// Attempts so far.
    pub attempts: u32,
    /// Next try.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub not_before: Timestamp,
    /// Last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}
