//! The post of the gateway's own contract (docs/CONTRACT.md §4): the result and the
//! apology letters sent to the applicant as orders, each answered with the shipment's
//! S10 code.

use motcua_adapters::{outbound::CallOutcome, postal};
use motcua_schemas::ReturnAddress;

use crate::dossiers::{DossierRecord, effects::Effect};
use crate::outbound::Route;

/// Sends the order `order_code` to `receiver` with `content`, and reads its item code.
async fn order(
    route: &Route,
    token: &str,
    order_code: &str,
    receiver: &ReturnAddress,
    content: &str,
    effect: impl FnOnce(motcua_schemas::S10ItemCode) -> Effect,
) -> (CallOutcome, Effect) {
    let xml = postal::outbound::order(order_code, receiver, content);
    match postal::outbound::send_order(&route.client, &route.base, token, order_code, xml).await {
        CallOutcome::Accepted { body, status } => match postal::outbound::order_item_code(&body) {
            Ok(item) => (CallOutcome::Accepted { status, body }, effect(item)),
            Err(e) => (
                CallOutcome::Rejected { reason: format!("the order was accepted without a valid item code: {e}") },
                Effect::None,
            ),
        },
        other => (other, Effect::None),
    }
}

/// Sends the dossier's result to its return address.
pub async fn return_order(route: &Route, token: &str, record: &DossierRecord) -> (CallOutcome, Effect) {
    let d = &record.dossier;
    let Some(receiver) = d.return_address.clone() else {
        return (CallOutcome::Rejected { reason: "the dossier has no return address".into() }, Effect::None);
    };
    let content = format!("Kết quả giải quyết thủ tục hành chính: {} (hồ sơ {})", d.procedure.name, d.code);
    order(route, token, d.code.as_str(), &receiver, &content, Effect::ReturnItem).await
}

/// Sends the `n`-th apology letter to the applicant.
pub async fn letter(route: &Route, token: &str, record: &DossierRecord, n: u32) -> (CallOutcome, Effect) {
    let d = &record.dossier;
    let receiver = d.return_address.clone().unwrap_or_else(|| ReturnAddress {
        address: d.applicant.address.clone().unwrap_or_default(),
        recipient: d.applicant.name.clone(),
        phone: d.applicant.phone.clone(),
    });
    let order_code = motcua_schemas::letter_order_code(d.code.as_str(), n);
    let content = "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu 04)";
    order(route, token, &order_code, &receiver, content, |item| Effect::LetterItem { n, item }).await
}
