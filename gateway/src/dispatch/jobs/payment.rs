//! `PaymentInit`: a payment opened at the national payment platform.

use motcua_adapters::outbound::CallOutcome;

use super::Call;
use crate::dossiers::effects::Effect;

/// Sends the payment's `INIT`.
pub async fn open(call: &Call<'_>, reference: &str) -> (CallOutcome, Effect) {
    crate::peers::paygov::open(call.core, call.record, reference).await
}
