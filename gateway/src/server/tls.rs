//! TLS for the listener: rustls with the ring provider only, TLS 1.2 and 1.3, ALPN
//! `h2` and `http/1.1`, optional client certificates from a configured CA; and the
//! development certificate (`tls = "dev"`): a CA and a server certificate for
//! localhost generated into the data directory on first start.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// Certificates or keys are unusable.
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io { path: path.display().to_string(), error: source }
}

/// The ring crypto provider: the only one this gateway links.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Where the development certificate lives under the data directory.
#[derive(Debug, Clone)]
pub struct DevCertificate {
    /// The CA to give to `curl --cacert`.
    pub ca: PathBuf,
    /// The server's chain.
    pub cert: PathBuf,
    /// The server's key.
    pub key: PathBuf,
}

/// Creates the development CA and server certificate unless they exist.
pub fn ensure_dev_certificate(data_dir: &Path) -> Result<DevCertificate, TlsError> {
    let dir = data_dir.join("tls");
    let paths =
        DevCertificate { ca: dir.join("dev-ca.pem"), cert: dir.join("server.pem"), key: dir.join("server.key.pem") };
    if paths.ca.exists() && paths.cert.exists() && paths.key.exists() {
        return Ok(paths);
    }
    crate::files::private_dir(&dir).map_err(io(&dir))?;
    let invalid = |e: rcgen::Error| TlsError::Invalid(format!("cannot generate the development certificate: {e}"));

    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(invalid)?;
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "motcua development CA (not for production)");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let ca_key = rcgen::KeyPair::generate().map_err(invalid)?;
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(invalid)?;

    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let mut params = rcgen::CertificateParams::new(names).map_err(invalid)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "motcua development server");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate().map_err(invalid)?;
    let cert = params.signed_by(&key, &ca).map_err(invalid)?;

    for (path, pem) in [(&paths.key, key.serialize_pem()), (&paths.cert, cert.pem()), (&paths.ca, ca.pem())] {
        // A file left by an interrupted earlier start is replaced.
        let _ = std::fs::remove_file(path);
        crate::files::write_new_private(path, pem.as_bytes()).map_err(io(path))?;
    }
    Ok(paths)
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::Invalid(format!("{}: {e}", path.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Invalid(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError::Invalid(format!("{}: no certificate found", path.display())));
    }
    Ok(certs)
}

/// When the first certificate of the chain in `cert` expires, seconds since the epoch.
pub fn not_after(cert: &Path) -> Option<i64> {
    let chain = load_certs(cert).ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(chain.first()?).ok()?;
    Some(parsed.validity().not_after.timestamp())
}

/// Builds the listener's TLS configuration.
pub fn server_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Invalid(format!("{}: {e}", key.display())))?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Invalid(e.to_string()))?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in load_certs(ca)? {
                roots.add(cert).map_err(|e| TlsError::Invalid(format!("{}: {e}", ca.display())))?;
            }
            // Certificates are asked for, not required: only clients configured with
            // an mTLS requirement are refused without one (docs/CONTRACT.md §0).
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::Invalid(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| TlsError::Invalid(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What the listener learned about a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate {
    /// The subject, as `CN=…, O=…`.
    pub subject: String,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub sha256: String,
}

impl PeerCertificate {
    /// Reads the subject and fingerprint of a DER certificate.
    pub fn from_der(der: &[u8]) -> Option<PeerCertificate> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let sha256 = crate::digest::hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref());
        Some(PeerCertificate { subject: cert.subject().to_string(), sha256 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_certificate_is_generated_once_and_loads() {
        let dir = std::env::temp_dir().join(format!("motcua-tls-test-{}", std::process::id()));
        let first = ensure_dev_certificate(&dir).unwrap();
        let pem = std::fs::read(&first.cert).unwrap();
        let again = ensure_dev_certificate(&dir).unwrap();
        assert_eq!(std::fs::read(&again.cert).unwrap(), pem, "an existing certificate is kept");
        let config = server_config(&first.cert, &first.key, Some(&first.ca)).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        let expires = not_after(&first.cert).unwrap();
        assert!(expires > jiff::Timestamp::now().as_second(), "the development certificate is valid now");
        let der = load_certs(&first.cert).unwrap().remove(0);
        let peer = PeerCertificate::from_der(&der).unwrap();
        assert!(peer.subject.contains("motcua development server"), "{}", peer.subject);
        assert_eq!(peer.sha256.len(), 64);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
