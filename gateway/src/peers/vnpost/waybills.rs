//! The waybill pool (docs/PEERS.md §2.3): item codes VNPost issues in advance, kept in
//! the store. An order takes one inside a store command — so two orders never get one
//! code — and the code is bound to the order's number in the same batch, so an order
//! sent again after a crash is sent with the code it had, and no code is lost.

use motcua_schemas::S10ItemCode;

use crate::store::{StoreError, Tx};

use crate::store::keys;

/// What an import came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// Codes added to the pool.
    pub added: usize,
    /// Codes already in the pool or already used.
    pub known: usize,
    /// Lines (from 1) that are not valid S10 codes.
    pub invalid: Vec<usize>,
}

/// Adds the codes of `text` (one per line; blank lines and `#` comments skipped),
/// each checked as UPU S10 with its check digit.
pub fn import(tx: &mut Tx<'_>, text: &str) -> Result<Imported, StoreError> {
    let mut out = Imported::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Ok(code) = line.parse::<S10ItemCode>() else {
            out.invalid.push(i + 1);
            continue;
        };
        let (free, used) = (keys::waybill_free(code.as_str()), keys::waybill_used(code.as_str()));
        if tx.get(&free)?.is_some() || tx.get(&used)?.is_some() {
            out.known += 1;
            continue;
        }
        tx.put(&free, Vec::new());
        out.added += 1;
    }
    Ok(out)
}

/// The code bound to `order`, taking the first free one if it has none yet; `None`
/// when the pool is empty.
pub fn take(tx: &mut Tx<'_>, order: &str) -> Result<Option<S10ItemCode>, StoreError> {
    let bound = keys::waybill_bound(order);
    if let Some(code) = tx.get(&bound)? {
        return Ok(String::from_utf8_lossy(&code).parse().ok());
    }
    let free = keys::waybills_free();
    let Some((key, _)) = tx.scan_prefix_after(&free, None, 1)?.into_iter().next() else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(key.after(&free)).into_owned();
    tx.remove(&key);
    tx.put(&keys::waybill_used(&text), order.as_bytes().to_vec());
    tx.put(&bound, text.clone().into_bytes());
    Ok(text.parse().ok())
}

/// Free codes left.
pub fn free(store: &crate::store::Store) -> usize {
    store.count_prefix(&keys::waybills_free()).unwrap_or(0)
}
