//! The portal of the gateway's own contract (docs/CONTRACT.md §6): a dossier's status as
//! of a history entry, and its apology letters.

use motcua_adapters::{outbound::CallOutcome, portal};

use crate::dossiers::{DossierRecord, effects::Effect};
use crate::outbound::Route;
use crate::settings::Settings;

/// Sends the dossier's status as of history entry `seq`.
pub async fn status(
    route: &Route,
    token: &str,
    record: &DossierRecord,
    seq: u32,
    settings: &Settings,
) -> (CallOutcome, Effect) {
    let d = &record.dossier;
    let unit = settings.network.desk(&d.desk).map_or(d.desk.as_str(), |desk| desk.name.as_str());
    let payload = portal::outbound::status_payload(d, seq, unit);
    let outcome =
        portal::outbound::send_status(&route.client, &route.base, token, d.code.as_str(), seq, &payload).await;
    (outcome, Effect::PortalAccepted { seq })
}

/// Sends the `n`-th apology letter, whose text is `text`.
pub async fn letter(route: &Route, token: &str, record: &DossierRecord, n: u32, text: &str) -> (CallOutcome, Effect) {
    let d = &record.dossier;
    let payload = portal::outbound::letter_payload(d, text);
    (portal::outbound::send_letter(&route.client, &route.base, token, d.code.as_str(), n, &payload).await, Effect::None)
}
