//! What the dossier logic asks of the postal service, whatever it speaks: to carry a
//! result or an apology letter to the applicant, to collect papers from the applicant's
//! home, to cancel what it has not picked up. With the gateway's own contract each is
//! one order job (docs/CONTRACT.md §4); with VNPost each is an order recorded on the
//! dossier under its number, and the job that places it (docs/PEERS.md §2, docs/POST.md).

use jiff::Timestamp;
use motcua_schemas::{Dossier, OrderKind, PostalLetter, letter_order_code as letter_number};

use crate::outbox::{self, Destination, JobKind};
use crate::settings::{Post, Settings};
use crate::store::{StoreError, Tx};

/// Asks the post for an order of `kind` for `dossier` (`n`: which letter). Returns the
/// order's number, or `None` when no postal service can take that order (none is
/// configured, or the contract's post does not collect).
pub fn order(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &mut Dossier,
    kind: OrderKind,
    n: u32,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    let Some(post) = &settings.postal else { return Ok(None) };
    if kind == OrderKind::Letter {
        let order_code = letter_number(dossier.code.as_str(), n);
        dossier.postal.letters.push(PostalLetter { order_code, item_code: None, status: None });
    }
    match (post, kind) {
        (Post::Vnpost(_, vnpost), _) => super::vnpost::orders::request(tx, dossier, kind, n, vnpost, now).map(Some),
        (Post::Contract(_), OrderKind::Collection) => Ok(None),
        (Post::Contract(_), _) => {
            let job = if kind == OrderKind::Return { JobKind::ReturnOrder } else { JobKind::Letter { n } };
            outbox::enqueue(tx, Destination::Postal, job, &dossier.code, now)?;
            Ok(Some(match kind {
                OrderKind::Letter => letter_number(dossier.code.as_str(), n),
                _ => dossier.code.to_string(),
            }))
        }
    }
}

/// Cancels the dossier's orders the post has not picked up (it was withdrawn, refused
/// or stopped). Returns how many; the contract's post has no cancellation.
pub fn cancel_open(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &Dossier,
    now: Timestamp,
) -> Result<usize, StoreError> {
    match &settings.postal {
        Some(Post::Vnpost(..)) => super::vnpost::orders::cancel_open(tx, dossier, now),
        _ => Ok(0),
    }
}
