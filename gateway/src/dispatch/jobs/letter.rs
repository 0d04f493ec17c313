//! `Letter`: the `n`-th apology letter (Mẫu 04) by the dossier's channel — to the
//! portal of the contract, or by post (the contract's or VNPost).

use motcua_adapters::outbound::CallOutcome;
use motcua_schemas::OrderKind;

use super::Call;
use crate::dossiers::effects::Effect;
use crate::outbox::{Destination, Job};
use crate::peers::vnpost::deliver::Order;
use crate::settings::Post;

/// Sends letter `n`.
pub async fn send(call: &Call<'_>, job: &Job, n: u32) -> (CallOutcome, Effect) {
    if job.destination == Destination::Portal {
        let letter = call.record.document("04", usize::try_from(n).unwrap_or(usize::MAX));
        let Some(Ok(text)) = letter.map(|l| l.render(crate::forms::Format::Text)) else {
            return (CallOutcome::Rejected { reason: format!("apology {n} cannot be rendered") }, Effect::None);
        };
        return crate::peers::contract::portal::letter(call.route, call.token, call.record, n, &text).await;
    }
    match &call.core.settings().postal {
        Some(Post::Vnpost(..)) => {
            crate::peers::vnpost::deliver::order(call.core, Order::Place(OrderKind::Letter, n), call.record).await
        }
        _ => crate::peers::contract::post::letter(call.route, call.token, call.record, n).await,
    }
}
