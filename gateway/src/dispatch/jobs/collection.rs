//! `CollectionOrder` and `CancelOrder`: VNPost collecting a dossier's papers from the
//! applicant's home, and cancelling an order it has not picked up. The contract's post
//! takes neither.

use motcua_adapters::outbound::CallOutcome;
use motcua_schemas::OrderKind;

use super::Call;
use crate::dossiers::effects::Effect;
use crate::peers::vnpost::deliver::Order;

/// Places the collection order.
pub async fn place(call: &Call<'_>) -> (CallOutcome, Effect) {
    crate::peers::vnpost::deliver::order(call.core, Order::Place(OrderKind::Collection, 0), call.record).await
}

/// Cancels order `number`.
pub async fn cancel(call: &Call<'_>, number: &str) -> (CallOutcome, Effect) {
    crate::peers::vnpost::deliver::order(call.core, Order::Cancel(number), call.record).await
}
