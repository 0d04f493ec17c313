//! The national portal's record and progress syncs as calls (docs/PEERS.md §1.5, §1.6),
//! built from the dossier as it is now; a sync a newer one supersedes is not sent.

use motcua_adapters::{dvcqg, outbound::CallOutcome};

use crate::core::Core;
use crate::dossiers::{DossierRecord, effects::Effect};
use crate::outbox::{Job, JobKind};

fn accepted() -> CallOutcome {
    CallOutcome::Accepted { status: 200, body: bytes::Bytes::new() }
}

/// Sends the record (`JobKind::PortalRecord`) or the progress steps the portal does not
/// have yet (`JobKind::PortalProgress`) of `record`.
pub async fn sync(core: &Core, job: &Job, record: &DossierRecord) -> (CallOutcome, Effect) {
    let settings = core.settings();
    let outbound = core.outbound();
    let (Some(client), Some(dvcqg)) = (outbound.dvcqg(), settings.dvcqg()) else {
        return (
            CallOutcome::Rejected { reason: "the portal is not configured for the dvcqg protocol".into() },
            Effect::None,
        );
    };
    if super::sync::superseded(&core.store, job) {
        return (accepted(), Effect::Superseded);
    }
    let d = &record.dossier;
    let unit_name = settings
        .network
        .unit(&d.target_unit)
        .map(|u| u.name.as_str())
        .or_else(|| settings.network.desk(&d.desk).map(|x| x.name.as_str()))
        .unwrap_or(d.desk.as_str());
    let procedure = settings.catalogue.get(&d.procedure.code);
    let field = procedure.and_then(|p| p.field.as_ref());
    let no_results = std::collections::BTreeMap::new();
    let result_codes = procedure.map_or(&no_results, |p| &p.results);
    let code = record.portal.origin_code.as_deref().unwrap_or(d.code.as_str());
    // A file the gateway stores is given as a signed link the portal can fetch; only
    // the record carries the documents.
    let now = core.clock.now().as_second();
    let file_links: Vec<Option<String>> = match (&settings.file_links, &job.kind) {
        (Some(links), JobKind::PortalRecord) => d
            .documents
            .iter()
            .map(|doc| doc.sha256.as_ref().filter(|_| doc.stored).map(|sha256| links.link(sha256, now)))
            .collect(),
        _ => Vec::new(),
    };
    let ctx = dvcqg::RecordContext {
        code,
        unit_name,
        field: field.map_or(("", ""), |(c, n)| (c.as_str(), n.as_str())),
        statuses: &dvcqg.statuses,
        constants: &dvcqg.constants,
        fee_constants: &dvcqg.fee_constants,
        intake_officer: &dvcqg.intake_officer,
        default_officer: &dvcqg.default_officer,
        file_links: &file_links,
        codes: &dvcqg.record_codes,
        object_id: record.portal.extra.get("MaDoiTuong").and_then(|v| v.as_str()),
        result_codes,
    };
    match job.kind {
        JobKind::PortalPromotionStatus { seq } => {
            let promotion = dvcqg.promotion_status.as_ref();
            let entry = d.history.iter().find(|h| h.seq == seq);
            let code = entry.and_then(|h| promotion.and_then(|p| p.code(h.status_after)));
            let (Some(code), Some(promotion)) = (code, promotion) else { return (accepted(), Effect::None) };
            let object_id = record.portal.extra.get("MaDoiTuong").and_then(|v| v.as_str()).unwrap_or_default();
            let Some(data) = dvcqg::record::promotion_status(d, &ctx, seq, code, object_id) else {
                return (accepted(), Effect::None);
            };
            (client.sync_promotion_status(&promotion.kind, &data).await.into_call(), Effect::None)
        }
        JobKind::PortalRecord => {
            let body = dvcqg::record::record(d, &ctx);
            match client.sync_record(&body, record.portal.registered).await {
                dvcqg::SyncOutcome::Done { .. } => (accepted(), Effect::PortalRegistered { sent: d.status }),
                other => (other.into_call(), Effect::None),
            }
        }
        _ => {
            let (steps, last) = dvcqg::record::progress(d, &ctx, record.portal.steps_synced, dvcqg.max_steps);
            let Some(upto) = last else { return (accepted(), Effect::None) };
            match client.sync_progress(&steps).await {
                dvcqg::SyncOutcome::Done { .. } => (accepted(), Effect::StepsSynced { upto }),
                other => (other.into_call(), Effect::None),
            }
        }
    }
}
