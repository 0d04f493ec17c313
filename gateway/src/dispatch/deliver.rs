//! Delivering one job: read it and what it concerns from the store, make the call
//! through the peer's adapter, and record the outcome — with what follows from it —
//! in one store command before the dispatcher forgets the job.

use jiff::Timestamp;
use motcua_adapters::{desk, dvcqg, outbound::CallOutcome, portal, postal};
use motcua_schemas::{EventType, OrderKind, OrderState, ReturnMethod, Status};
use serde_json::json;

use super::Context;
use super::{outbound::Outbound, retry::backoff};
use crate::dossiers::{DossierRecord, events, portal_sync, served};
use crate::forms;
use crate::outbox::{self, DeliveryOutcome, Job, JobKind};
use crate::store::{Space, StoreError};

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

/// What a successful call brought back that the record must keep.
enum Effect {
    None,
    Delivered {
        desk: String,
    },
    PortalAccepted {
        seq: u32,
    },
    ReturnItem(motcua_schemas::S10ItemCode),
    /// A newer sync of the dossier carries a later state: this one was not sent.
    Superseded,
    /// The national portal has the record, as of the status it was sent with.
    PortalRegistered {
        sent: Status,
    },
    /// The national portal has the steps up to this history entry.
    StepsSynced {
        upto: u32,
    },
    /// VNPost has the order (`Status` 100 or 101), sent with this waybill code.
    OrderCreated {
        number: String,
        item: Option<motcua_schemas::S10ItemCode>,
    },
    /// VNPost cancelled the order.
    OrderCancelled {
        number: String,
    },
    LetterItem {
        n: u32,
        item: motcua_schemas::S10ItemCode,
    },
}

impl Effect {
    fn name(&self) -> &'static str {
        match self {
            Effect::None => "none",
            Effect::Delivered { .. } => "delivered",
            Effect::PortalAccepted { .. } => "portal_accepted",
            Effect::ReturnItem(_) => "return_item",
            Effect::LetterItem { .. } => "letter_item",
            Effect::Superseded => "superseded",
            Effect::PortalRegistered { .. } => "portal_registered",
            Effect::StepsSynced { .. } => "steps_synced",
            Effect::OrderCreated { .. } => "order_created",
            Effect::OrderCancelled { .. } => "order_cancelled",
        }
    }

    /// The shipment it brought, which must be indexed even if the dossier cannot be
    /// saved, so that the post's delivery events still find their dossier.
    fn item(&self) -> Option<&motcua_schemas::S10ItemCode> {
        match self {
            Effect::ReturnItem(item) | Effect::LetterItem { item, .. } => Some(item),
            Effect::OrderCreated { item: Some(item), .. } => Some(item),
            _ => None,
        }
    }
}

async fn call(app: &Context, outbound: &Outbound, destination: &str, job: &Job) -> (CallOutcome, Effect) {
    let Some(route) = outbound.route(destination) else {
        return (CallOutcome::Retry { reason: format!("no route to {destination}"), retry_after: None }, Effect::None);
    };
    let token = match outbound.token(&route.audience) {
        Ok(t) => t,
        Err(e) => {
            return (
                CallOutcome::Retry { reason: format!("cannot sign a token: {e}"), retry_after: None },
                Effect::None,
            );
        }
    };
    let record: DossierRecord = match app.store.get_json(Space::Dossier, job.dossier.as_str().as_bytes()) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return (CallOutcome::Rejected { reason: format!("dossier {} does not exist", job.dossier) }, Effect::None);
        }
        Err(e) => return (CallOutcome::Retry { reason: e.to_string(), retry_after: None }, Effect::None),
    };
    let settings = app.settings();
    let code = job.dossier.as_str();
    if job.destination == crate::outbox::Destination::Postal && outbound.vnpost().is_some() {
        return order_vnpost(app, outbound, job, &record).await;
    }
    match &job.kind {
        JobKind::Deliver => {
            let body = served(&record, &settings);
            let outcome = desk::push_dossier(&route.client, &route.base, &token, code, &body).await;
            (outcome, Effect::Delivered { desk: route.audience.clone() })
        }
        JobKind::Notice { notice } => {
            let body = serde_json::to_value(notice).unwrap_or_default();
            (desk::push_notice(&route.client, &route.base, &token, job.id, &body).await, Effect::None)
        }
        JobKind::PortalStatus { seq } => {
            let unit =
                settings.network.desk(&record.dossier.desk).map_or(record.dossier.desk.as_str(), |d| d.name.as_str());
            let payload = portal::outbound::status_payload(&record.dossier, *seq, unit);
            let outcome = portal::outbound::send_status(&route.client, &route.base, &token, code, *seq, &payload).await;
            (outcome, Effect::PortalAccepted { seq: *seq })
        }
        JobKind::PortalRecord | JobKind::PortalProgress => sync_portal(app, outbound, job, &record).await,
        JobKind::CollectionOrder | JobKind::CancelOrder { .. } => {
            (CallOutcome::Rejected { reason: "VNPost orders need [postal] protocol = \"vnpost\"".into() }, Effect::None)
        }
        JobKind::ReturnOrder => {
            let Some(receiver) = record.dossier.return_address.clone() else {
                return (CallOutcome::Rejected { reason: "the dossier has no return address".into() }, Effect::None);
            };
            let content =
                format!("Kết quả giải quyết thủ tục hành chính: {} (hồ sơ {code})", record.dossier.procedure.name);
            let xml = postal::outbound::order(code, &receiver, &content);
            match postal::outbound::send_order(&route.client, &route.base, &token, code, xml).await {
                CallOutcome::Accepted { body, status } => match postal::outbound::order_item_code(&body) {
                    Ok(item) => (CallOutcome::Accepted { status, body }, Effect::ReturnItem(item)),
                    Err(e) => (
                        CallOutcome::Rejected {
                            reason: format!("the order was accepted without a valid item code: {e}"),
                        },
                        Effect::None,
                    ),
                },
                other => (other, Effect::None),
            }
        }
        JobKind::Letter { n } => {
            let letter = record.document("04", usize::try_from(*n).unwrap_or(usize::MAX));
            let Some(Ok(text)) = letter.map(|l| l.render(forms::Format::Text)) else {
                return (CallOutcome::Rejected { reason: format!("apology {n} cannot be rendered") }, Effect::None);
            };
            let d = &record.dossier;
            if job.destination == crate::outbox::Destination::Portal {
                let payload = portal::outbound::letter_payload(d, &text);
                (
                    portal::outbound::send_letter(&route.client, &route.base, &token, code, *n, &payload).await,
                    Effect::None,
                )
            } else {
                let receiver = d.return_address.clone().unwrap_or_else(|| motcua_schemas::ReturnAddress {
                    address: d.applicant.address.clone().unwrap_or_default(),
                    recipient: d.applicant.name.clone(),
                    phone: d.applicant.phone.clone(),
                });
                let order_code = format!("{code}-XL{n}");
                let xml = postal::outbound::order(
                    &order_code,
                    &receiver,
                    "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu 04)",
                );
                match postal::outbound::send_order(&route.client, &route.base, &token, &order_code, xml).await {
                    CallOutcome::Accepted { body, status } => match postal::outbound::order_item_code(&body) {
                        Ok(item) => (CallOutcome::Accepted { status, body }, Effect::LetterItem { n: *n, item }),
                        Err(e) => (
                            CallOutcome::Rejected {
                                reason: format!("the letter order was accepted without a valid item code: {e}"),
                            },
                            Effect::None,
                        ),
                    },
                    other => (other, Effect::None),
                }
            }
        }
    }
}

fn accepted() -> CallOutcome {
    CallOutcome::Accepted { status: 200, body: bytes::Bytes::new() }
}

/// A record or progress sync to the national portal, built from the dossier as it is
/// now (docs/PEERS.md §1.5, §1.6).
async fn sync_portal(app: &Context, outbound: &Outbound, job: &Job, record: &DossierRecord) -> (CallOutcome, Effect) {
    let settings = app.settings();
    let (Some(client), Some(dvcqg)) = (outbound.dvcqg(), settings.portal.as_ref().and_then(|p| p.dvcqg.as_ref()))
    else {
        return (
            CallOutcome::Rejected { reason: "the portal is not configured for the dvcqg protocol".into() },
            Effect::None,
        );
    };
    if portal_sync::superseded(&app.store, job) {
        return (accepted(), Effect::Superseded);
    }
    let d = &record.dossier;
    let unit_name = settings
        .network
        .unit(&d.target_unit)
        .map(|u| u.name.as_str())
        .or_else(|| settings.network.desk(&d.desk).map(|x| x.name.as_str()))
        .unwrap_or(d.desk.as_str());
    let field = settings.catalogue.get(&d.procedure.code).and_then(|p| p.field.as_ref());
    let code = record.portal.origin_code.as_deref().unwrap_or(d.code.as_str());
    let ctx = dvcqg::RecordContext {
        code,
        unit_name,
        field: field.map_or(("", ""), |(c, n)| (c.as_str(), n.as_str())),
        statuses: &dvcqg.statuses,
        constants: &dvcqg.constants,
        fee_constants: &dvcqg.fee_constants,
        intake_officer: &dvcqg.intake_officer,
        default_officer: &dvcqg.default_officer,
    };
    match job.kind {
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

/// An order, or its cancellation, with VNPost (docs/PEERS.md §2.2, §2.4). The waybill
/// code is taken from the pool and bound to the order's number before the call, so a
/// call made again after a crash carries the same code.
async fn order_vnpost(app: &Context, outbound: &Outbound, job: &Job, record: &DossierRecord) -> (CallOutcome, Effect) {
    let settings = app.settings();
    let (Some(client), Some(vnpost)) = (outbound.vnpost(), settings.postal.as_ref().and_then(|p| p.vnpost.as_ref()))
    else {
        return (CallOutcome::Rejected { reason: "VNPost is not configured".into() }, Effect::None);
    };
    let (kind, letter) = match &job.kind {
        JobKind::CancelOrder { number } => {
            return match client.cancel(number).await {
                accepted @ CallOutcome::Accepted { .. } => {
                    (accepted, Effect::OrderCancelled { number: number.clone() })
                }
                other => (other, Effect::None),
            };
        }
        JobKind::CollectionOrder => (OrderKind::Collection, 0),
        JobKind::ReturnOrder => (OrderKind::Return, 0),
        JobKind::Letter { n } => (OrderKind::Letter, *n),
        _ => return (CallOutcome::Rejected { reason: "not a postal order".into() }, Effect::None),
    };
    let number = crate::post_orders::number(record, kind, letter, vnpost);
    let item = if vnpost.item_codes_from_pool {
        let bound = number.clone();
        // What is left is counted by the tracking poller, off this path.
        let taken = app.store.write(move |tx| crate::waybills::take(tx, &bound)).await;
        match taken {
            Ok(Ok(Some(item))) => Some(item),
            Ok(Ok(None)) => {
                let reason = "the waybill pool is empty".to_owned();
                return (CallOutcome::Retry { reason, retry_after: None }, Effect::None);
            }
            Ok(Err(e)) | Err(e) => {
                return (CallOutcome::Retry { reason: e.to_string(), retry_after: None }, Effect::None);
            }
        }
    } else {
        None
    };
    let order = match crate::post_orders::build(record, kind, letter, &settings, vnpost, item.as_ref()) {
        Ok(order) => order,
        Err(reason) => return (CallOutcome::Rejected { reason }, Effect::None),
    };
    match client.create(&order).await {
        accepted @ CallOutcome::Accepted { .. } => (accepted, Effect::OrderCreated { number, item }),
        other => (other, Effect::None),
    }
}

/// Delivers the job `id` at `key` and records the outcome, reporting on `progress`
/// when the call has ended.
pub async fn deliver(
    app: &Context,
    outbound: &Outbound,
    destination: &str,
    id: u64,
    key: Vec<u8>,
    progress: &tokio::sync::mpsc::UnboundedSender<Progress>,
) -> Completion {
    let gone = Completion { destination: destination.to_owned(), id, next: None };
    let job: Job = match app.store.get_json(Space::Outbox, &key) {
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
                if tx.get(Space::Outbox, &key)?.is_none() {
                    portal_sync::remember_dead(tx, &job);
                }
                return Ok(None);
            }
            if !matches!(effect, Effect::Superseded) {
                let settled = portal_sync::settle_dead(tx, &job)?;
                if settled > 0 {
                    tracing::info!(job = job.id, dossier = %job.dossier, settled, "a portal sync made good the syncs given up before it");
                }
            }
            // The outcome is recorded whatever becomes of its effect on the dossier:
            // an effect that cannot be saved is kept aside, never a reason to call
            // the peer again.
            if let Some(item) = effect.item() {
                index_item(tx, item, &job.dossier)?;
            }
            let effect_name = effect.name();
            match tx.attempt(|tx| apply_effect(tx, &settings, &job, effect, now)) {
                Ok(()) => Ok(None),
                Err(e) => {
                    let held = json!({ "job": job.id, "dossier": job.dossier, "effect": effect_name, "reason": e.to_string() });
                    tx.put_json(Space::Held, &crate::store::keys::held_effect(job.id), &held)?;
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

fn apply_effect(
    tx: &mut crate::store::Tx<'_>,
    settings: &crate::settings::Settings,
    job: &Job,
    effect: Effect,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut record) = DossierRecord::load(tx, &job.dossier)? else { return Ok(()) };
    match effect {
        Effect::None | Effect::Superseded => return Ok(()),
        Effect::OrderCreated { number, item } => {
            let Some(order) = record.dossier.postal.orders.iter_mut().find(|o| o.number == number) else {
                return Ok(());
            };
            if order.state == OrderState::Requested {
                order.state = OrderState::Created;
            }
            order.item = item.clone();
            let kind = order.kind;
            if kind == OrderKind::Return {
                record.dossier.postal.return_item = item.clone();
            }
            if let Some(letter) = record.dossier.postal.letters.iter_mut().find(|l| l.order_code == number) {
                letter.item_code = item.clone();
            }
            let shown = item.as_ref().map_or(String::new(), |i| format!(", mã bưu gửi {i}"));
            let what = match kind {
                OrderKind::Collection => "thu gom hồ sơ tại nhà",
                OrderKind::Return => "trả kết quả tại nhà",
                OrderKind::Letter => "gửi văn bản xin lỗi",
            };
            events::note(
                &mut record,
                now,
                format!("Bưu điện đã nhận đơn hàng {what} ({number}{shown})"),
                json!({ "mark": "vnpost_order", "order": number, "item": item }),
            );
        }
        Effect::OrderCancelled { number } => {
            if let Some(order) = record.dossier.postal.orders.iter_mut().find(|o| o.number == number) {
                order.state = OrderState::Cancelled;
            }
            events::note(
                &mut record,
                now,
                format!("Đã hủy đơn hàng với Bưu điện ({number})"),
                json!({ "mark": "vnpost_cancelled", "order": number }),
            );
        }
        Effect::PortalRegistered { sent } => {
            let online_result = sent == Status::Processed
                && record.dossier.status == Status::Processed
                && record.dossier.return_method == ReturnMethod::Online;
            if record.portal.registered && !online_result {
                return Ok(());
            }
            record.portal.registered = true;
            if online_result {
                portal_accepted(tx, settings, &mut record, now)?;
            }
        }
        Effect::StepsSynced { upto } => {
            record.portal.steps_synced = record.portal.steps_synced.max(upto);
            if motcua_adapters::dvcqg::record::has_steps_after(&record.dossier, record.portal.steps_synced) {
                portal_sync::queue_more_progress(tx, &record, now)?;
            }
        }
        Effect::Delivered { desk } => {
            events::note(
                &mut record,
                now,
                format!("Đã chuyển hồ sơ đến Bộ phận Một cửa ({desk})"),
                json!({ "mark": "delivered", "desk": desk, "attempts": job.attempts + 1 }),
            );
        }
        Effect::PortalAccepted { seq } => {
            let at_seq = record.dossier.history.iter().find(|h| h.seq == seq).map(|h| h.status_after);
            let online_result = at_seq == Some(Status::Processed)
                && record.dossier.status == Status::Processed
                && record.dossier.return_method == ReturnMethod::Online;
            if !online_result {
                return Ok(());
            }
            portal_accepted(tx, settings, &mut record, now)?;
        }
        Effect::LetterItem { n, item } => {
            let order = format!("{}-XL{n}", job.dossier);
            if let Some(letter) = record.dossier.postal.letters.iter_mut().find(|l| l.order_code == order) {
                letter.item_code = Some(item.clone());
            }
            events::note(
                &mut record,
                now,
                format!("Đã gửi phiếu xin lỗi qua bưu chính ({order}), mã bưu gửi {item}"),
                json!({ "mark": "letter_order", "item": item, "letter": n }),
            );
        }
        Effect::ReturnItem(item) => {
            record.dossier.postal.return_item = Some(item.clone());
            events::note(
                &mut record,
                now,
                format!("Đã gửi kết quả qua bưu chính, mã bưu gửi {item}"),
                json!({ "mark": "return_order", "item": item }),
            );
        }
    }
    record.save(tx, settings, now)
}

/// The portal has the online result: the dossier's result is returned (status 10).
fn portal_accepted(
    tx: &mut crate::store::Tx<'_>,
    settings: &crate::settings::Settings,
    record: &mut DossierRecord,
    now: Timestamp,
) -> Result<(), StoreError> {
    events::transition(
        tx,
        settings,
        record,
        EventType::PortalAccepted,
        "portal",
        now,
        now,
        Some("Cổng dịch vụ công đã nhận kết quả trực tuyến".into()),
        None,
    )
    .map(drop)
    .map_err(|e| match e {
        events::EventError::Store(e) => e,
        other => StoreError::Corrupt(other.to_string()),
    })
}

/// Remembers which dossier a shipment belongs to, for the postal delivery events.
pub fn index_item(
    tx: &mut crate::store::Tx<'_>,
    item: &motcua_schemas::S10ItemCode,
    code: &motcua_schemas::DossierCode,
) -> Result<(), StoreError> {
    tx.put(Space::Index, &crate::store::keys::item(item.as_str()), code.as_str().as_bytes().to_vec());
    Ok(())
}
