//! `PortalRecord`, `PortalProgress` and `PortalPromotionStatus`: the dossier's record,
//! its progress steps, and a pushed trade-promotion dossier's status, to the national
//! portal.

use motcua_adapters::outbound::CallOutcome;

use super::Call;
use crate::dossiers::effects::Effect;
use crate::outbox::Job;

/// Sends the sync `job` asks for.
pub async fn send(call: &Call<'_>, job: &Job) -> (CallOutcome, Effect) {
    crate::peers::dvcqg::deliver::sync(call.core, job, call.record).await
}
