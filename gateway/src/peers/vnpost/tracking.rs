//! VNPost's tracking feed, polled (docs/PEERS.md §2.5): pages of the customer's events
//! after the cursor (`lastId`), each event applied in the same store command that moves
//! the cursor past it, so a restart in the middle of a page neither misses nor repeats
//! one. Events are matched to dossiers by `OrderNumber`, recorded in the history once
//! each, and mapped to what they mean by the configured table; an unknown code is
//! recorded, counted, and changes nothing.
//!
//! No event can stall the feed: one that cannot be read, one whose time lies before
//! its order or beyond the clock, and one that cannot be saved are set aside with why
//! (`crate::aside`) in the command that moves the cursor past them, counted, and tried
//! again later; they change nothing.

use jiff::Timestamp;
use motcua_adapters::vnpost::{PageItem, TrackingEvent, VnpostClient, tracking::FIRST_ID};
use motcua_schemas::{DossierCode, OrderState};
use serde_json::json;
use tokio::sync::watch;

use crate::aside::{Kind, SetAside, Source};
use crate::config::vnpost_file::{EventTimeUnit, TrackingMeaning};
use crate::core::Core;
use crate::dossiers::{
    DossierRecord,
    effects::{ShipmentEvent, Shipped},
};
use crate::settings::Settings;
use crate::store::{StoreError, Tx, keys};

/// What applying one event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Recorded on its dossier.
    Recorded,
    /// Seen before.
    Repeated,
    /// No order of the gateway has this number.
    Unmatched,
    /// Its code is not in the table: recorded only.
    Unknown,
    /// Set aside, with why: it changed nothing.
    SetAside(Kind),
}

/// The instant of an event's `EventTime`, if it can be one at all (whether it is a
/// plausible one is judged against its order and the clock).
fn event_instant(event: &TrackingEvent, unit: EventTimeUnit) -> Option<Timestamp> {
    match unit {
        EventTimeUnit::Milliseconds => Timestamp::from_millisecond(event.event_time).ok(),
        EventTimeUnit::Seconds => Timestamp::from_second(event.event_time).ok(),
    }
}

/// Why an event was refused: it changes nothing.
struct Refused(String);

/// Applies one event (the cursor is moved by the caller).
fn apply(
    tx: &mut Tx<'_>,
    settings: &Settings,
    event: &TrackingEvent,
    now: Timestamp,
) -> Result<Result<Applied, Refused>, StoreError> {
    let mark = crate::store::keys::vnpost_event(&event.id);
    if tx.get(&mark)?.is_some() {
        return Ok(Ok(Applied::Repeated));
    }
    let Some(code) = tx.get(&crate::peers::vnpost::orders::order_key(&event.order_number))? else {
        tx.put(&mark, Vec::new());
        return Ok(Ok(Applied::Unmatched));
    };
    let code: DossierCode =
        String::from_utf8_lossy(&code).parse().map_err(|_| StoreError::Corrupt("order index".into()))?;
    let Some(mut record) = DossierRecord::load(tx, &code)? else { return Ok(Ok(Applied::Unmatched)) };
    let Some(index) = record.dossier.postal.orders.iter().position(|o| o.number == event.order_number) else {
        return Ok(Ok(Applied::Unmatched));
    };
    let vnpost = settings.vnpost();
    let unit = vnpost.map_or(EventTimeUnit::Milliseconds, |v| v.event_time_unit);
    let skew = jiff::SignedDuration::from_secs(i64::try_from(settings.deadlines.event_clock_skew_secs).unwrap_or(0));
    // An event of an order cannot precede the order, nor lie beyond the clock.
    let ordered = record.dossier.postal.orders[index].requested_at.unwrap_or(record.dossier.received_at);
    let at = match event_instant(event, unit) {
        Some(at) if at < ordered.checked_sub(skew).unwrap_or(ordered) => {
            return Ok(Err(Refused(format!(
                "EventTime {} precedes the order it belongs to ({})",
                event.event_time,
                motcua_schemas::time::format_rfc3339(ordered)
            ))));
        }
        Some(at) if at > now.checked_add(skew).unwrap_or(now) => {
            return Ok(Err(Refused(format!("EventTime {} lies beyond the gateway's clock", event.event_time))));
        }
        Some(at) => at.min(now),
        None => return Ok(Err(Refused(format!("EventTime {} is not a time", event.event_time)))),
    };
    tx.put(&mark, Vec::new());
    let meaning = vnpost.and_then(|v| v.tracking.get(&event.status_code)).copied();
    let words = if event.message.is_empty() { format!("mã {}", event.status_code) } else { event.message.clone() };
    let kind = record.dossier.postal.orders[index].kind;
    {
        let order = &mut record.dossier.postal.orders[index];
        order.last_event = Some(words.clone());
        order.state = match meaning {
            Some(TrackingMeaning::PickedUp) if order.state != OrderState::Cancelled => OrderState::PickedUp,
            Some(TrackingMeaning::Delivered) => OrderState::Delivered,
            Some(TrackingMeaning::Undeliverable) => OrderState::Undeliverable,
            _ if order.state == OrderState::Requested => OrderState::Created,
            _ => order.state,
        };
    }
    let details = json!({
        "mark": "vnpost_tracking", "order": event.order_number, "status_code": event.status_code,
        "event": event.id, "post_office": event.pos_id,
    });
    let outcome = if meaning.is_none() { Applied::Unknown } else { Applied::Recorded };
    let shipped = match meaning {
        Some(TrackingMeaning::Delivered) => Shipped::Delivered,
        Some(TrackingMeaning::Undeliverable) => Shipped::Undeliverable,
        _ => Shipped::Other,
    };
    let shipment = ShipmentEvent { shipped, carries: kind, reference: event.order_number.clone(), at, words, details };
    crate::dossiers::effects::shipment(tx, settings, &mut record, shipment, now)?;
    record.save(tx, settings, now)?;
    Ok(Ok(outcome))
}

/// Takes one entry of the feed in one command: moves the cursor past it (when it has
/// a position), applies it, and sets it aside if it is refused or cannot be saved.
pub fn take(tx: &mut Tx<'_>, settings: &Settings, item: &PageItem, now: Timestamp) -> Result<Applied, StoreError> {
    if let Some(id) = &item.id {
        tx.put(&keys::tracking_cursor(), id.clone().into_bytes());
    }
    let id = item.id.clone().unwrap_or_else(|| unplaced_id(&item.raw));
    let outcome = match &item.event {
        Err(reason) => Err((Kind::Refused, reason.clone())),
        Ok(event) => match tx.attempt(|tx| apply(tx, settings, event, now)) {
            Ok(Ok(applied)) => Ok(applied),
            Ok(Err(Refused(reason))) => Err((Kind::Refused, reason)),
            Err(e) => Err((Kind::Failed, format!("the event could not be saved: {e}"))),
        },
    };
    match outcome {
        Ok(applied) => {
            crate::aside::remove(tx, Source::VnpostTracking, &id);
            Ok(applied)
        }
        Err((kind, reason)) => {
            let unit = match &item.event {
                Ok(event) => dossier_unit(tx, &event.order_number)?,
                Err(_) => None,
            };
            let entry = SetAside {
                source: Source::VnpostTracking,
                id: &id,
                kind,
                reason: &reason,
                unit,
                item: item.raw.clone(),
                settings: &settings.digest,
            };
            crate::aside::put(tx, entry, now)?;
            Ok(Applied::SetAside(kind))
        }
    }
}

/// The unit of the dossier an order number belongs to, if any.
fn dossier_unit(tx: &Tx<'_>, order_number: &str) -> Result<Option<String>, StoreError> {
    let Some(code) = tx.get(&crate::peers::vnpost::orders::order_key(order_number))? else {
        return Ok(None);
    };
    let Ok(code) = String::from_utf8_lossy(&code).parse::<DossierCode>() else { return Ok(None) };
    Ok(DossierRecord::load(tx, &code)?.map(|r| r.dossier.target_unit.to_string()))
}

/// An id for an entry without a feed position: the digest of what it was.
fn unplaced_id(raw: &serde_json::Value) -> String {
    let bytes = serde_json::to_vec(raw).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    format!("unplaced-{}", crate::digest::hex(&digest.as_ref()[..12]))
}

/// The cursor: the last event applied.
pub fn cursor(store: &crate::store::Store) -> String {
    store
        .get(&keys::tracking_cursor())
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_else(|| FIRST_ID.to_owned())
}

fn count(app: &Core, item: &PageItem, outcome: &Applied) {
    match outcome {
        Applied::Unknown => {
            if let Ok(event) = &item.event {
                app.metrics.vnpost_unknown_status(event.status_code);
            }
        }
        Applied::Unmatched => {
            app.metrics.vnpost_unmatched.inc();
        }
        Applied::SetAside(kind) => {
            // Named by position only: the event's words may quote the applicant.
            tracing::warn!(event = item.id.as_deref().unwrap_or("-"), ?kind, "a VNPost tracking event was set aside");
            app.metrics.aside(Source::VnpostTracking, *kind);
        }
        Applied::Recorded | Applied::Repeated => {}
    }
}

/// Events set aside retried per round, at most.
const RETRIED_PER_ROUND: usize = 100;

/// Tries again the events set aside whose time has come (the cursor stays).
async fn retry_set_aside(app: &Core) -> Result<(), String> {
    let settings = app.settings();
    let due =
        crate::aside::due(&app.store, Source::VnpostTracking, app.clock.now(), &settings.digest, RETRIED_PER_ROUND)
            .map_err(|e| e.to_string())?;
    for entry in due {
        let event = motcua_adapters::vnpost::tracking::parse_event(&entry.item);
        let item = PageItem { id: None, event, raw: entry.item.clone() };
        let (settings, now, id) = (app.settings(), app.clock.now(), entry.id.clone());
        let outcome = app
            .store
            .write(move |tx| {
                let item = PageItem { id: None, ..item };
                retake(tx, &settings, &id, &item, now)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if let Applied::SetAside(kind) = outcome {
            app.metrics.aside(Source::VnpostTracking, kind);
        }
    }
    Ok(())
}

/// [`take`] for an entry set aside under `id`, without moving the cursor.
fn retake(
    tx: &mut Tx<'_>,
    settings: &Settings,
    id: &str,
    item: &PageItem,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let cursor = tx.get(&keys::tracking_cursor())?;
    let placed = PageItem { id: Some(id.to_owned()), ..item.clone() };
    let outcome = take(tx, settings, &placed, now)?;
    match cursor {
        Some(c) => tx.put(&keys::tracking_cursor(), c),
        None => tx.remove(&keys::tracking_cursor()),
    }
    Ok(outcome)
}

/// Reads the feed from the cursor until a page comes back short; returns how many
/// entries were taken (applied or set aside).
pub async fn round(app: &Core, client: &VnpostClient, page_size: usize) -> Result<usize, String> {
    retry_set_aside(app).await?;
    let mut taken = 0;
    loop {
        let before = cursor(&app.store);
        let page = client.tracking(&before, page_size).await?;
        let short = page.items.len() < page_size;
        for item in page.items {
            let settings = app.settings();
            let now = app.clock.now();
            let shared = item.clone();
            let outcome = app
                .store
                .write(move |tx| take(tx, &settings, &shared, now))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            count(app, &item, &outcome);
            taken += 1;
        }
        // A full page whose entries gave no position cannot move the cursor: stop
        // rather than read it again at once.
        if short || cursor(&app.store) == before {
            return Ok(taken);
        }
    }
}

/// Starts the poller, supervised; it polls while VNPost is configured.
pub fn start(app: Core, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (tasks, panics) = (app.tasks.clone(), app.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("vnpost_tracking", tasks, panics, stop, move || {
        let (app, shutdown) = (app.clone(), shutdown.clone());
        async move { run(app, shutdown).await }
    })
}

async fn run(app: Core, mut shutdown: watch::Receiver<bool>) {
    // The alert on a stalled feed counts from the task's start until a round succeeds.
    let mut started = true;
    loop {
        let settings = app.settings();
        let vnpost = settings.vnpost();
        let wait = vnpost.map_or(std::time::Duration::from_secs(60), |v| v.poll_interval);
        let outbound = app.outbound();
        if let (Some(vnpost), Some(client)) = (vnpost, outbound.vnpost()) {
            let free = crate::peers::vnpost::waybills::free(&app.store);
            app.metrics.waybills_free.set(i64::try_from(free).unwrap_or(i64::MAX));
            let low_water = if vnpost.item_codes_from_pool { vnpost.pool_low_water } else { 0 };
            app.metrics.waybills_low_water.set(i64::try_from(low_water).unwrap_or(i64::MAX));
            if vnpost.item_codes_from_pool && free < vnpost.pool_low_water {
                tracing::warn!(
                    free,
                    low_water = vnpost.pool_low_water,
                    "the waybill pool is running low: import a new batch"
                );
            }
            let outcome = round(&app, client, vnpost.page_size).await;
            if outcome.is_ok() || started {
                app.metrics.round_ok(crate::aside::Source::VnpostTracking, app.clock.now().as_second(), wait);
            }
            started = false;
            if let Err(why) = outcome {
                let cause = motcua_adapters::outbound::loggable_cause(&why).to_owned();
                tracing::warn!(%cause, "the VNPost tracking feed could not be read; the cursor stays");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
