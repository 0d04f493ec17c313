//! The gateway's Ed25519 key that signs the checkpoints: a PKCS#8 file readable by
//! the gateway's user only, made on first start when the configuration names none
//! that exists, and the public half by which anyone checks a checkpoint.

use std::path::Path;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// Why the key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        error: std::io::Error,
    },
    /// The file does not hold an Ed25519 PKCS#8 key.
    #[error("{0}: not an Ed25519 private key in PKCS#8 form")]
    Invalid(String),
    /// The system's random source failed.
    #[error("no randomness to make a key")]
    Random,
}

/// The signing key.
pub struct AuditKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey").field("public", &self.public_hex()).finish()
    }
}

impl AuditKey {
    /// Reads the key at `path`, or makes one there (private) when there is none.
    pub fn open_or_create(path: &Path) -> Result<AuditKey, KeyError> {
        let shown = path.display().to_string();
        let io = |error| KeyError::Io { path: shown.clone(), error };
        match std::fs::read(path) {
            Ok(bytes) => AuditKey::from_pkcs8(&bytes).ok_or(KeyError::Invalid(shown.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let rng = ring::rand::SystemRandom::new();
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
                if let Some(dir) = path.parent() {
                    crate::files::private_dir(dir).map_err(io)?;
                }
                crate::files::write_new_private(path, pkcs8.as_ref()).map_err(io)?;
                AuditKey::from_pkcs8(pkcs8.as_ref()).ok_or(KeyError::Invalid(shown.clone()))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Reads an existing key; never makes one.
    pub fn open(path: &Path) -> Result<AuditKey, KeyError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| KeyError::Io { path: shown.clone(), error })?;
        AuditKey::from_pkcs8(&bytes).ok_or(KeyError::Invalid(shown))
    }

    fn from_pkcs8(bytes: &[u8]) -> Option<AuditKey> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).ok().map(|pair| AuditKey { pair })
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// The public key, lower-case hex (64 digits).
    pub fn public_hex(&self) -> String {
        crate::digest::hex(self.pair.public_key().as_ref())
    }
}

/// True when `signature` is `public`'s signature of `message`.
pub fn verifies(public: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public).verify(message, signature).is_ok()
}
