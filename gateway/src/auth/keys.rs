//! Key material: the public keys that verify each client's tokens (PEM, JWKS or an
//! HMAC secret from the environment), the gateway's own signing key, and private
//! keys for minting development tokens.

use std::path::Path;

use base64::Engine as _;
use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey, EncodingKey,
    jwk::{AlgorithmParameters, JwkSet},
};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};

/// Why key material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The content is not a supported key.
    #[error("{path}: {reason}")]
    Unsupported {
        /// The file or variable.
        path: String,
        /// Why.
        reason: String,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read { path: path.display().to_string(), error: source })
}

fn unsupported(path: &Path, reason: impl Into<String>) -> KeyError {
    KeyError::Unsupported { path: path.display().to_string(), reason: reason.into() }
}

/// A key that verifies tokens, with the family of algorithms it can verify.
#[derive(Clone)]
pub struct VerifyKey {
    /// The `kid` it is selected by (JWKS keys); `None` matches any token.
    pub kid: Option<String>,
    /// The key.
    pub key: DecodingKey,
    /// Its algorithm family.
    pub family: AlgorithmFamily,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey").field("kid", &self.kid).field("family", &self.family).finish_non_exhaustive()
    }
}

type PemLoader = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;

/// Loads a PEM public key (Ed25519, EC or RSA).
pub fn load_public_pem(path: &Path) -> Result<VerifyKey, KeyError> {
    let pem = read(path)?;
    let attempts: [(PemLoader, AlgorithmFamily); 3] = [
        (DecodingKey::from_ed_pem, AlgorithmFamily::Ed),
        (DecodingKey::from_ec_pem, AlgorithmFamily::Ec),
        (DecodingKey::from_rsa_pem, AlgorithmFamily::Rsa),
    ];
    attempts
        .into_iter()
        .find_map(|(load, family)| load(&pem).ok().map(|key| VerifyKey { kid: None, key, family }))
        .ok_or_else(|| unsupported(path, "not a PEM public key (Ed25519, EC or RSA)"))
}

/// Loads the asymmetric keys of a JWKS file; symmetric (`oct`) keys are refused.
pub fn load_jwks(path: &Path) -> Result<Vec<VerifyKey>, KeyError> {
    let text = read(path)?;
    let set: JwkSet =
        serde_json::from_slice(&text).map_err(|e| unsupported(path, format!("not a JWKS document: {e}")))?;
    if set.keys.is_empty() {
        return Err(unsupported(path, "the key set is empty"));
    }
    set.keys
        .iter()
        .enumerate()
        .map(|(i, jwk)| {
            let family = match &jwk.algorithm {
                AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
                AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
                AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
                _ => {
                    return Err(unsupported(path, format!("keys[{i}]: only EC, RSA and OKP public keys are accepted")));
                }
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| unsupported(path, format!("keys[{i}]: {e}")))?;
            Ok(VerifyKey { kid: jwk.common.key_id.clone(), key, family })
        })
        .collect()
}

/// Loads an HMAC secret from an environment variable (at least 32 bytes).
pub fn load_hmac_secret(var: &str) -> Result<VerifyKey, KeyError> {
    let secret = std::env::var(var).map_err(|_| KeyError::Unsupported {
        path: format!("${var}"),
        reason: "the environment variable is not set".into(),
    })?;
    if secret.len() < 32 {
        return Err(KeyError::Unsupported {
            path: format!("${var}"),
            reason: "an HMAC secret needs at least 32 bytes".into(),
        });
    }
    Ok(VerifyKey { kid: None, key: DecodingKey::from_secret(secret.as_bytes()), family: AlgorithmFamily::Hmac })
}

/// The gateway's own signing key, with its public half as a JWK.
#[derive(Clone)]
pub struct SigningKey {
    /// The `kid` in every token it signs.
    pub kid: String,
    /// `EdDSA` or `ES256`.
    pub algorithm: Algorithm,
    /// The private key.
    pub encoding: EncodingKey,
    /// The public key, as published at `/.well-known/jwks.json`.
    pub public_jwk: serde_json::Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Loads the gateway's signing key: a PKCS#8 PEM, Ed25519 or P-256.
pub fn load_signing_key(path: &Path, kid: &str) -> Result<SigningKey, KeyError> {
    let pem = read(path)?;
    let der = PrivatePkcs8KeyDer::from_pem_slice(&pem)
        .map_err(|e| unsupported(path, format!("not a PKCS#8 PEM private key: {e}")))?;
    let der = der.secret_pkcs8_der();
    if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        let encoding = EncodingKey::from_ed_der(der);
        let public_jwk = serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
            "x": b64url(pair.public_key().as_ref()),
        });
        return Ok(SigningKey { kid: kid.to_owned(), algorithm: Algorithm::EdDSA, encoding, public_jwk });
    }
    let rng = ring::rand::SystemRandom::new();
    if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng) {
        let point = pair.public_key().as_ref();
        let encoding = EncodingKey::from_ec_der(der);
        let public_jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": b64url(&point[1..33]), "y": b64url(&point[33..65]),
        });
        return Ok(SigningKey { kid: kid.to_owned(), algorithm: Algorithm::ES256, encoding, public_jwk });
    }
    Err(unsupported(path, "the signing key must be Ed25519 or P-256 (ES256)"))
}

/// Loads a private key for minting tokens of a client whose first algorithm is `algorithm`.
pub fn load_private_pem(path: &Path, algorithm: Algorithm) -> Result<EncodingKey, KeyError> {
    let pem = read(path)?;
    let key = match algorithm.family() {
        AlgorithmFamily::Ed => EncodingKey::from_ed_pem(&pem),
        AlgorithmFamily::Ec => EncodingKey::from_ec_pem(&pem),
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(&pem),
        AlgorithmFamily::Hmac => {
            return Err(unsupported(path, "HMAC clients have no key file; their secret is in the environment"));
        }
    };
    key.map_err(|e| unsupported(path, format!("not a {algorithm:?} private key: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/dev").join(name)
    }

    #[test]
    fn loads_every_development_public_key_with_its_family() {
        assert_eq!(load_public_pem(&dev("portal-dev.pub.pem")).unwrap().family, AlgorithmFamily::Ec);
        assert_eq!(load_public_pem(&dev("postal-dev.pub.pem")).unwrap().family, AlgorithmFamily::Rsa);
        assert_eq!(load_public_pem(&dev("admin-dev.pub.pem")).unwrap().family, AlgorithmFamily::Ed);
        let jwks = load_jwks(&dev("hcc-tinh-dev.jwks.json")).unwrap();
        assert_eq!(jwks[0].kid.as_deref(), Some("hcc-tinh-2026"));
        assert_eq!(jwks[0].family, AlgorithmFamily::Ed);
    }

    #[test]
    fn refuses_private_keys_as_public_and_missing_files() {
        assert!(matches!(load_public_pem(&dev("portal-dev.key.pem")), Err(KeyError::Unsupported { .. })));
        assert!(matches!(load_public_pem(&dev("absent.pem")), Err(KeyError::Read { .. })));
        assert!(load_jwks(&dev("admin-dev.pub.pem")).is_err());
    }

    #[test]
    fn the_signing_key_publishes_its_public_half() {
        let key = load_signing_key(&dev("gateway.key.pem"), "k1").unwrap();
        assert_eq!(key.algorithm, Algorithm::EdDSA);
        assert_eq!(key.public_jwk["kid"], "k1");
        assert_eq!(key.public_jwk["x"].as_str().unwrap().len(), 43);
        let ec = load_signing_key(&dev("portal-dev.key.pem"), "k2").unwrap();
        assert_eq!(ec.algorithm, Algorithm::ES256);
        assert!(
            load_signing_key(&dev("postal-dev.key.pem"), "k3").is_err(),
            "RSA is not offered for the gateway's own key"
        );
    }

    #[test]
    fn hmac_secrets_must_be_long_enough() {
        assert!(load_hmac_secret("MOTCUA_TEST_SECRET_THAT_IS_NOT_SET").is_err());
    }
}
