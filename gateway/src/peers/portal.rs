//! What the dossier logic asks of the public service portal, whatever it speaks: to
//! be told of a change of a dossier, of a gateway mark, of an apology. With the
//! gateway's own contract that is one status call per status change (and the overdue
//! flag and apology letters, docs/CONTRACT.md §6); with the national portal, the syncs
//! of the dossier's record and progress (docs/PEERS.md §1.4–§1.6), which carry marks
//! and apologies themselves.

use jiff::Timestamp;
use motcua_schemas::{Channel, Dossier};

use crate::outbox::{self, Destination, JobKind};
use crate::settings::{Portal, Settings};
use crate::store::{StoreError, Tx};

/// Tells the portal of the new history entry `seq` of `dossier`
/// (`status_changed`: it changed the status; `promotion`: a trade-promotion dossier
/// the national portal pushed, whose status goes back on its own where configured).
pub fn changed(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &Dossier,
    seq: u32,
    status_changed: bool,
    promotion: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    match &settings.portal {
        Some(Portal::Dvcqg(_, dvcqg)) => {
            if promotion
                && status_changed
                && dvcqg.promotion_status.as_ref().is_some_and(|p| p.code(dossier.status).is_some())
            {
                let kind = JobKind::PortalPromotionStatus { seq };
                outbox::enqueue(tx, Destination::Portal, kind, &dossier.code, now)?;
            }
            if dvcqg.sync_channels.contains(&dossier.channel) {
                super::dvcqg::sync::queue(tx, dossier, now)?;
            }
            Ok(())
        }
        Some(Portal::Contract(_)) if status_changed && dossier.channel == Channel::Portal => {
            outbox::enqueue(tx, Destination::Portal, JobKind::PortalStatus { seq }, &dossier.code, now).map(drop)
        }
        _ => Ok(()),
    }
}

/// Tells the portal of a gateway mark at history entry `seq` (overdue, a payment page):
/// the contract's status call carries the overdue flag and the payment page; the
/// national portal's record has no such fields (its own platform takes the payment).
pub fn marked(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &Dossier,
    seq: u32,
    now: Timestamp,
) -> Result<(), StoreError> {
    match &settings.portal {
        Some(Portal::Contract(_)) if dossier.channel == Channel::Portal => {
            outbox::enqueue(tx, Destination::Portal, JobKind::PortalStatus { seq }, &dossier.code, now).map(drop)
        }
        _ => Ok(()),
    }
}

/// Sends the portal the `n`-th apology letter (Mẫu 04) of a dossier it submitted, when
/// it takes letters (the contract); the national portal has none: the apology reaches
/// it as a progress step and the record's new appointment. True when one was queued.
pub fn apology(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &Dossier,
    n: u32,
    now: Timestamp,
) -> Result<bool, StoreError> {
    match &settings.portal {
        Some(Portal::Contract(_)) if dossier.channel == Channel::Portal => {
            outbox::enqueue(tx, Destination::Portal, JobKind::Letter { n }, &dossier.code, now)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
