//! The national monitoring service (EMC, docs/PORTAL.md "Tracking"), when the
//! province reports to it: a job per status change of every dossier, queued with the
//! change, and the message it becomes (`motcua_adapters::emc`).

use jiff::Timestamp;
use motcua_adapters::{
    emc::{Paid, Tracked, message, send as post},
    outbound::CallOutcome,
};
use motcua_schemas::{Channel, EventType};

use crate::dispatch::jobs::Call;
use crate::dossiers::{DossierRecord, effects::Effect};
use crate::outbox::{self, Destination, JobKind};
use crate::settings::Settings;
use crate::store::{StoreError, Tx};

/// Queues the message of history entry `seq` when it changed the dossier's status.
pub fn changed(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &DossierRecord,
    seq: u32,
    status_changed: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    if settings.tracking.is_none() || !status_changed {
        return Ok(());
    }
    outbox::enqueue(tx, Destination::Tracking, JobKind::Tracking { seq }, &record.dossier.code, now).map(|_| ())
}

/// Sends the status of history entry `seq`.
pub async fn send(call: &Call<'_>, seq: u32) -> (CallOutcome, Effect) {
    let settings = call.core.settings();
    let Some((link, site_id, province)) = &settings.tracking else {
        return (CallOutcome::Rejected { reason: "tracking is no longer configured".into() }, Effect::None);
    };
    let d = &call.record.dossier;
    let Some(entry) = d.history.iter().find(|h| h.seq == seq) else {
        return (CallOutcome::Rejected { reason: format!("history entry {seq} does not exist") }, Effect::None);
    };
    let paid_online = call.record.payments.iter().any(|p| p.state == crate::dossiers::record::PaymentState::Paid);
    let paid_at_desk = d.history.iter().any(|h| h.kind == EventType::PaymentReceived && h.actor != "paygov");
    let paid = match (paid_online, paid_at_desk || d.fees.iter().any(|f| f.paid)) {
        (true, _) => Paid::Online,
        (false, true) => Paid::AtDesk,
        _ => Paid::Nothing,
    };
    let tracked = Tracked {
        code: d.code.as_str(),
        procedure: (d.procedure.code.as_str(), d.procedure.name.as_str()),
        status: entry.status_after.code(),
        online: d.channel == Channel::Portal,
        by_post: d.channel == Channel::Postal,
        from_dvcqg: call.record.portal.origin_code.is_some(),
        level: d.level,
        paid,
        applicant_id: &d.applicant.id_number,
    };
    (
        post(&call.route.client, &call.route.base, &message(&tracked, *site_id, province), link.max_answer_bytes).await,
        Effect::None,
    )
}
