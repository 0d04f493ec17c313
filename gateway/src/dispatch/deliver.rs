//! Delivering one job: read it and what it concerns from the store, make its call
//! (`jobs`, through the peer's module), and record the outcome — with its effect on the
//! dossier (`dossiers::effects`) — in one store command before the dispatcher forgets
//! the job.

use jiff::Timestamp;
use motcua_adapters::outbound::CallOutcome;
use serde_json::json;

use super::jobs;
use super::retry::backoff;
use crate::core::Core;
use crate::dossiers::{
    DossierRecord,
    effects::{self, Effect},
};
use crate::outbound::Outbound;
use crate::outbox::{self, DeliveryOutcome, Job};
use crate::store::StoreError;

/// What the dispatcher learns when a delivery task ends.
#[derive(Debug)]
pub struct Completion {
    /// The destination.
    pub destination: String,
    /// The job.
    pub id: u64,
    /// `None` when the job left the outbox; otherwise when to try again.
    pub next: Option<Timestamp>,
}

/// What a delivery task tells the dispatcher.
#[derive(Debug)]
pub enum Progress {
    /// The peer answered (or the call failed): its slot is free while the outcome
    /// is recorded.
    CallEnded {
        /// The destination.
        destination: String,
        /// The job.
        id: u64,
    },
    /// The delivery is over and its outcome recorded.
    Done(Completion),
}

async fn call(core: &Core, outbound: &Outbound, destination: &str, job: &Job) -> (CallOutcome, Effect) {
    let Some(route) = outbound.route(destination) else {
        return (CallOutcome::Retry { reason: format!("no route to {destination}"), retry_after: None }, Effect::None);
    };
    let token = match outbound.token(&route.audience, core.clock.now().as_second()) {
        Ok(t) => t,
        Err(e) => {
            return (
                CallOutcome::Retry { reason: format!("cannot sign a token: {e}"), retry_after: None },
                Effect::None,
            );
        }
    };
    let record: DossierRecord = match core.store.get_json(&crate::store::keys::dossier(job.dossier.as_str())) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return (CallOutcome::Rejected { reason: format!("dossier {} does not exist", job.dossier) }, Effect::None);
        }
        Err(e) => return (CallOutcome::Retry { reason: e.to_string(), retry_after: None }, Effect::None),
    };
    jobs::call(jobs::Call { core, route, token: &token, record: &record }, job).await
}

/// Delivers the job `id` at `key` and records the outcome, reporting on `progress`
/// when the call has ended.
pub async fn deliver(
    app: &Core,
    outbound: &Outbound,
    destination: &str,
    id: u64,
    key: crate::store::Key,
    progress: &tokio::sync::mpsc::UnboundedSender<Progress>,
) -> Completion {
    let gone = Completion { destination: destination.to_owned(), id, next: None };
    let job: Job = match app.store.get_json(&key) {
        Ok(Some(job)) => job,
        _ => return gone,
    };
    let (outcome, effect) = call(app, outbound, destination, &job).await;
    let _ = progress.send(Progress::CallEnded { destination: destination.to_owned(), id });
    let settings = app.settings();
    let now = app.clock.now();
    let result = match outcome {
        CallOutcome::Accepted { .. } => DeliveryOutcome::Delivered,
        CallOutcome::Retry { reason, retry_after } => {
            let wait = backoff(&settings.retry, job.attempts + 1, retry_after);
            let wait = jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::from_secs(60));
            DeliveryOutcome::Retry { error: reason, not_before: now + wait }
        }
        CallOutcome::Rejected { reason } => DeliveryOutcome::Dead { error: reason },
    };
    let will_die = matches!(result, DeliveryOutcome::Dead { .. })
        || (matches!(result, DeliveryOutcome::Retry { .. }) && job.attempts + 1 >= settings.retry.max_attempts);
    app.metrics.delivery(destination, !matches!(result, DeliveryOutcome::Delivered), will_die);
    if !matches!(result, DeliveryOutcome::Delivered) {
        // The peer's answer stays out of the log: it may echo personal data.
        let (kind, reason) = match &result {
            DeliveryOutcome::Dead { error } => ("permanent", error.as_str()),
            DeliveryOutcome::Retry { error, .. } => ("retryable", error.as_str()),
            DeliveryOutcome::Delivered => ("none", ""),
        };
        let cause = motcua_adapters::outbound::loggable_cause(reason);
        tracing::warn!(destination, job = id, dossier = %job.dossier, attempt = job.attempts + 1, failure = kind, %cause, dead = will_die, "delivery attempt failed");
    }
    let next = match &result {
        DeliveryOutcome::Retry { not_before, .. } if job.attempts + 1 < settings.retry.max_attempts => {
            Some(*not_before)
        }
        _ => None,
    };
    let max_attempts = settings.retry.max_attempts;
    let written = app
        .store
        .write(move |tx| -> Result<Option<(&'static str, String)>, StoreError> {
            let delivered = matches!(result, DeliveryOutcome::Delivered);
            let Some(job) = outbox::record_outcome(tx, &key, result, now, max_attempts)? else { return Ok(None) };
            if !delivered {
                if tx.get(&key)?.is_none() {
                    crate::peers::dvcqg::sync::remember_dead(tx, &job);
                }
                return Ok(None);
            }
            if !matches!(effect, Effect::Superseded) {
                let settled = crate::peers::dvcqg::sync::settle_dead(tx, &job)?;
                if settled > 0 {
                    tracing::info!(job = job.id, dossier = %job.dossier, settled, "a portal sync made good the syncs given up before it");
                }
            }
            // The outcome is recorded whatever becomes of its effect on the dossier:
            // an effect that cannot be saved is kept aside, never a reason to call
            // the peer again.
            if let Some(item) = effect.item() {
                effects::index_item(tx, item, &job.dossier);
            }
            let effect_name = effect.name();
            let attempts = job.attempts + 1;
            match tx.attempt(|tx| effects::apply(tx, &settings, &job.dossier, attempts, effect, now)) {
                Ok(()) => Ok(None),
                Err(e) => {
                    let held = json!({ "job": job.id, "dossier": job.dossier, "effect": effect_name, "reason": e.to_string() });
                    tx.put_json(&crate::store::keys::held_effect(job.id), &held)?;
                    Ok(Some((effect_name, e.to_string())))
                }
            }
        })
        .await;
    match written {
        Ok(Ok(None)) => Completion { next, ..gone },
        Ok(Ok(Some((effect, reason)))) => {
            app.metrics.effects_held.inc();
            tracing::error!(destination, job = id, effect, %reason, "a delivery's effect on its dossier could not be saved; kept aside");
            Completion { next, ..gone }
        }
        Ok(Err(e)) | Err(e) => {
            tracing::error!(error = %e, job = id, "cannot record a delivery outcome; the job stays queued");
            let retry = jiff::SignedDuration::from_secs(5);
            Completion { next: Some(now + retry), ..gone }
        }
    }
}
