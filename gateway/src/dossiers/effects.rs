//! What a peer's answer does to its dossier (docs/ARCHITECTURE.md §1): each kind of
//! effect a delivery brings back — a note in the history, an order's state and waybill,
//! the portal's bookkeeping, the result accepted online — and what a shipment event of
//! the post does, whichever way it arrives (the partner's events, VNPost's feed). Each
//! is applied in the store command that records the outcome.

use jiff::Timestamp;
use motcua_schemas::{DossierCode, EventType, OrderKind, OrderState, ReturnMethod, S10ItemCode, Status};
use serde_json::json;

use super::{DossierRecord, events};
use crate::settings::Settings;
use crate::store::{StoreError, Tx, keys};

/// What a successful call brought back that the record must keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing to keep.
    None,
    /// The applicant was told of `event` by `channel`.
    Notified {
        /// What they were told of.
        event: motcua_schemas::NotifyEvent,
        /// `email`, `sms`, `zalo`.
        channel: String,
    },
    /// The payment platform said how payment `reference` stands.
    Payment {
        /// `MaThamChieu`.
        reference: String,
        /// What it said.
        settlement: super::payments::Settlement,
    },
    /// The desk has the dossier.
    Delivered {
        /// The desk.
        desk: String,
    },
    /// The portal (the contract) took the status of history entry `seq`.
    PortalAccepted {
        /// The history entry.
        seq: u32,
    },
    /// The post (the contract) took the return order with this shipment.
    ReturnItem(S10ItemCode),
    /// A newer sync of the dossier carries a later state: this one was not sent.
    Superseded,
    /// The national portal has the record, as of the status it was sent with.
    PortalRegistered {
        /// The status sent.
        sent: Status,
    },
    /// The national portal has the steps up to this history entry.
    StepsSynced {
        /// The history entry.
        upto: u32,
    },
    /// VNPost has the order (`Status` 100 or 101), sent with this waybill code.
    OrderCreated {
        /// `OrderNumber`.
        number: String,
        /// Its waybill code.
        item: Option<S10ItemCode>,
    },
    /// VNPost cancelled the order.
    OrderCancelled {
        /// `OrderNumber`.
        number: String,
    },
    /// The post (the contract) took the `n`-th letter with this shipment.
    LetterItem {
        /// Which letter.
        n: u32,
        /// Its shipment.
        item: S10ItemCode,
    },
}

impl Effect {
    /// Its name in the log and among the effects held.
    pub fn name(&self) -> &'static str {
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
            Effect::Payment { .. } => "payment",
            Effect::Notified { .. } => "notified",
        }
    }

    /// The shipment it brought, which must be indexed even if the dossier cannot be
    /// saved, so that the post's delivery events still find their dossier.
    pub fn item(&self) -> Option<&S10ItemCode> {
        match self {
            Effect::ReturnItem(item) | Effect::LetterItem { item, .. } => Some(item),
            Effect::OrderCreated { item: Some(item), .. } => Some(item),
            _ => None,
        }
    }
}

/// Remembers which dossier a shipment belongs to, for the post's delivery events.
pub fn index_item(tx: &mut Tx<'_>, item: &S10ItemCode, code: &DossierCode) {
    tx.put(&keys::item(item.as_str()), code.as_str().as_bytes().to_vec());
}

fn order_words(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Collection => "thu gom hồ sơ tại nhà",
        OrderKind::Return => "trả kết quả tại nhà",
        OrderKind::Letter => "gửi văn bản xin lỗi",
    }
}

/// Applies `effect` of a delivery of dossier `code` (after `attempts` attempts).
pub fn apply(
    tx: &mut Tx<'_>,
    settings: &Settings,
    code: &DossierCode,
    attempts: u32,
    effect: Effect,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut record) = DossierRecord::load(tx, code)? else { return Ok(()) };
    match effect {
        Effect::None | Effect::Superseded => return Ok(()),
        Effect::Payment { reference, settlement } => {
            super::payments::settle(tx, settings, &mut record, &reference, settlement, now)?;
        }
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
            let text = format!("Bưu điện đã nhận đơn hàng {} ({number}{shown})", order_words(kind));
            events::note(&mut record, now, text, json!({ "mark": "vnpost_order", "order": number, "item": item }));
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
            let online_result = sent == Status::Processed && returned_online(&record);
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
                crate::peers::dvcqg::sync::queue_more_progress(tx, &record.dossier, now)?;
            }
        }
        Effect::Delivered { desk } => {
            events::note(
                &mut record,
                now,
                format!("Đã chuyển hồ sơ đến Bộ phận Một cửa ({desk})"),
                json!({ "mark": "delivered", "desk": desk, "attempts": attempts }),
            );
        }
        Effect::PortalAccepted { seq } => {
            let at_seq = record.dossier.history.iter().find(|h| h.seq == seq).map(|h| h.status_after);
            if !(at_seq == Some(Status::Processed) && returned_online(&record)) {
                return Ok(());
            }
            portal_accepted(tx, settings, &mut record, now)?;
        }
        Effect::LetterItem { n, item } => {
            let order = motcua_schemas::letter_order_code(code.as_str(), n);
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
        Effect::Notified { event, channel } => {
            events::note(
                &mut record,
                now,
                format!(
                    "Đã gửi thông báo {} cho người nộp qua {}",
                    crate::notify::event_words(event),
                    crate::notify::channel_words(&channel)
                ),
                json!({ "mark": "notified", "event": event, "channel": channel }),
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

/// Whether the dossier's result is ready and goes back online (the portal has it once
/// its sync is taken).
fn returned_online(record: &DossierRecord) -> bool {
    record.dossier.status == Status::Processed && record.dossier.return_method == ReturnMethod::Online
}

/// The portal has the online result: the dossier's result is returned (status 10).
fn portal_accepted(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &mut DossierRecord,
    now: Timestamp,
) -> Result<(), StoreError> {
    let change = events::Change::by("portal", EventType::PortalAccepted, now)
        .note("Cổng dịch vụ công đã nhận kết quả trực tuyến");
    events::transition(tx, settings, record, change, now).map(drop).map_err(events::into_store_error)
}

/// What the post reported of a shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shipped {
    /// It reached its addressee.
    Delivered,
    /// It could not be delivered (or came back).
    Undeliverable,
    /// Something else on the way (accepted, in transit, picked up, an unknown code).
    Other,
}

/// A shipment event of one of the dossier's shipments, as the post reported it.
pub struct ShipmentEvent {
    /// What was reported.
    pub shipped: Shipped,
    /// What the shipment carries.
    pub carries: OrderKind,
    /// Its order or item, for the history.
    pub reference: String,
    /// When the post says it happened.
    pub at: Timestamp,
    /// The post's words (or the status in words).
    pub words: String,
    /// What the history keeps of it.
    pub details: serde_json::Value,
}

/// Records a shipment event on its dossier: a result delivered closes the dossier (9 →
/// 10), one undeliverable tells the desk, papers collected reach the desk, anything else
/// is noted. Both the postal partner's events and VNPost's feed arrive here.
pub fn shipment(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &mut DossierRecord,
    event: ShipmentEvent,
    now: Timestamp,
) -> Result<(), StoreError> {
    let ShipmentEvent { shipped, carries, reference, at, words, mut details } = event;
    let what = match carries {
        OrderKind::Collection => "Bưu gửi thu gom hồ sơ",
        OrderKind::Return => "Bưu gửi kết quả",
        OrderKind::Letter => "Thư gửi người nộp",
    };
    match (shipped, carries) {
        (Shipped::Delivered, OrderKind::Return) if record.dossier.status == Status::Processed => {
            let change = events::Change::by("postal", EventType::PostalDelivered, at)
                .note(format!("{what} ({reference}): {words}"))
                .details(details);
            events::transition(tx, settings, record, change, now).map_err(events::into_store_error)?;
        }
        (Shipped::Delivered, OrderKind::Collection) => {
            details["mark"] = "papers_arrived".into();
            events::note(record, at, "Hồ sơ giấy đã được bưu điện chuyển đến Bộ phận Một cửa".into(), details);
        }
        (Shipped::Undeliverable, OrderKind::Return) => {
            details["mark"] = "return_failed".into();
            events::note(record, at, format!("Phát kết quả không thành công ({reference}): {words}"), details);
            let desk = record.dossier.desk.clone();
            crate::outbox::notice(tx, &desk, crate::outbox::NoticeKind::ReturnFailed, &record.dossier, now)?;
        }
        _ => {
            events::note(record, at, format!("{what} ({reference}): {words}"), details);
        }
    }
    Ok(())
}
