//! Checking the sealed history: one dossier's chain (`walk`), and a whole store or
//! backup against its signed checkpoints (`Verifier`), naming the first link that
//! does not match.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::signed::{Checkpoint, Leaves};
use super::{LinkKind, genesis, hex, link_hash, parse_hash};
use crate::dossiers::DossierRecord;

/// One link of a dossier's chain, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its kind.
    pub kind: LinkKind,
    /// Its place among the links of its kind (history position, form index).
    pub position: usize,
    /// When it was sealed: what decides its checkpoint period.
    pub time: Timestamp,
    /// Its hash.
    pub hash: [u8; 32],
    prev: Option<[u8; 32]>,
    seq: u32,
}

impl Link {
    /// Its name in a report: "history entry 3", "receipt", "form 2 (Mẫu 04)".
    pub fn name(&self, record: &DossierRecord) -> String {
        match self.kind {
            LinkKind::History => format!("history entry {}", self.seq),
            LinkKind::Receipt => "the receipt (Mẫu 01)".to_owned(),
            LinkKind::Document => {
                let form = record.documents.get(self.position).map_or("?", |d| d.content.form.as_str());
                format!("issued form {} (Mẫu {form})", self.position + 1)
            }
        }
    }
}

/// What is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The dossier, or the checkpoint's period start (RFC 3339) for a checkpoint.
    pub at: String,
    /// The link or checkpoint.
    pub link: String,
    /// What does not match.
    pub problem: String,
}

fn finding(record: &DossierRecord, link: String, problem: impl Into<String>) -> Finding {
    Finding { at: record.dossier.code.to_string(), link, problem: problem.into() }
}

fn candidates(record: &DossierRecord) -> Result<Vec<Link>, Finding> {
    let code = record.dossier.code.as_str();
    let corrupt = |e: crate::store::StoreError| finding(record, "the record".into(), e.to_string());
    let prev = |p: &Option<String>, name: String| match p.as_deref().map(parse_hash) {
        Some(Some(h)) => Ok(Some(h)),
        Some(None) => Err(finding(record, name, "its link to the entry before it is not a SHA-256")),
        None => Ok(None),
    };
    let Some(chain) = &record.chain else {
        let sealed = record.dossier.history.iter().any(|h| h.prev.is_some())
            || record.documents.iter().any(|d| d.prev.is_some())
            || record.receipt.as_ref().is_some_and(|r| r.prev.is_some());
        return if sealed {
            Err(finding(record, "the record".into(), "has sealed links but no chain: its chain was removed"))
        } else {
            Ok(Vec::new())
        };
    };
    let mut links = Vec::new();
    for (i, entry) in record.dossier.history.iter().enumerate().skip(chain.from_history as usize) {
        let name = format!("history entry {}", entry.seq);
        let prev = prev(&entry.prev, name.clone())?;
        if prev.is_none() {
            return Err(finding(record, name, "is not sealed, though entries before it are"));
        }
        let hash = link_hash(LinkKind::History, code, entry).map_err(corrupt)?;
        links.push(Link { kind: LinkKind::History, position: i, time: entry.recorded_at, hash, prev, seq: entry.seq });
    }
    if let Some(facts) = record.receipt.as_ref().filter(|_| chain.receipt && chain.from_history == 0) {
        let name = "the receipt (Mẫu 01)".to_owned();
        let prev = prev(&facts.prev, name.clone())?;
        if prev.is_none() {
            return Err(finding(record, name, "is not sealed"));
        }
        let hash = link_hash(LinkKind::Receipt, code, facts).map_err(corrupt)?;
        links.push(Link { kind: LinkKind::Receipt, position: 0, time: facts.issued_at, hash, prev, seq: 0 });
    }
    for (i, document) in record.documents.iter().enumerate().skip(chain.from_documents as usize) {
        let name = format!("issued form {} (Mẫu {})", i + 1, document.content.form);
        let (prev, Some(time)) = (prev(&document.prev, name.clone())?, document.sealed_at) else {
            return Err(finding(record, name, "is not sealed, though forms before it are"));
        };
        if prev.is_none() {
            return Err(finding(record, name, "is not sealed, though forms before it are"));
        }
        if !document.verifies() {
            return Err(finding(record, name, "its content does not match its own SHA-256"));
        }
        let hash = link_hash(LinkKind::Document, code, document).map_err(corrupt)?;
        links.push(Link { kind: LinkKind::Document, position: i, time, hash, prev, seq: 0 });
    }
    Ok(links)
}

/// The dossier's links in chain order, or the first that does not match.
pub fn walk(record: &DossierRecord) -> Result<Vec<Link>, Finding> {
    let links = candidates(record)?;
    let Some(chain) = &record.chain else { return Ok(links) };
    for (i, entry) in record.dossier.history.iter().enumerate() {
        if entry.seq as usize != i + 1 {
            let expected = i + 1;
            let (link, problem) = if (entry.seq as usize) > expected {
                (format!("history entry {expected}"), format!("was removed: entry {} stands in its place", entry.seq))
            } else {
                (
                    format!("history entry {}", entry.seq),
                    format!("stands at position {expected}: the history was reordered"),
                )
            };
            return Err(finding(record, link, problem));
        }
    }
    let mut used = vec![false; links.len()];
    let mut order: Vec<usize> = Vec::with_capacity(links.len());
    let mut current = genesis(record.dossier.code.as_str());
    loop {
        let mut next = links.iter().enumerate().filter(|(i, l)| !used[*i] && l.prev == Some(current));
        let Some((i, _)) = next.next() else { break };
        if let Some((j, _)) = next.next() {
            let problem = format!("follows the same link as {}: a link was inserted", links[i].name(record));
            return Err(finding(record, links[j].name(record), problem));
        }
        used[i] = true;
        order.push(i);
        current = links[i].hash;
    }
    if let Some(stray) = (0..links.len()).find(|i| !used[*i]) {
        let link = &links[stray];
        // The walk stops at the link whose bytes are no longer what was sealed: its
        // prev still matches, but no link follows its new hash.
        let before = order.last().map(|&i| &links[i]);
        return Err(match before {
            Some(b) => finding(
                record,
                b.name(record),
                format!(
                    "was changed after it was sealed, or the link after it removed: {} follows no link",
                    link.name(record)
                ),
            ),
            None => finding(record, link.name(record), "does not follow the start of the chain: it was changed"),
        });
    }
    let history_order: Vec<usize> =
        order.iter().filter(|&&i| links[i].kind == LinkKind::History).map(|&i| links[i].position).collect();
    if history_order.windows(2).any(|w| w[0] > w[1]) {
        return Err(finding(record, "the history".into(), "its entries are out of the order they were sealed in"));
    }
    if hex(&current) != chain.head {
        let last = order.last().map_or_else(|| "the start of the chain".to_owned(), |&i| links[i].name(record));
        return Err(finding(
            record,
            last,
            "was changed, or a link after it was removed: the chain's head names another",
        ));
    }
    Ok(order.into_iter().map(|i| links[i].clone()).collect())
}

/// The result of checking a store.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    /// Dossiers read.
    pub dossiers: u64,
    /// Links checked.
    pub links: u64,
    /// Dossiers written before the history was sealed (nothing to check).
    pub unsealed_dossiers: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Links newer than the newest checkpoint (sealed, not yet closed by one).
    pub open_links: u64,
    /// What does not match, first found first.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Checks a store's dossiers against its checkpoints.
pub struct Verifier {
    public: [u8; 32],
    checkpoints: Vec<Checkpoint>,
    leaves: Vec<Leaves>,
    /// Links sealed in no checkpoint's period before the newest checkpoint's end.
    uncovered: BTreeMap<i64, u64>,
    report: Report,
}

impl Verifier {
    /// A verifier of the store holding `checkpoints` (oldest first), trusting only
    /// those signed by `public`.
    pub fn new(public: [u8; 32], checkpoints: Vec<Checkpoint>) -> Verifier {
        let leaves = checkpoints.iter().map(|_| Leaves::new()).collect();
        Verifier { public, checkpoints, leaves, uncovered: BTreeMap::new(), report: Report::default() }
    }

    /// The checkpoint whose period holds `at`; `Err(true)` when `at` is after the
    /// newest (an open period), `Err(false)` when no checkpoint covers it.
    fn covering(&self, at: i64) -> Result<usize, bool> {
        let i = self.checkpoints.partition_point(|c| c.end <= at);
        match self.checkpoints.get(i) {
            Some(c) if c.start <= at => Ok(i),
            Some(_) => Err(false),
            None => Err(true),
        }
    }

    /// Counts a record that could not be read at all.
    pub fn unreadable(&mut self, finding: Finding) {
        self.report.dossiers += 1;
        self.report.findings.push(finding);
    }

    /// Reads one dossier; dossiers must come in code order (the store's key order).
    pub fn dossier(&mut self, record: &DossierRecord) {
        self.report.dossiers += 1;
        match walk(record) {
            Err(f) => self.report.findings.push(f),
            Ok(links) if links.is_empty() => self.report.unsealed_dossiers += 1,
            Ok(links) => {
                self.report.links += links.len() as u64;
                let code = record.dossier.code.as_str();
                let mut counted = Vec::new();
                for link in &links {
                    match self.covering(link.time.as_second()) {
                        Ok(i) => {
                            self.leaves[i].add(code, &link.hash, !counted.contains(&i));
                            counted.push(i);
                        }
                        Err(true) => self.report.open_links += 1,
                        Err(false) => *self.uncovered.entry(link.time.as_second()).or_default() += 1,
                    }
                }
            }
        }
    }

    /// The report, after comparing what was read with the checkpoints.
    pub fn finish(mut self) -> Report {
        let mut prev = [0u8; 32];
        for (checkpoint, leaves) in self.checkpoints.iter().zip(std::mem::take(&mut self.leaves)) {
            self.report.checkpoints += 1;
            let at = checkpoint.start_text();
            let mut fail = |problem: String| {
                self.report.findings.push(Finding { at: at.clone(), link: "checkpoint".into(), problem })
            };
            if !checkpoint.signed_by(&self.public) {
                fail("its signature is not by the gateway's key: it was replaced or altered".into());
            } else if checkpoint.prev_hash() != Some(prev) {
                fail("does not follow the checkpoint before it: a checkpoint was removed or replaced".into());
            }
            prev = checkpoint.digest();
            let (links, dossiers, root) = leaves.finish();
            if (links, dossiers) != (checkpoint.links, checkpoint.dossiers) || hex(&root) != checkpoint.root {
                fail(format!(
                    "sealed {} links of {} dossiers; the store holds {links} of {dossiers} with another root: \
                     links of this period were changed, added or removed",
                    checkpoint.links, checkpoint.dossiers
                ));
            }
        }
        for (at, links) in std::mem::take(&mut self.uncovered) {
            self.report.findings.push(Finding {
                at: Timestamp::from_second(at).map(|t| t.to_string()).unwrap_or_default(),
                link: "checkpoint".into(),
                problem: format!(
                    "{links} links were sealed at this time, in no checkpoint's period: its checkpoint is missing"
                ),
            });
        }
        self.report
    }
}
