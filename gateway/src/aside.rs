//! Items of a peer's list or feed that could not be taken — a pulled dossier the
//! gateway refuses, or one whose details the portal does not give; a tracking event
//! out of range, or one that cannot be saved — set aside in the store with why, so
//! that the items after them go on and no loop stalls on one (docs/PORTAL.md,
//! docs/POST.md). An item that *failed* is tried again with a back-off that doubles up
//! to six hours; one that was *refused* is tried again when the configuration changes,
//! or when an operator releases it. Every item is counted on `/metrics` and shown on
//! the queue page.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, Tx, keys};

/// First wait before a failed item is tried again.
const FIRST_WAIT_SECS: i64 = 60;
/// Longest wait between tries of a failed item.
const LONGEST_WAIT_SECS: i64 = 6 * 3600;
/// Longest text kept of a reason.
const MAX_REASON: usize = 500;

/// Where an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A dossier listed by the national portal for the gateway to pull.
    DvcqgPull,
    /// An event of VNPost's tracking feed.
    VnpostTracking,
}

impl Source {
    /// The name in keys and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DvcqgPull => "dvcqg_pull",
            Source::VnpostTracking => "vnpost_tracking",
        }
    }

    /// Every source.
    pub const ALL: [Source; 2] = [Source::DvcqgPull, Source::VnpostTracking];
}

/// Why an item is set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The gateway will not take it as it is: tried again when the configuration
    /// changes, or when an operator releases it.
    Refused,
    /// It could not be taken now: tried again after a back-off.
    Failed,
}

/// An item set aside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aside {
    /// Where it came from.
    pub source: Source,
    /// Its id at the peer (the portal's `MaHoSo`, the feed's `_id`).
    pub id: String,
    /// Refused or failed.
    pub kind: Kind,
    /// Why, in the gateway's words (the peer's own words may follow: shown scrubbed).
    pub reason: String,
    /// The unit of the network it concerns, when known (for a commune's view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// What is needed to try it again (the listed row, the event).
    pub item: serde_json::Value,
    /// Tries so far.
    pub attempts: u32,
    /// When it was first set aside.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub first_at: Timestamp,
    /// When it is tried again (`None` for a refused item: when the configuration
    /// changes).
    #[serde(default, with = "motcua_schemas::time::rfc3339::option")]
    pub next_at: Option<Timestamp>,
    /// The configuration it was refused under.
    #[serde(default)]
    pub settings: String,
}

fn cut(reason: &str) -> String {
    match reason.char_indices().nth(MAX_REASON) {
        Some((at, _)) => format!("{}…", &reason[..at]),
        None => reason.to_owned(),
    }
}

/// The wait before the try after `attempts` failed ones.
fn backoff(attempts: u32) -> jiff::SignedDuration {
    let shift = attempts.saturating_sub(1).min(16);
    let secs = FIRST_WAIT_SECS.saturating_mul(1i64 << shift).min(LONGEST_WAIT_SECS);
    jiff::SignedDuration::from_secs(secs)
}

/// What setting an item aside needs to know.
pub struct SetAside<'a> {
    /// Where it came from.
    pub source: Source,
    /// Its id.
    pub id: &'a str,
    /// Refused or failed.
    pub kind: Kind,
    /// Why.
    pub reason: &'a str,
    /// The unit concerned.
    pub unit: Option<String>,
    /// What is needed to try it again.
    pub item: serde_json::Value,
    /// The configuration in force (its digest).
    pub settings: &'a str,
}

/// Sets an item aside (again), counting its tries. Returns the entry written.
pub fn put(tx: &mut Tx<'_>, aside: SetAside<'_>, now: Timestamp) -> Result<Aside, StoreError> {
    let key = keys::aside(aside.source.as_str(), aside.id);
    let before: Option<Aside> = tx.get_json(&key)?;
    let attempts = before.as_ref().map_or(0, |b| b.attempts).saturating_add(1);
    let next_at = match aside.kind {
        Kind::Failed => Some(now.checked_add(backoff(attempts)).unwrap_or(now)),
        Kind::Refused => None,
    };
    let entry = Aside {
        source: aside.source,
        id: aside.id.to_owned(),
        kind: aside.kind,
        reason: cut(aside.reason),
        unit: aside.unit.or_else(|| before.as_ref().and_then(|b| b.unit.clone())),
        item: aside.item,
        attempts,
        first_at: before.as_ref().map_or(now, |b| b.first_at),
        next_at,
        settings: aside.settings.to_owned(),
    };
    tx.put_json(&key, &entry)?;
    Ok(entry)
}

/// Takes item `id` of `source` off the list (it was taken, or released).
pub fn remove(tx: &mut Tx<'_>, source: Source, id: &str) {
    tx.remove(&keys::aside(source.as_str(), id));
}

/// True when item `id` of `source` is set aside.
pub fn contains(store: &Store, source: Source, id: &str) -> Result<bool, StoreError> {
    Ok(store.get(&keys::aside(source.as_str(), id))?.is_some())
}

/// The items of `source`, at most `limit`.
pub fn list(store: &Store, source: Source, limit: usize) -> Result<Vec<Aside>, StoreError> {
    let mut out = Vec::new();
    for entry in store.scan_prefix(&keys::aside_prefix(source.as_str())).take(limit) {
        let (key, value) = entry?;
        out.push(crate::store::decode(&key, &value)?);
    }
    Ok(out)
}

/// The items of `source` to try now: failed ones whose back-off has passed, and
/// refused ones set aside under another configuration than `settings`.
pub fn due(
    store: &Store,
    source: Source,
    now: Timestamp,
    settings: &str,
    limit: usize,
) -> Result<Vec<Aside>, StoreError> {
    Ok(list(store, source, usize::MAX)?
        .into_iter()
        .filter(|a| match a.kind {
            Kind::Failed => a.next_at.is_none_or(|t| t <= now),
            Kind::Refused => a.settings != settings,
        })
        .take(limit)
        .collect())
}

/// How many items each source has set aside.
pub fn counts(store: &Store) -> Result<Vec<(Source, usize)>, StoreError> {
    Source::ALL.iter().map(|s| Ok((*s, store.scan_prefix(&keys::aside_prefix(s.as_str())).count()))).collect()
}

/// Releases item `id` of `source`: a pulled dossier is taken again by the next round,
/// an event is applied again. Returns the item, if it was set aside.
pub async fn release(store: &Store, source: Source, id: String) -> Result<Option<Aside>, StoreError> {
    store
        .write(move |tx| -> Result<Option<Aside>, StoreError> {
            let key = keys::aside(source.as_str(), &id);
            let Some(mut entry) = tx.get_json::<Aside>(&key)? else { return Ok(None) };
            entry.kind = Kind::Failed;
            entry.next_at = Some(Timestamp::UNIX_EPOCH);
            tx.put_json(&key, &entry)?;
            Ok(Some(entry))
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_up_to_six_hours() {
        assert_eq!(backoff(1).as_secs(), 60);
        assert_eq!(backoff(2).as_secs(), 120);
        assert_eq!(backoff(40).as_secs(), LONGEST_WAIT_SECS);
        assert!(cut(&"x".repeat(2_000)).chars().count() <= MAX_REASON + 1);
    }
}
