//! VNPost's tracking feed, polled (docs/PEERS.md §2.5): pages of the customer's events
//! after the cursor (`lastId`), each event applied in the same store command that moves
//! the cursor past it, so a restart in the middle of a page neither misses nor repeats
//! one. Events are matched to dossiers by `OrderNumber`, recorded in the history once
//! each, and mapped to what they mean by the configured table; an unknown code is
//! recorded, counted, and changes nothing.

use std::sync::Arc;

use jiff::Timestamp;
use motcua_adapters::vnpost::{TrackingEvent, VnpostClient, tracking::FIRST_ID};
use motcua_schemas::{DossierCode, EventType, OrderKind, OrderState, Status};
use serde_json::json;
use tokio::sync::watch;

use crate::app::App;
use crate::config::vnpost_file::TrackingMeaning;
use crate::dossiers::{DossierRecord, events};
use crate::outbox::NoticeKind;
use crate::settings::Settings;
use crate::store::{Space, StoreError, Tx};

const CURSOR: &[u8] = crate::store::keys::TRACKING_CURSOR;

/// What applying one event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Recorded on its dossier.
    Recorded,
    /// Seen before.
    Repeated,
    /// No order of the gateway has this number.
    Unmatched,
    /// Its code is not in the table: recorded only.
    Unknown,
}

fn transition_error(e: events::EventError) -> StoreError {
    match e {
        events::EventError::Store(e) => e,
        other => StoreError::Corrupt(other.to_string()),
    }
}

/// Applies one event and moves the cursor past it.
pub fn apply(
    tx: &mut Tx<'_>,
    settings: &Settings,
    event: &TrackingEvent,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    tx.put(Space::Meta, CURSOR, event.id.clone().into_bytes());
    let mark = crate::store::keys::vnpost_event(&event.id);
    if tx.get(Space::Applied, &mark)?.is_some() {
        return Ok(Applied::Repeated);
    }
    tx.put(Space::Applied, &mark, Vec::new());
    let Some(code) = tx.get(Space::Index, &crate::post_orders::order_key(&event.order_number))? else {
        return Ok(Applied::Unmatched);
    };
    let code: DossierCode =
        String::from_utf8_lossy(&code).parse().map_err(|_| StoreError::Corrupt("order index".into()))?;
    let Some(mut record) = DossierRecord::load(tx, &code)? else { return Ok(Applied::Unmatched) };
    let meaning = settings
        .postal
        .as_ref()
        .and_then(|p| p.vnpost.as_ref())
        .and_then(|v| v.tracking.get(&event.status_code))
        .copied();
    let at = Timestamp::from_millisecond(event.event_time_ms).ok().filter(|t| *t <= now).unwrap_or(now);
    let words = if event.message.is_empty() { format!("mã {}", event.status_code) } else { event.message.clone() };
    let Some(index) = record.dossier.postal.orders.iter().position(|o| o.number == event.order_number) else {
        return Ok(Applied::Unmatched);
    };
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
    let what = match kind {
        OrderKind::Collection => "Bưu gửi thu gom hồ sơ",
        OrderKind::Return => "Bưu gửi kết quả",
        OrderKind::Letter => "Thư gửi người nộp",
    };
    let outcome = if meaning.is_none() { Applied::Unknown } else { Applied::Recorded };
    match (meaning, kind) {
        (Some(TrackingMeaning::Delivered), OrderKind::Return) if record.dossier.status == Status::Processed => {
            let note = Some(format!("{what} ({}): {words}", event.order_number));
            events::transition(
                tx,
                settings,
                &mut record,
                EventType::PostalDelivered,
                "postal",
                at,
                now,
                note,
                Some(details),
            )
            .map_err(transition_error)?;
        }
        (Some(TrackingMeaning::Delivered), OrderKind::Collection) => {
            let mut details = details;
            details["mark"] = "papers_arrived".into();
            events::note(&mut record, at, "Hồ sơ giấy đã được bưu điện chuyển đến Bộ phận Một cửa".into(), details);
        }
        (Some(TrackingMeaning::Undeliverable), OrderKind::Return) => {
            let mut details = details;
            details["mark"] = "return_failed".into();
            events::note(
                &mut record,
                at,
                format!("Phát kết quả không thành công ({}): {words}", event.order_number),
                details,
            );
            let desk = record.dossier.desk.clone();
            crate::deadlines::notice(tx, &desk, NoticeKind::ReturnFailed, &record, now)?;
        }
        _ => {
            events::note(&mut record, at, format!("{what} ({}): {words}", event.order_number), details);
        }
    }
    record.save(tx, settings, now)?;
    Ok(outcome)
}

/// The cursor: the last event applied.
pub fn cursor(store: &crate::store::Store) -> String {
    store
        .get(Space::Meta, CURSOR)
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_else(|| FIRST_ID.to_owned())
}

/// Reads the feed from the cursor until a page comes back short; returns how many
/// events were applied.
pub async fn round(app: &App, client: &VnpostClient, page_size: usize) -> Result<usize, String> {
    let mut applied = 0;
    loop {
        let page = client.tracking(&cursor(&app.store), page_size).await?;
        let short = page.events.len() < page_size;
        for event in page.events {
            let settings = app.settings();
            let now = app.clock.now();
            let code = event.status_code;
            let outcome = app
                .store
                .write(move |tx| apply(tx, &settings, &event, now))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            match outcome {
                Applied::Unknown => app.metrics.vnpost_unknown_status(code),
                Applied::Unmatched => {
                    app.metrics.vnpost_unmatched.inc();
                }
                _ => {}
            }
            applied += 1;
        }
        if short {
            return Ok(applied);
        }
    }
}

/// Starts the poller, supervised; it polls while VNPost is configured.
pub fn start(app: Arc<App>, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (tasks, panics) = (app.tasks.clone(), app.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("vnpost_tracking", tasks, panics, stop, move || {
        let (app, shutdown) = (app.clone(), shutdown.clone());
        async move { run(app, shutdown).await }
    })
}

async fn run(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let settings = app.settings();
        let vnpost = settings.postal.as_ref().and_then(|p| p.vnpost.as_ref());
        let wait = vnpost.map_or(std::time::Duration::from_secs(60), |v| v.poll_interval);
        let outbound = app.outbound();
        if let (Some(vnpost), Some(client)) = (vnpost, outbound.vnpost()) {
            let free = crate::waybills::free(&app.store);
            app.metrics.waybills_free.set(i64::try_from(free).unwrap_or(i64::MAX));
            if vnpost.item_codes_from_pool && free < vnpost.pool_low_water {
                tracing::warn!(
                    free,
                    low_water = vnpost.pool_low_water,
                    "the waybill pool is running low: import a new batch"
                );
            }
            if let Err(why) = round(&app, client, vnpost.page_size).await {
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
