//! Reading dead letters: every one, one destination's, or one dossier's through the
//! index by dossier (so a dossier's page does not read every dead letter of the store).
//! A dead letter that cannot be decoded is an error, whoever reads it.

use super::job::DeadLetter;
use crate::{Store, StoreError, decode, keys};

/// Which dead letters to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadFilter<'a> {
    /// Every one.
    All,
    /// Those of one destination (`desk:<id>`, `portal`, `postal`).
    Destination(&'a str),
    /// Those of one dossier.
    Dossier(&'a str),
}

/// The dead letters `filter` names, oldest job first, at most `limit`.
pub fn dead_letters(store: &Store, filter: DeadFilter<'_>, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
    let mut out = Vec::new();
    if let DeadFilter::Dossier(code) = filter {
        let prefix = keys::dead_of_prefix(code);
        for entry in store.scan_prefix(&prefix) {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            let Some(id) = keys::parse_dead_of(&key, &prefix) else { continue };
            let dead = keys::dead(id);
            if let Some(bytes) = store.get(&dead)? {
                out.push(decode(&dead, &bytes)?);
            }
        }
        return Ok(out);
    }
    for entry in store.scan_prefix(&keys::dead_letters()) {
        if out.len() >= limit {
            break;
        }
        let (key, bytes) = entry?;
        let letter: DeadLetter = decode(&key, &bytes)?;
        if let DeadFilter::Destination(d) = filter
            && letter.job.destination.name() != d
        {
            continue;
        }
        out.push(letter);
    }
    Ok(out)
}

/// Puts every dead letter of a store written before the index by dossier existed into
/// it, once.
pub async fn index_dead_letters(store: &Store) -> Result<(), StoreError> {
    if store.get(&keys::dead_letters_indexed())?.is_some() {
        return Ok(());
    }
    store
        .write(|tx| -> Result<(), StoreError> {
            for (key, bytes) in tx.scan_prefix(&keys::dead_letters(), usize::MAX)? {
                let letter: DeadLetter = decode(&key, &bytes)?;
                tx.put(&keys::dead_of(letter.job.dossier.as_str(), letter.job.id), Vec::new());
            }
            tx.put(&keys::dead_letters_indexed(), Vec::new());
            Ok(())
        })
        .await?
}
