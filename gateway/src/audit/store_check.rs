//! `motcua audit verify` over what a store holds: a backend opened without joining
//! its cluster, or a snapshot written by `motcua backup`, optionally against the
//! checkpoints published outside the store.

use std::path::Path;

use super::signed::Checkpoint;
use super::verify::{Finding, Report, Verifier};
use crate::dossiers::DossierRecord;
use crate::store::{Key, Reads, StoreError, keys};

/// Entries in key order from a start key on.
type EntriesFrom<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + 'a>;

/// Checks every dossier of the entries against the store's checkpoints, trusting
/// only `public`'s signature; `published` are checkpoints kept outside the store.
pub fn verify<'a>(
    entries: &mut dyn FnMut(&[u8]) -> EntriesFrom<'a>,
    public: [u8; 32],
    published: &[Checkpoint],
) -> Result<Report, StoreError> {
    let mut checkpoints = Vec::new();
    let prefix = keys::checkpoints();
    for item in entries(prefix.full()) {
        let (key, value) = item?;
        if !key.starts_with(prefix.full()) {
            break;
        }
        checkpoints.push(crate::store::decode::<Checkpoint>(&Key::from_full(key), &value)?);
    }
    let mut outside = Vec::new();
    for p in published {
        let same = checkpoints.iter().find(|c| c.start == p.start);
        let matches = same.is_some_and(|c| Checkpoint { published: p.published, ..c.clone() } == *p);
        if !matches {
            outside.push(Finding {
                at: p.start_text(),
                link: "checkpoint".into(),
                problem: if same.is_some() {
                    "differs from the one published: the store's checkpoints were rewritten".into()
                } else {
                    "was published but the store no longer holds it".into()
                },
            });
        }
    }
    let mut verifier = Verifier::new(public, checkpoints);
    let dossiers = keys::dossiers();
    for item in entries(dossiers.full()) {
        let (key, value) = item?;
        if !key.starts_with(dossiers.full()) {
            break;
        }
        let key = Key::from_full(key);
        match crate::store::decode::<DossierRecord>(&key, &value) {
            Ok(record) => verifier.dossier(&record),
            Err(e) => {
                let at = String::from_utf8_lossy(key.within()).into_owned();
                verifier.unreadable(Finding { at, link: "the record".into(), problem: e.to_string() });
            }
        }
    }
    let mut report = verifier.finish();
    report.findings.splice(0..0, outside);
    Ok(report)
}

/// Checks a backend.
pub fn verify_backend(reads: &dyn Reads, public: [u8; 32], published: &[Checkpoint]) -> Result<Report, StoreError> {
    verify(&mut |from| Box::new(reads.scan_from(std::ops::Bound::Included(from.to_vec()))), public, published)
}

/// Checks a snapshot's entries (in key order, as `motcua backup` writes them).
pub fn verify_snapshot(
    entries: &[(&[u8], &[u8])],
    public: [u8; 32],
    published: &[Checkpoint],
) -> Result<Report, StoreError> {
    verify(
        &mut |from| {
            let start = entries.partition_point(|(k, _)| *k < from);
            Box::new(entries[start..].iter().map(|(k, v)| Ok((k.to_vec(), v.to_vec()))))
        },
        public,
        published,
    )
}

/// The checkpoints published to `dir`, oldest first.
pub fn published(dir: &Path) -> std::io::Result<Vec<Checkpoint>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file)?;
        let checkpoint: Checkpoint =
            serde_json::from_slice(&bytes).map_err(|e| std::io::Error::other(format!("{}: {e}", file.display())))?;
        out.push(checkpoint);
    }
    out.sort_by_key(|c| c.start);
    Ok(out)
}
