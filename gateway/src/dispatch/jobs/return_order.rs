//! `ReturnOrder`: the result to the applicant by post — an order of the contract's post,
//! or one with VNPost.

use motcua_adapters::outbound::CallOutcome;
use motcua_schemas::OrderKind;

use super::Call;
use crate::dossiers::effects::Effect;
use crate::peers::vnpost::deliver::Order;
use crate::settings::Post;

/// Places the return order.
pub async fn send(call: &Call<'_>) -> (CallOutcome, Effect) {
    match &call.core.settings().postal {
        Some(Post::Vnpost(..)) => {
            crate::peers::vnpost::deliver::order(call.core, Order::Place(OrderKind::Return, 0), call.record).await
        }
        _ => crate::peers::contract::post::return_order(call.route, call.token, call.record).await,
    }
}
