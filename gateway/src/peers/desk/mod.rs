//! The one-stop desks (docs/CONTRACT.md §5): a dossier and the notices about it pushed
//! to a push desk. Pull desks lease their inbox themselves (`outbox::lease_inbox`). The
//! wire format is `motcua_adapters::desk`.

use motcua_adapters::{desk, outbound::CallOutcome};

use crate::dossiers::{DossierRecord, effects::Effect, served};
use crate::outbound::Route;
use crate::outbox::Notice;
use crate::settings::Settings;

/// Pushes the dossier to its desk.
pub async fn deliver(route: &Route, token: &str, record: &DossierRecord, settings: &Settings) -> (CallOutcome, Effect) {
    let body = served(record, settings);
    let outcome = desk::push_dossier(&route.client, &route.base, token, record.dossier.code.as_str(), &body).await;
    (outcome, Effect::Delivered { desk: route.audience.clone() })
}

/// Pushes notice `notice` (job `id`, its idempotency key) to a desk.
pub async fn notice(route: &Route, token: &str, id: u64, notice: &Notice) -> (CallOutcome, Effect) {
    let body = serde_json::to_value(notice).unwrap_or_default();
    (desk::push_notice(&route.client, &route.base, token, id, &body).await, Effect::None)
}
