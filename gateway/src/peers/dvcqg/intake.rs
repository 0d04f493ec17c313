//! Taking in a dossier of the national portal, pushed or pulled (docs/PORTAL.md): its
//! record normalized, its procedure named from the catalogue when the portal gave no
//! name, its request for collection read, checked, and submitted under the portal's
//! code, which is the idempotency key whichever way the dossier came.

use std::sync::Arc;

use motcua_adapters::{InboundError, dvcqg::inbound};
use motcua_schemas::FieldError;
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::dossiers::intake::{self, IntakeError, IntakeOutcome, Submission};
use crate::dossiers::record::PortalState;
use crate::settings::Settings;
use crate::store::Store;

/// Submits the portal's `record` (`unit`: the envelope's or the pulled list's unit id)
/// for `client_id`; a record given again with other content `updates` the stored
/// dossier or is a duplicate. A record the portal cannot have meant is `Invalid`,
/// field by field.
pub async fn take(
    store: &Store,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    record: &Map<String, Value>,
    unit: Option<&str>,
    client_id: &str,
    updates: bool,
) -> Result<IntakeOutcome, IntakeError> {
    let Some(dvcqg) = settings.dvcqg() else {
        return Err(IntakeError::Invalid(vec![FieldError::new(
            "",
            "the national portal's protocol is not configured",
        )]));
    };
    let mut parsed = inbound::normalize(record, unit, &dvcqg.units).map_err(|e| {
        IntakeError::Invalid(match e {
            InboundError::Invalid(errors) => errors,
            InboundError::Malformed { pointer, message } => vec![FieldError::new(pointer, message)],
        })
    })?;
    if parsed.intake.procedure.name.is_empty()
        && let Some(p) = settings.catalogue.get(&parsed.intake.procedure.code)
    {
        parsed.intake.procedure.name = p.name.clone();
    }
    parsed.intake.collect_from_home = dvcqg.asks_for_collection(&parsed.extra);
    intake::check(&settings, &parsed.intake).map_err(IntakeError::Invalid)?;
    let portal = PortalState {
        origin_code: Some(parsed.portal_code),
        registered: true,
        promotion: record.contains_key("TenThuongNhan"),
        extra: parsed.extra,
        ..Default::default()
    };
    let submission = Submission {
        intake: parsed.intake,
        applicant_commune: parsed.applicant_commune,
        inbound_item: None,
        contents: parsed.contents,
        client_id: client_id.to_owned(),
        portal: Some(portal),
        updates,
    };
    intake::submit(store, settings, clock, submission).await
}

/// The outcome's name in the intake metric.
pub fn label(outcome: &IntakeOutcome) -> &'static str {
    match outcome {
        IntakeOutcome::Created(..) => "created",
        IntakeOutcome::Repeated(_) => "repeated",
        IntakeOutcome::Updated(_) => "updated",
    }
}

/// Field errors in one line, `pointer: message; …`.
pub fn describe(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.pointer, e.message)).collect::<Vec<_>>().join("; ")
}
