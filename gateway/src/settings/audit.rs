//! `[audit]`, checked: checkpoint periods that divide a day, the signing key's file,
//! and where checkpoints are published.

use std::path::{Path, PathBuf};

use crate::audit::Periods;
use crate::config::{Problems, audit_file::AuditSection, check_url, resolve};

/// Where checkpoints are POSTed.
#[derive(Debug, Clone)]
pub struct PublishTarget {
    /// The address.
    pub url: String,
    /// Its client (timeout, trusted CA).
    pub client: reqwest::Client,
}

/// The sealed history's settings.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// The checkpoint periods.
    pub periods: Periods,
    /// The signing key's file.
    pub key_file: PathBuf,
    /// The directory receiving checkpoints as files.
    pub publish_dir: Option<PathBuf>,
    /// The address receiving checkpoints.
    pub publish_url: Option<PublishTarget>,
}

/// Checks `[audit]` (its defaults when absent).
pub fn check(section: Option<&AuditSection>, base: &Path, data_dir: &Path, problems: &mut Problems) -> AuditSettings {
    let default = AuditSection::default();
    let a = section.unwrap_or(&default);
    if a.period_secs == 0 || 86_400 % a.period_secs != 0 {
        problems.add("audit.period_secs", "must divide a day (86400 seconds) evenly");
    }
    if a.settle_secs > 86_400 {
        problems.add("audit.settle_secs", "at most a day (86400 seconds)");
    }
    let publish_url = a.publish_url.as_ref().and_then(|url| {
        check_url("audit.publish_url", url, problems);
        let mut builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ca) = &a.publish_ca_file {
            let ca = resolve(base, ca);
            match std::fs::read(&ca).map(|pem| reqwest::Certificate::from_pem_bundle(&pem)) {
                Ok(Ok(certs)) => builder = builder.tls_certs_only(certs),
                Ok(Err(e)) => problems.add("audit.publish_ca_file", e),
                Err(e) => problems.add("audit.publish_ca_file", format!("cannot read {}: {e}", ca.display())),
            }
        }
        match builder.build() {
            Ok(client) => Some(PublishTarget { url: url.clone(), client }),
            Err(e) => {
                problems.add("audit.publish_url", e);
                None
            }
        }
    });
    AuditSettings {
        periods: Periods {
            length: i64::try_from(a.period_secs.clamp(1, 86_400)).unwrap_or(86_400),
            settle: i64::try_from(a.settle_secs.min(86_400)).unwrap_or(600),
        },
        key_file: a.key_file.as_ref().map_or_else(|| data_dir.join("audit").join("ed25519.pk8"), |f| resolve(base, f)),
        publish_dir: a.publish_dir.as_ref().map(|d| resolve(base, d)),
        publish_url,
    }
}
