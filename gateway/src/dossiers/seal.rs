//! Sealing a record's new links into its dossier's chain as it is saved
//! (docs/ARCHITECTURE.md §10); the hashes and periods are `crate::audit`'s.

use jiff::Timestamp;

use super::record::DossierRecord;
use crate::audit::{Chain, LinkKind, Periods, genesis, hex, link_hash};
use crate::store::{StoreError, Tx, keys};

/// Seals the links the record gained since it was last saved, in the order they were
/// added (history entries, then the receipt, then forms), and indexes the dossier
/// under each checkpoint period it has new links in. A record stored before the
/// history was sealed starts its chain at the links it has now.
pub fn seal(tx: &mut Tx<'_>, record: &mut DossierRecord, periods: Periods, now: Timestamp) -> Result<(), StoreError> {
    let code = record.dossier.code.to_string();
    let stored_before = record.is_stored();
    let chain = record.chain.get_or_insert_with(|| {
        let (history, documents) = if stored_before {
            (len_u32(record.dossier.history.len()), len_u32(record.documents.len()))
        } else {
            (0, 0)
        };
        Chain {
            head: hex(&genesis(&code)),
            history,
            documents,
            receipt: stored_before && record.receipt.is_some(),
            from_history: history,
            from_documents: documents,
            period: 0,
        }
    });
    let mut newest = None::<i64>;
    let mut index = |tx: &mut Tx<'_>, chain: &mut Chain, at: Timestamp| {
        let period = periods.start_of(at);
        if period > chain.period && newest != Some(period) {
            tx.put(&keys::sealed_in(period, &code), Vec::new());
            newest = Some(period);
        }
    };
    let from = chain.history as usize;
    for entry in record.dossier.history.iter_mut().skip(from) {
        entry.prev = Some(std::mem::take(&mut chain.head));
        chain.head = hex(&link_hash(LinkKind::History, &code, entry)?);
        index(tx, chain, entry.recorded_at);
    }
    chain.history = len_u32(record.dossier.history.len());
    if let (false, Some(facts)) = (chain.receipt, record.receipt.as_mut()) {
        facts.prev = Some(std::mem::take(&mut chain.head));
        chain.head = hex(&link_hash(LinkKind::Receipt, &code, facts)?);
        chain.receipt = true;
        index(tx, chain, facts.issued_at);
    }
    let from = chain.documents as usize;
    for document in record.documents.iter_mut().skip(from) {
        document.sealed_at = Some(now);
        document.prev = Some(std::mem::take(&mut chain.head));
        chain.head = hex(&link_hash(LinkKind::Document, &code, document)?);
        index(tx, chain, now);
    }
    chain.documents = len_u32(record.documents.len());
    if let Some(period) = newest {
        chain.period = chain.period.max(period);
    }
    Ok(())
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
