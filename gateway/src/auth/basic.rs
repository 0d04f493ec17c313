//! HTTP Basic authentication for a peer that can call no other way (the national
//! portal's pushes, docs/PEERS.md §1.10): the user name is the client's id, the
//! password is checked against the client's Argon2id hash.
//!
//! A source address that has used up its failures is held — answered 429 without any
//! check, right password or not — until the window passes; each attempt is counted
//! before its password is checked, so concurrent guesses are bounded too. A verified
//! header is remembered for a while (a busy peer costs one hash, not one per request),
//! but only together with the hash it was checked against: a rotated secret stops
//! working at once, and a reload forgets everything remembered.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use base64::Engine as _;

use super::attempts::Failures;
use super::clients::{Client, Clients};

/// How long a verified header is trusted without hashing again.
const REMEMBER: Duration = Duration::from_secs(600);
/// Most headers remembered.
const MAX_REMEMBERED: usize = 1024;

/// Why Basic credentials were not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BasicRefusal {
    /// The user name or password is wrong (401).
    Wrong,
    /// The source has used up its failures: it may try again in this many seconds (429).
    Held {
        /// Seconds to wait.
        retry_after: u64,
    },
}

struct Remembered {
    client: String,
    hash: [u8; 32],
    at: Instant,
}

/// Verified headers, by the SHA-256 of the header.
#[derive(Default)]
struct Verified(Mutex<HashMap<[u8; 32], Remembered>>);

/// HTTP Basic checks: the failures per source and the verified headers.
pub struct BasicAuth {
    verified: ArcSwap<Verified>,
    failures: Failures<IpAddr>,
}

fn digest(value: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl BasicAuth {
    /// At most `failures` wrong passwords per source address in the window.
    pub fn new(failures: u32) -> BasicAuth {
        BasicAuth {
            verified: ArcSwap::from_pointee(Verified::default()),
            failures: Failures::new(usize::try_from(failures).unwrap_or(usize::MAX)),
        }
    }

    /// Forgets every verified header (the configuration was reloaded).
    pub fn forget_verified(&self) {
        self.verified.store(Arc::new(Verified::default()));
    }

    fn remembered(&self, key: &[u8; 32], clients: &Clients) -> Option<Arc<Client>> {
        let verified = self.verified.load();
        let map = verified.0.lock().ok()?;
        let r = map.get(key).filter(|r| r.at.elapsed() < REMEMBER)?;
        let client = clients.by_id(&r.client)?;
        (client.basic_hash.as_deref().map(digest) == Some(r.hash)).then(|| client.clone())
    }

    fn remember(&self, key: [u8; 32], client: &Client) {
        let Some(hash) = client.basic_hash.as_deref().map(digest) else { return };
        let verified = self.verified.load();
        let Ok(mut map) = verified.0.lock() else { return };
        if map.len() >= MAX_REMEMBERED {
            map.retain(|_, r| r.at.elapsed() < REMEMBER);
            if map.len() >= MAX_REMEMBERED {
                map.clear();
            }
        }
        map.insert(key, Remembered { client: client.id.clone(), hash, at: Instant::now() });
    }

    /// The client the credentials `encoded` (the header after `Basic `) from `source`
    /// belong to.
    pub async fn verify(
        &self,
        encoded: &str,
        clients: &Clients,
        source: Option<IpAddr>,
        checks: &prometheus_client::metrics::counter::Counter,
    ) -> Result<Arc<Client>, BasicRefusal> {
        let now = Instant::now();
        if let Some(ip) = source
            && self.failures.blocked(&ip, now)
        {
            return Err(BasicRefusal::Held { retry_after: self.failures.retry_after(&ip, now).max(1) });
        }
        let key = digest(encoded);
        if let Some(client) = self.remembered(&key, clients) {
            return Ok(client);
        }
        let reservation = match source {
            Some(ip) => match self.failures.reserve(ip, now) {
                Some(r) => Some(r),
                None => return Err(BasicRefusal::Held { retry_after: self.failures.retry_after(&ip, now).max(1) }),
            },
            None => None,
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or(BasicRefusal::Wrong)?;
        let (id, password) = decoded.split_once(':').ok_or(BasicRefusal::Wrong)?;
        let client = clients.by_id(id).filter(|c| c.basic_hash.is_some()).cloned();
        let hash = client.as_ref().and_then(|c| c.basic_hash.as_deref());
        // An unknown id is checked against a decoy: it costs what a known one does.
        if !super::password::verify(hash, password, checks).await {
            return Err(BasicRefusal::Wrong);
        }
        let client = client.ok_or(BasicRefusal::Wrong)?;
        if let Some(r) = reservation {
            self.failures.release(r);
        }
        self.remember(key, &client);
        Ok(client)
    }
}
