//! The development keys published in this repository (`config/dev/`): anyone who
//! has the repository can sign tokens with them, so a configuration that uses one
//! is warned about loudly, and so is development TLS or plain HTTP off loopback.

use std::{net::SocketAddr, path::Path};

use super::TlsMode;
use crate::config::{file::ConfigFile, resolve};

/// Every published key file, by name.
const PUBLISHED: &[(&str, &str)] = &[
    ("admin-dev.key.pem", include_str!("../../../config/dev/admin-dev.key.pem")),
    ("admin-dev.pub.pem", include_str!("../../../config/dev/admin-dev.pub.pem")),
    ("gateway.key.pem", include_str!("../../../config/dev/gateway.key.pem")),
    ("gateway.pub.pem", include_str!("../../../config/dev/gateway.pub.pem")),
    ("hcc-tinh-dev.jwks.json", include_str!("../../../config/dev/hcc-tinh-dev.jwks.json")),
    ("hcc-tinh-dev.key.pem", include_str!("../../../config/dev/hcc-tinh-dev.key.pem")),
    ("mc-nghia-lo-dev.key.pem", include_str!("../../../config/dev/mc-nghia-lo-dev.key.pem")),
    ("mc-nghia-lo-dev.pub.pem", include_str!("../../../config/dev/mc-nghia-lo-dev.pub.pem")),
    ("mc-phinh-ho-dev.key.pem", include_str!("../../../config/dev/mc-phinh-ho-dev.key.pem")),
    ("mc-phinh-ho-dev.pub.pem", include_str!("../../../config/dev/mc-phinh-ho-dev.pub.pem")),
    ("mc-tram-tau-dev.key.pem", include_str!("../../../config/dev/mc-tram-tau-dev.key.pem")),
    ("mc-tram-tau-dev.pub.pem", include_str!("../../../config/dev/mc-tram-tau-dev.pub.pem")),
    ("mc-yen-bai-dev.key.pem", include_str!("../../../config/dev/mc-yen-bai-dev.key.pem")),
    ("mc-yen-bai-dev.pub.pem", include_str!("../../../config/dev/mc-yen-bai-dev.pub.pem")),
    ("portal-dev.key.pem", include_str!("../../../config/dev/portal-dev.key.pem")),
    ("portal-dev.pub.pem", include_str!("../../../config/dev/portal-dev.pub.pem")),
    ("postal-dev.key.pem", include_str!("../../../config/dev/postal-dev.key.pem")),
    ("postal-dev.pub.pem", include_str!("../../../config/dev/postal-dev.pub.pem")),
    ("operators.toml", include_str!("../../../config/dev/operators.toml")),
];

/// The name of the published key file whose content `path` holds, if any.
pub fn published_key(path: &Path) -> Option<&'static str> {
    let content = std::fs::read_to_string(path).ok()?;
    PUBLISHED.iter().find(|(_, published)| published.trim() == content.trim()).map(|(name, _)| *name)
}

/// What an operator must hear before going to production.
pub fn warnings(file: &ConfigFile, base: &Path, tls: &TlsMode, listen: SocketAddr) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(name) = published_key(&resolve(base, &file.gateway.signing_key_file)) {
        warnings.push(format!(
            "gateway.signing_key_file is the published development key config/dev/{name}: anyone can sign tokens as this gateway"
        ));
    }
    for client in &file.clients {
        for path in client.key_file.iter().chain(&client.jwks_file) {
            if let Some(name) = published_key(&resolve(base, path)) {
                warnings.push(format!(
                    "client {} uses the published development key config/dev/{name}: anyone can sign its tokens",
                    client.id
                ));
            }
        }
    }
    if let Some(file) = file.ui.as_ref().and_then(|ui| ui.operators_file.as_ref()) {
        let path = resolve(base, file);
        if let Some(name) = published_key(&path) {
            warnings.push(format!(
                "ui.operators_file is config/dev/{name}, whose passwords are published: anyone can log in to the pages"
            ));
        } else if let Ok(meta) = std::fs::metadata(&path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                warnings.push(format!(
                    "ui.operators_file {} can be read by other users than the gateway's: chmod 600 it",
                    path.display()
                ));
            }
        }
    }
    let this_year = motcua_schemas::time::to_vn(jiff::Timestamp::now()).year();
    for year in [this_year, this_year.saturating_add(1)] {
        if !file.calendar.years.iter().any(|y| y.year == year) {
            warnings.push(format!(
                "calendar: {year} has no days off configured, so its holidays count as working days; add [[calendar.years]] year = {year}"
            ));
        }
    }
    match tls {
        TlsMode::Dev => warnings.push(
            "gateway.tls = \"dev\": a self-signed development certificate; give cert_file and key_file in production"
                .to_owned(),
        ),
        TlsMode::Off if !listen.ip().is_loopback() => warnings.push(format!(
            "gateway.tls = \"off\" on {listen}, which is not a loopback address: dossiers travel unencrypted unless a TLS proxy stands in front"
        )),
        _ => {}
    }
    warnings
}
