//! The sealed history (docs/ARCHITECTURE.md §10): every history entry, the receipt and
//! every issued form of a dossier is a link that carries the SHA-256 of the link
//! before it, so that a changed, removed or reordered link breaks the chain; each
//! period's links of the whole store are closed by a checkpoint signed with the
//! gateway's Ed25519 key (`checkpoint`), and `verify` checks a store against both.
//!
//! A link's hash is taken over its stored JSON (its `prev` included), behind a tag
//! naming its kind and the dossier's code, so that a link cannot be moved to another
//! dossier or pass for another kind. Fields added to the model later are optional
//! and left out when empty, so that older links keep their bytes and their hash.

pub mod checkpoint;
pub mod key;
pub mod signed;
pub mod store_check;
pub mod verify;

use jiff::Timestamp;
use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// A dossier's place in its chain, kept with its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// The hash of the newest link, lower-case hex.
    pub head: String,
    /// History entries sealed so far (the entries before `from_history` included).
    pub history: u32,
    /// Issued forms sealed so far.
    pub documents: u32,
    /// Whether the receipt is sealed.
    pub receipt: bool,
    /// The first sealed history entry: entries before it were written before the
    /// history was sealed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from_history: u32,
    /// The first sealed issued form.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from_documents: u32,
    /// The newest checkpoint period the dossier is indexed under.
    pub period: i64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How the store's links are cut into checkpoint periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    /// Length of a period in seconds (a day by default), aligned to midnight in Vietnam.
    pub length: i64,
    /// How long after a period ends its checkpoint waits, for writes that were in
    /// flight at its end.
    pub settle: i64,
}

/// Vietnam is seven hours ahead of UTC all year.
const VN_OFFSET_SECS: i64 = 7 * 3600;

impl Periods {
    /// The start (seconds since the epoch) of the period holding `at`.
    pub fn start_of(&self, at: Timestamp) -> i64 {
        let local = at.as_second() + VN_OFFSET_SECS;
        local.div_euclid(self.length) * self.length - VN_OFFSET_SECS
    }
}

impl Default for Periods {
    fn default() -> Self {
        Periods { length: 86_400, settle: 600 }
    }
}

/// The kinds of link, as tagged in their hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A history entry.
    History,
    /// The receipt (Mẫu 01) facts.
    Receipt,
    /// An issued form (Mẫu 02–06).
    Document,
}

impl LinkKind {
    fn tag(self) -> &'static [u8] {
        match self {
            LinkKind::History => b"history",
            LinkKind::Receipt => b"receipt",
            LinkKind::Document => b"document",
        }
    }
}

/// The hash a dossier's chain starts from.
pub fn genesis(code: &str) -> [u8; 32] {
    let mut c = Context::new(&SHA256);
    c.update(b"motcua-chain-v1\0genesis\0");
    c.update(code.as_bytes());
    to_array(c.finish().as_ref())
}

/// The hash of one link: its kind, its dossier and its stored JSON.
pub fn link_hash<T: Serialize>(kind: LinkKind, code: &str, link: &T) -> Result<[u8; 32], StoreError> {
    let mut c = crate::digest::Sha256Json::new(b"motcua-chain-v1\0");
    c.update(kind.tag());
    c.update(b"\0");
    c.update(code.as_bytes());
    c.update(b"\0");
    c.json(link).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(to_array(c.finish().as_ref()))
}

fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

pub use crate::digest::hex;

/// Parses 64 hex digits.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}
