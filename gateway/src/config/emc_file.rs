//! `[tracking]` as written: the national monitoring service (EMC, `TrackingMCDT`).

use std::path::PathBuf;

use serde::Deserialize;

/// `[tracking]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingSection {
    /// The service's `TrackingMCDT` address.
    pub url: String,
    /// The province's `SiteId` at the service.
    pub site_id: i64,
    /// The province's code (`LOCATION`), e.g. `15`.
    pub province: String,
    /// Extra CA to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout of one call, in seconds.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Calls in flight at once.
    #[serde(default)]
    pub concurrency: Option<usize>,
}
