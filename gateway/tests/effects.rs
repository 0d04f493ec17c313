//! What a peer's answer does to its dossier (`dossiers::effects`), in process against
//! a real store: each effect's change to the record, the result accepted online and
//! delivered by post closing the dossier, a failed return told to the desk, and the
//! effects that must change nothing.

// A test's helpers say "this cannot fail here" the way its test functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use motcua_adapters::desk::EventFields;
use motcua_gateway::{
    dossiers::{
        DossierRecord,
        effects::{self, Effect, ShipmentEvent, Shipped},
    },
    outbox::NoticeKind,
    store::{StoreError, keys},
};
use motcua_schemas::{DossierCode, EventType, OrderKind, OrderState, PostOrder, ReturnMethod, S10ItemCode, Status};
use serde_json::json;
use support::World;

const START: &str = "2026-11-23T09:00:00+07:00";

/// A dossier of xã Trạm Tấu whose result is ready, to be returned by `method`.
async fn processed(w: &mut World, method: ReturnMethod) -> DossierCode {
    let code = w.submit("1.004873").await;
    w.event(&code, EventType::Received, EventFields::None).await;
    w.event(&code, EventType::ResultReady, EventFields::Result { documents: vec![], return_method: Some(method) })
        .await;
    assert_eq!(w.record(&code).dossier.status, Status::Processed);
    code
}

async fn apply(w: &World, code: &DossierCode, effect: Effect) {
    let (settings, code, now) = (w.settings.clone(), code.clone(), w.now());
    w.store
        .write(move |tx| -> Result<(), StoreError> { effects::apply(tx, &settings, &code, 2, effect, now) })
        .await
        .unwrap()
        .unwrap();
}

async fn shipment(w: &World, code: &DossierCode, shipped: Shipped, carries: OrderKind) {
    let (settings, code, now) = (w.settings.clone(), code.clone(), w.now());
    w.store
        .write(move |tx| -> Result<(), StoreError> {
            let mut record = DossierRecord::load(tx, &code)?.expect("the dossier");
            let event = ShipmentEvent {
                shipped,
                carries,
                reference: "EB123456785VN".into(),
                at: now,
                words: "Phát thành công".into(),
                details: json!({ "item": "EB123456785VN" }),
            };
            effects::shipment(tx, &settings, &mut record, event, now)?;
            record.save(tx, &settings, now)
        })
        .await
        .unwrap()
        .unwrap();
}

fn last_mark(record: &DossierRecord) -> Option<String> {
    let details = record.dossier.history.last()?.details.as_ref()?;
    details.get("mark")?.as_str().map(str::to_owned)
}

fn item(code: &str) -> S10ItemCode {
    code.parse().unwrap()
}

#[tokio::test]
async fn a_delivery_and_a_return_shipment_are_noted_and_the_shipment_indexed() {
    let mut w = World::new(START);
    let code = processed(&mut w, ReturnMethod::Post).await;

    apply(&w, &code, Effect::Delivered { desk: "mc-tram-tau".into() }).await;
    let record = w.record(&code);
    assert_eq!(last_mark(&record).as_deref(), Some("delivered"));
    assert_eq!(record.dossier.history.last().unwrap().details.as_ref().unwrap()["attempts"], 2);

    let shipped = item("EB123456785VN");
    assert_eq!(Effect::ReturnItem(shipped.clone()).item(), Some(&shipped), "the item is indexed even unsaved");
    apply(&w, &code, Effect::ReturnItem(shipped.clone())).await;
    let record = w.record(&code);
    assert_eq!(record.dossier.postal.return_item, Some(shipped));
    assert_eq!(last_mark(&record).as_deref(), Some("return_order"));
    assert_eq!(record.dossier.status, Status::Processed, "a shipment sent is not a result delivered");
}

#[tokio::test]
async fn the_portal_taking_an_online_result_returns_it_and_only_then() {
    let mut w = World::new(START);
    let online = processed(&mut w, ReturnMethod::Online).await;
    let at_desk = processed(&mut w, ReturnMethod::Desk).await;
    for code in [&online, &at_desk] {
        let seq = w.record(code).dossier.history.iter().rfind(|h| h.kind == EventType::ResultReady).unwrap().seq;
        apply(&w, code, Effect::PortalAccepted { seq }).await;
    }
    let returned = w.record(&online);
    assert_eq!(returned.dossier.status, Status::Returned);
    assert_eq!(returned.dossier.history.last().unwrap().kind, EventType::PortalAccepted);
    assert_eq!(
        w.record(&at_desk).dossier.status,
        Status::Processed,
        "collected at the desk: the portal's ack is not the return"
    );

    // An acknowledgement of an earlier entry (the dossier was not processed then) does nothing.
    let mut w = World::new(START);
    let code = processed(&mut w, ReturnMethod::Online).await;
    let received = w.record(&code).dossier.history.iter().find(|h| h.kind == EventType::Received).unwrap().seq;
    apply(&w, &code, Effect::PortalAccepted { seq: received }).await;
    assert_eq!(w.record(&code).dossier.status, Status::Processed);
}

#[tokio::test]
async fn the_portal_registering_the_record_is_kept_once() {
    let mut w = World::new(START);
    let code = processed(&mut w, ReturnMethod::Desk).await;
    assert!(!w.record(&code).portal.registered);
    apply(&w, &code, Effect::PortalRegistered { sent: Status::Received }).await;
    let registered = w.record(&code);
    assert!(registered.portal.registered);
    apply(&w, &code, Effect::PortalRegistered { sent: Status::Processed }).await;
    assert_eq!(w.record(&code), registered, "registered already, and no online result: nothing changes");

    apply(&w, &code, Effect::StepsSynced { upto: 3 }).await;
    apply(&w, &code, Effect::StepsSynced { upto: 2 }).await;
    assert_eq!(w.record(&code).portal.steps_synced, 3, "an older answer never moves the mark back");
}

#[tokio::test]
async fn an_order_is_created_with_its_waybill_then_cancelled() {
    let mut w = World::new(START);
    let code = processed(&mut w, ReturnMethod::Post).await;
    let number = format!("{code}-TK1");
    let (settings, in_tx, now, order) = (w.settings.clone(), code.clone(), w.now(), number.clone());
    w.store
        .write(move |tx| -> Result<(), StoreError> {
            let mut record = DossierRecord::load(tx, &in_tx)?.expect("the dossier");
            record.dossier.postal.orders.push(PostOrder {
                number: order,
                kind: OrderKind::Return,
                item: None,
                state: OrderState::Requested,
                last_event: None,
                requested_at: Some(now),
            });
            record.save(tx, &settings, now)
        })
        .await
        .unwrap()
        .unwrap();

    let waybill = item("EB123456785VN");
    apply(&w, &code, Effect::OrderCreated { number: number.clone(), item: Some(waybill.clone()) }).await;
    let record = w.record(&code);
    let order = &record.dossier.postal.orders[0];
    assert_eq!((order.state, order.item.as_ref()), (OrderState::Created, Some(&waybill)));
    assert_eq!(record.dossier.postal.return_item, Some(waybill), "a return order's waybill is the result's shipment");
    assert_eq!(last_mark(&record).as_deref(), Some("vnpost_order"));

    apply(&w, &code, Effect::OrderCancelled { number: number.clone() }).await;
    let record = w.record(&code);
    assert_eq!(record.dossier.postal.orders[0].state, OrderState::Cancelled);
    assert_eq!(last_mark(&record).as_deref(), Some("vnpost_cancelled"));

    // An order the dossier does not have changes nothing.
    let before = w.record(&code);
    apply(&w, &code, Effect::OrderCreated { number: "khac-TK9".into(), item: None }).await;
    assert_eq!(w.record(&code), before);
}

#[tokio::test]
async fn nothing_superseded_or_unknown_changes_nothing() {
    let mut w = World::new(START);
    let code = processed(&mut w, ReturnMethod::Post).await;
    let before = w.record(&code);
    apply(&w, &code, Effect::None).await;
    apply(&w, &code, Effect::Superseded).await;
    assert_eq!(w.record(&code), before);
    let unknown: DossierCode = "000.07.20.H38-261126-9999".parse().unwrap();
    apply(&w, &unknown, Effect::Delivered { desk: "mc-tram-tau".into() }).await;
    assert!(w.store.get_json::<DossierRecord>(&keys::dossier(unknown.as_str())).unwrap().is_none());
}

#[tokio::test]
async fn a_result_delivered_by_post_closes_the_dossier_and_a_failed_one_is_told_to_the_desk() {
    let mut w = World::new(START);
    let delivered = processed(&mut w, ReturnMethod::Post).await;
    shipment(&w, &delivered, Shipped::Delivered, OrderKind::Return).await;
    let record = w.record(&delivered);
    assert_eq!(record.dossier.status, Status::Returned);
    assert_eq!(record.dossier.history.last().unwrap().kind, EventType::PostalDelivered);

    let failed = processed(&mut w, ReturnMethod::Post).await;
    shipment(&w, &failed, Shipped::Undeliverable, OrderKind::Return).await;
    let record = w.record(&failed);
    assert_eq!(record.dossier.status, Status::Processed);
    assert_eq!(last_mark(&record).as_deref(), Some("return_failed"));
    assert!(w.notices("mc-tram-tau").contains(&(NoticeKind::ReturnFailed, failed.to_string())));

    // Papers collected from home reach the desk: a note, no change of status.
    let collected = processed(&mut w, ReturnMethod::Post).await;
    shipment(&w, &collected, Shipped::Delivered, OrderKind::Collection).await;
    let record = w.record(&collected);
    assert_eq!((record.dossier.status, last_mark(&record).as_deref()), (Status::Processed, Some("papers_arrived")));
}
