//! `PortalStatus`: the dossier's status as of a history entry, to the portal of the
//! gateway's own contract.

use motcua_adapters::outbound::CallOutcome;

use super::Call;
use crate::dossiers::effects::Effect;

/// Sends the status as of history entry `seq`.
pub async fn send(call: &Call<'_>, seq: u32) -> (CallOutcome, Effect) {
    crate::peers::contract::portal::status(call.route, call.token, call.record, seq, &call.core.settings()).await
}
