//! An order with VNPost, or its cancellation, as a call (docs/PEERS.md §2.2, §2.4). The
//! waybill code is taken from the pool and bound to the order's number before the call,
//! so a call made again after a crash carries the same code.

use motcua_adapters::outbound::CallOutcome;
use motcua_schemas::OrderKind;

use crate::core::Core;
use crate::dossiers::{DossierRecord, effects::Effect};

/// What a job asks of VNPost.
pub enum Order<'a> {
    /// Place the dossier's order of this kind (`n`: which letter).
    Place(OrderKind, u32),
    /// Cancel the order of this number.
    Cancel(&'a str),
}

/// Places or cancels an order of `record` with VNPost.
pub async fn order(core: &Core, order: Order<'_>, record: &DossierRecord) -> (CallOutcome, Effect) {
    let settings = core.settings();
    let outbound = core.outbound();
    let (Some(client), Some(vnpost)) = (outbound.vnpost(), settings.vnpost()) else {
        return (CallOutcome::Rejected { reason: "VNPost is not configured".into() }, Effect::None);
    };
    let (kind, letter) = match order {
        Order::Cancel(number) => {
            return match client.cancel(number).await {
                accepted @ CallOutcome::Accepted { .. } => {
                    (accepted, Effect::OrderCancelled { number: number.to_owned() })
                }
                other => (other, Effect::None),
            };
        }
        Order::Place(kind, n) => (kind, n),
    };
    let number = super::orders::number(&record.dossier, kind, letter, vnpost);
    let item = if vnpost.item_codes_from_pool {
        let bound = number.clone();
        // What is left is counted by the tracking poller, off this path.
        match core.store.write(move |tx| super::waybills::take(tx, &bound)).await {
            Ok(Ok(Some(item))) => Some(item),
            Ok(Ok(None)) => {
                let reason = "the waybill pool is empty".to_owned();
                return (CallOutcome::Retry { reason, retry_after: None }, Effect::None);
            }
            Ok(Err(e)) | Err(e) => {
                return (CallOutcome::Retry { reason: e.to_string(), retry_after: None }, Effect::None);
            }
        }
    } else {
        None
    };
    let request = match super::orders::build(&record.dossier, kind, letter, &settings, vnpost, item.as_ref()) {
        Ok(request) => request,
        Err(reason) => return (CallOutcome::Rejected { reason }, Effect::None),
    };
    match client.create(&request).await {
        accepted @ CallOutcome::Accepted { .. } => (accepted, Effect::OrderCreated { number, item }),
        other => (other, Effect::None),
    }
}
