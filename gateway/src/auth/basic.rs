//! HTTP Basic authentication for a peer that can call no other way (the national
//! portal's pushes, docs/PEERS.md §1.10): the user name is the client's id, the
//! password is checked against the client's Argon2id hash. A verified header is
//! remembered for a while, so that a busy peer costs one hash, not one per request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use base64::Engine as _;

use super::clients::{Client, Clients};
use super::verify::TokenError;

/// How long a verified header is trusted without hashing again.
const REMEMBER: Duration = Duration::from_secs(600);
/// Most headers remembered.
const MAX_REMEMBERED: usize = 1024;

/// Verified Basic credentials, by the SHA-256 of the header.
#[derive(Default)]
pub struct BasicCache {
    verified: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

fn digest(value: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Hashes `secret` as an Argon2id PHC string, for `basic_hash`.
pub fn hash_secret(secret: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

impl BasicCache {
    /// The client the credentials `encoded` (the header after `Basic `) belong to.
    pub async fn verify(&self, encoded: &str, clients: &Clients) -> Result<Arc<Client>, TokenError> {
        let refused = || TokenError("the user name or password is wrong".into());
        let key = digest(encoded);
        if let Ok(verified) = self.verified.lock()
            && let Some((id, at)) = verified.get(&key)
            && at.elapsed() < REMEMBER
            && let Some(client) = clients.by_id(id)
        {
            return Ok(client.clone());
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| refused())?;
        let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
        let (id, password) = decoded.split_once(':').ok_or_else(refused)?;
        let client = clients.by_id(id).filter(|c| c.basic_hash.is_some()).ok_or_else(refused)?.clone();
        let hash = client.basic_hash.clone().unwrap_or_default();
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false);
        if !ok {
            return Err(refused());
        }
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_REMEMBERED {
                verified.retain(|_, (_, at)| at.elapsed() < REMEMBER);
                if verified.len() >= MAX_REMEMBERED {
                    verified.clear();
                }
            }
            verified.insert(key, (client.id.clone(), Instant::now()));
        }
        Ok(client)
    }
}
