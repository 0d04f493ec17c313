//! A checkpoint as kept and published — a period's count of links and root hash,
//! chained to the checkpoint before and signed — and the leaves its root is made of.

use jiff::Timestamp;
use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};

use super::key::verifies;
use super::{hex, parse_hash};

/// The leaves of one period: every link's hash with its dossier's code, dossiers in
/// code order and each dossier's links in chain order.
#[derive(Clone)]
pub struct Leaves {
    digest: Context,
    links: u64,
    dossiers: u64,
}

impl Leaves {
    /// No leaves yet.
    pub fn new() -> Leaves {
        let mut digest = Context::new(&SHA256);
        digest.update(b"motcua-checkpoint-root-v1\0");
        Leaves { digest, links: 0, dossiers: 0 }
    }

    /// Adds a link of dossier `code` (`first`: the dossier's first in this period).
    pub fn add(&mut self, code: &str, hash: &[u8; 32], first: bool) {
        self.digest.update(code.as_bytes());
        self.digest.update(b"\0");
        self.digest.update(hash);
        self.links += 1;
        self.dossiers += u64::from(first);
    }

    /// Links, dossiers and the root.
    pub fn finish(self) -> (u64, u64, [u8; 32]) {
        let mut root = [0u8; 32];
        root.copy_from_slice(self.digest.finish().as_ref());
        (self.links, self.dossiers, root)
    }
}

impl Default for Leaves {
    fn default() -> Self {
        Leaves::new()
    }
}

/// One period's checkpoint, as kept and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Start of the period (seconds since the epoch).
    pub start: i64,
    /// End of the period, exclusive.
    pub end: i64,
    /// Links sealed in it.
    pub links: u64,
    /// Dossiers they belong to.
    pub dossiers: u64,
    /// The root of its leaves, hex.
    pub root: String,
    /// The digest of the checkpoint before it (64 zeros for the first), hex.
    pub prev: String,
    /// The public key that signed it, hex.
    pub key: String,
    /// The Ed25519 signature of `signed_bytes`, hex.
    pub signature: String,
    /// Whether it reached the configured address (not signed).
    #[serde(default)]
    pub published: bool,
}

impl Checkpoint {
    /// What the signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!(
            "motcua-checkpoint-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.start, self.end, self.links, self.dossiers, self.root, self.prev, self.key
        )
        .into_bytes()
    }

    /// The digest the next checkpoint names as its `prev`.
    pub fn digest(&self) -> [u8; 32] {
        let mut c = Context::new(&SHA256);
        c.update(&self.signed_bytes());
        c.update(self.signature.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(c.finish().as_ref());
        out
    }

    /// Its `prev`, parsed.
    pub fn prev_hash(&self) -> Option<[u8; 32]> {
        parse_hash(&self.prev)
    }

    /// True when `public` signed it (and it names `public`).
    pub fn signed_by(&self, public: &[u8; 32]) -> bool {
        let Some(signature) = decode_hex(&self.signature) else { return false };
        self.key == hex(public) && verifies(public, &self.signed_bytes(), &signature)
    }

    /// The period's start, RFC 3339.
    pub fn start_text(&self) -> String {
        Timestamp::from_second(self.start).map(|t| t.to_string()).unwrap_or_default()
    }
}

/// Decodes hex of any even length.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| {
            let digit = |b: u8| (b as char).to_digit(16);
            u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()
        })
        .collect()
}
