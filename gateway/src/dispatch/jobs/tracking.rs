//! `Tracking`: the status of one history entry to the national monitoring service
//! (`motcua_adapters::emc`), when the province reports to it.

use motcua_adapters::{
    emc::{Paid, Tracked, message, send as post},
    outbound::CallOutcome,
};
use motcua_schemas::{Channel, EventType};

use super::Call;
use crate::dossiers::effects::Effect;

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
