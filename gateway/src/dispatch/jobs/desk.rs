//! `Deliver` and `Notice`: a dossier, or a notice about it, to its push desk.

use motcua_adapters::outbound::CallOutcome;

use super::Call;
use crate::dossiers::effects::Effect;
use crate::outbox::Notice;

/// Delivers the dossier.
pub async fn deliver(call: &Call<'_>) -> (CallOutcome, Effect) {
    crate::peers::desk::deliver(call.route, call.token, call.record, &call.core.settings()).await
}

/// Delivers the notice of job `id`.
pub async fn notice(call: &Call<'_>, id: u64, notice: &Notice) -> (CallOutcome, Effect) {
    crate::peers::desk::notice(call.route, call.token, id, notice).await
}
