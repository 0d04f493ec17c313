//! The national monitoring service (EMC, docs/PORTAL.md "Tracking"), when the
//! province reports to it: a job per status change of every dossier, queued with the
//! change; the message it becomes is `dispatch::jobs::tracking`.

use jiff::Timestamp;
use motcua_schemas::Dossier;

use crate::outbox::{self, Destination, JobKind};
use crate::settings::Settings;
use crate::store::{StoreError, Tx};

/// Queues the message of history entry `seq` when it changed the dossier's status.
pub fn changed(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &Dossier,
    seq: u32,
    status_changed: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    if settings.tracking.is_none() || !status_changed {
        return Ok(());
    }
    outbox::enqueue(tx, Destination::Tracking, JobKind::Tracking { seq }, &dossier.code, now).map(|_| ())
}
