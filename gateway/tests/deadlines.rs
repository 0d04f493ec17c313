//! The deadline rules with a clock the test controls: every mark at its working-time
//! instant (holidays and make-up days included), pauses for supplements, dossiers
//! resolved before a mark, restarts that catch up exactly once, apologies and the
//! violation they prevent, and a scripted scenario whose statistics are checked
//! number by number.

// A test's helpers say "this cannot fail here" the way its test functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use motcua_adapters::desk::EventFields;
use motcua_gateway::{
    clock::{Clock, ManualClock},
    deadlines,
    dossiers::{DossierRecord, events},
    outbox::{Job, JobKind, NoticeKind},
    stats,
    store::{Store, StoreMetrics, keys},
};
use motcua_schemas::{DossierCode, EventType, UnitCode};
use support::{World, settings, t};

#[tokio::test]
async fn every_mark_falls_at_its_working_time() {
    // Xác nhận tình trạng hôn nhân: 3 working days. Received Monday 23 Nov 2026 09:00:
    // due Thursday 09:00; due soon one working day before (Wednesday 09:00); the
    // explanation is missing two working days after the due time (Monday 30 Nov 09:00,
    // over the weekend).
    let mut w = World::new("2026-11-23T09:00:00+07:00");
    let code = w.submit("1.004873").await;
    assert_eq!(w.record(&code).dossier.due_at, t("2026-11-26T09:00:00+07:00"));

    assert_eq!(w.tick("2026-11-25T08:59:59+07:00").await, 0);
    assert_eq!(w.tick("2026-11-25T09:00:00+07:00").await, 1);
    assert_eq!(w.notices("mc-tram-tau"), [(NoticeKind::DueSoon, code.to_string())]);
    assert_eq!(w.marks(&code), ["due_soon"]);

    assert_eq!(w.tick("2026-11-26T08:59:59+07:00").await, 0);
    assert_eq!(w.tick("2026-11-26T09:00:00+07:00").await, 1);
    let record = w.record(&code);
    assert!(record.dossier.overdue);
    assert!(record.compliance.apology_missing, "no apology before the due time: a violation");
    assert_eq!(w.notices("mc-tram-tau").last(), Some(&(NoticeKind::Overdue, code.to_string())));
    assert_eq!(w.notices("hcc-tinh"), [(NoticeKind::Overdue, code.to_string())], "the provincial centre hears of it");

    assert_eq!(w.tick("2026-11-30T08:59:59+07:00").await, 0);
    assert_eq!(w.tick("2026-11-30T09:00:00+07:00").await, 1);
    assert!(w.record(&code).compliance.explanation_missing);
    assert_eq!(w.notices("hcc-tinh").last(), Some(&(NoticeKind::ExplanationMissing, code.to_string())));
    assert_eq!(w.marks(&code), ["due_soon", "overdue", "explanation_missing"]);
    assert_eq!(w.tick("2026-12-31T00:00:00+07:00").await, 0, "nothing fires twice");
}

#[tokio::test]
async fn holidays_and_make_up_days_move_the_marks() {
    // Đăng ký kết hôn (1 working day, no cut-off) received Friday 9 Jan 2026 14:00:
    // Saturday 10 Jan is a make-up working day, so it is due that Saturday at 14:00.
    let mut w = World::new("2026-01-09T14:00:00+07:00");
    let code = w.submit("1.000894").await;
    assert_eq!(w.record(&code).dossier.due_at, t("2026-01-10T14:00:00+07:00"));
    assert_eq!(w.tick("2026-01-10T13:59:59+07:00").await, 0, "the due-soon mark would precede receipt: none");
    assert_eq!(w.tick("2026-01-10T14:00:00+07:00").await, 1);
    assert!(w.record(&code).dossier.overdue);
    // Its explanation grace counts the rest of that Saturday: 3 h, Monday 8 h, Tuesday 5 h.
    assert_eq!(w.tick("2026-01-13T13:59:59+07:00").await, 0);
    assert_eq!(w.tick("2026-01-13T14:00:00+07:00").await, 1);

    // Cấp giấy phép xây dựng (10 days) would be long; a 3-day procedure received
    // Wednesday 29 Apr 2026 14:00 crosses 30 Apr – 3 May: 3 h on Wednesday, then
    // Monday, Tuesday, and 5 h on Wednesday 6 May → due 6 May 14:00; due soon on
    // Tuesday 5 May 14:00; explanation grace to Friday 8 May 14:00.
    w.at("2026-04-29T14:00:00+07:00");
    let code = w.submit("1.004873").await;
    assert_eq!(w.record(&code).dossier.due_at, t("2026-05-06T14:00:00+07:00"));
    assert_eq!(w.tick("2026-05-05T13:59:59+07:00").await, 0, "no mark lands on a holiday");
    assert_eq!(w.tick("2026-05-05T14:00:00+07:00").await, 1);
    assert_eq!(w.tick("2026-05-06T14:00:00+07:00").await, 1);
    assert_eq!(w.tick("2026-05-08T13:59:59+07:00").await, 0);
    assert_eq!(w.tick("2026-05-08T14:00:00+07:00").await, 1);
    assert_eq!(w.marks(&code), ["due_soon", "overdue", "explanation_missing"]);
}

#[tokio::test]
async fn a_supplement_pause_holds_the_marks_back() {
    let mut w = World::new("2026-11-23T09:00:00+07:00");
    let code = w.submit("1.004873").await; // due Thu 26 Nov 09:00, resume policy
    w.at("2026-11-23T10:00:00+07:00");
    w.event(&code, EventType::Received, EventFields::None).await;
    w.at("2026-11-24T09:00:00+07:00");
    w.event(&code, EventType::SupplementRequested, EventFields::Items(vec!["Bản sao giấy khai sinh".into()])).await;
    // While paused nothing fires, not even past the original due time.
    assert_eq!(w.tick("2026-11-27T10:00:00+07:00").await, 0);
    assert!(!w.record(&code).dossier.overdue);
    // The supplement arrives Monday 30 Nov 09:00 with 16 working hours left.
    w.at("2026-11-30T09:00:00+07:00");
    let resumed = w.event(&code, EventType::SupplementReceived, EventFields::None).await;
    assert_eq!(resumed.dossier.due_at, t("2026-12-02T09:00:00+07:00"));
    assert_eq!(w.tick("2026-12-01T08:59:59+07:00").await, 0);
    assert_eq!(w.tick("2026-12-01T09:00:00+07:00").await, 1, "due soon, one working day before the new due time");
    assert_eq!(w.tick("2026-12-02T09:00:00+07:00").await, 1);
    assert!(w.record(&code).dossier.overdue);
}

#[tokio::test]
async fn a_dossier_resolved_before_a_mark_is_never_marked() {
    let mut w = World::new("2026-11-23T09:00:00+07:00");
    let code = w.submit("1.004873").await;
    w.at("2026-11-24T09:00:00+07:00");
    w.event(&code, EventType::Received, EventFields::None).await;
    w.event(
        &code,
        EventType::ResultReady,
        EventFields::Result { documents: vec![], return_method: Some(motcua_schemas::ReturnMethod::Desk) },
    )
    .await;
    assert_eq!(w.tick("2026-12-31T00:00:00+07:00").await, 0);
    assert!(!w.record(&code).dossier.overdue);
    assert!(w.notices("mc-tram-tau").is_empty());
    assert!(w.marks(&code).is_empty());
}

#[tokio::test]
async fn an_apology_before_the_due_time_is_no_violation_and_an_explanation_stops_the_reminder() {
    let mut w = World::new("2026-11-23T09:00:00+07:00");
    let code = w.submit("1.004873").await;
    w.at("2026-11-25T10:00:00+07:00");
    w.event(&code, EventType::Received, EventFields::None).await;
    let apology = EventFields::Apology {
        new_appointment: t("2026-11-30T16:00:00+07:00"),
        reason: "Cần xác minh thêm".into(),
    };
    let apologized = w.event(&code, EventType::Apology, apology).await;
    assert_eq!(apologized.dossier.appointment_at, t("2026-11-30T16:00:00+07:00"));
    assert_eq!(apologized.dossier.due_at, t("2026-11-26T09:00:00+07:00"), "an apology does not move the measure");
    w.tick("2026-11-26T09:00:00+07:00").await;
    let record = w.record(&code);
    assert!(record.dossier.overdue);
    assert!(!record.compliance.apology_missing);
    w.at("2026-11-27T09:00:00+07:00");
    w.event(&code, EventType::Explanation, EventFields::Explanation("Báo cáo giải trình gửi Chủ tịch UBND".into()))
        .await;
    assert_eq!(w.tick("2026-12-31T00:00:00+07:00").await, 0, "the explanation came in time");
    assert!(!w.record(&code).compliance.explanation_missing);
    // The apology letter is queued for the portal.
    let letters: Vec<Job> = w
        .store
        .scan_prefix(&keys::destination_prefix("portal"))
        .map(|e| serde_json::from_slice(&e.unwrap().1).unwrap())
        .filter(|j: &Job| matches!(j.kind, JobKind::Letter { n: 1 }))
        .collect();
    assert_eq!(letters.len(), 1);
}

#[tokio::test]
async fn marks_survive_a_restart_and_fire_once() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(|s| s);
    let clock = ManualClock::at(t("2026-11-23T09:00:00+07:00"));
    let code = {
        let store = Store::open(dir.path(), &settings.boot.store, StoreMetrics::default(), Vec::new()).unwrap();
        let mut w = World {
            _dir: tempfile::tempdir().unwrap(),
            store: store.clone(),
            settings: settings.clone(),
            clock: clock.clone(),
            next: 0,
        };
        let code = w.submit("1.004873").await;
        store.close().await;
        code
    };
    // Down over the due time; at the next start everything due fires, once.
    let store = Store::open(dir.path(), &settings.boot.store, StoreMetrics::default(), Vec::new()).unwrap();
    let late = t("2026-12-01T12:00:00+07:00");
    assert_eq!(deadlines::fire_due(&store, settings.clone(), late).await.unwrap().handled, 3);
    assert_eq!(deadlines::fire_due(&store, settings.clone(), late).await.unwrap().handled, 0);
    let record: DossierRecord = store.get_json(&keys::dossier(code.as_str())).unwrap().unwrap();
    assert!(record.dossier.overdue && record.compliance.explanation_missing);
    let overdue_notices = store
        .scan_prefix(&keys::destination_prefix("desk:mc-tram-tau"))
        .map(|e| serde_json::from_slice::<Job>(&e.unwrap().1).unwrap())
        .filter(|j| matches!(&j.kind, JobKind::Notice { notice } if notice.kind == NoticeKind::Overdue))
        .count();
    assert_eq!(overdue_notices, 1);
}

#[tokio::test]
async fn a_scripted_month_adds_up_number_by_number() {
    // Five dossiers at xã Trạm Tấu in the week of 23 Nov 2026 (3-day procedure, due
    // Thursday 26 Nov 09:00 for those received Monday 09:00):
    //  A resolved Tuesday (before the due day), rated 3;
    //  B resolved Thursday 08:00 (on the due day, in time), rated 2;
    //  C resolved Friday (late, no apology: a violation), explanation missing later;
    //  D refused Monday;
    //  E overdue and still open at the end of November, apologized in time, explained.
    let mut w = World::new("2026-11-23T09:00:00+07:00");
    let a = w.submit("1.004873").await;
    let b = w.submit("1.004873").await;
    let c = w.submit("1.004873").await;
    let d = w.submit("1.004873").await;
    let e = w.submit("1.004873").await;
    for code in [&a, &b, &c, &d, &e] {
        w.event(code, EventType::Received, EventFields::None).await;
    }
    w.event(&d, EventType::Refused, EventFields::Reason("Không thuộc thẩm quyền".into())).await;
    let result = || EventFields::Result { documents: vec![], return_method: Some(motcua_schemas::ReturnMethod::Desk) };
    w.at("2026-11-24T10:00:00+07:00");
    w.event(&a, EventType::ResultReady, result()).await;
    w.tick("2026-11-25T09:00:00+07:00").await; // due soon for B, C, E
    w.at("2026-11-25T15:00:00+07:00");
    w.event(
        &e,
        EventType::Apology,
        EventFields::Apology { new_appointment: t("2026-12-04T16:00:00+07:00"), reason: "Chờ xác minh".into() },
    )
    .await;
    w.at("2026-11-26T08:00:00+07:00");
    w.event(&b, EventType::ResultReady, result()).await;
    w.tick("2026-11-26T09:00:00+07:00").await; // C and E overdue
    w.at("2026-11-27T10:00:00+07:00");
    w.event(&c, EventType::ResultReady, result()).await;
    w.event(&e, EventType::Explanation, EventFields::Explanation("Giải trình".into())).await;
    w.tick("2026-11-30T09:00:00+07:00").await; // C's explanation is missing
    for (code, level) in [(&a, 3u8), (&b, 2)] {
        let now = w.clock.now();
        let settings = w.settings.clone();
        let code = code.clone();
        w.store.write(move |tx| events::rate(tx, &settings, &code, level, now)).await.unwrap().unwrap();
    }

    let unit: UnitCode = "04606".parse().unwrap();
    let report = stats::report(
        &w.store,
        &w.settings.network,
        &unit,
        "2026-11-01".parse().unwrap(),
        "2026-11-30".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(report.received, 5);
    assert_eq!(report.resolved, 3);
    assert_eq!((report.resolved_before_due, report.resolved_on_due, report.resolved_late), (1, 1, 1));
    assert_eq!(report.on_time_rate, Some(2.0 / 3.0));
    assert_eq!(report.refused, 1);
    assert_eq!((report.open_not_due, report.open_overdue), (0, 1));
    assert_eq!(report.apologies, 1);
    assert_eq!(report.apologies_missing, 1, "C became overdue without an apology");
    assert_eq!(report.explanations_missing, 1);
    assert_eq!(
        (report.satisfaction.khong_hai_long, report.satisfaction.hai_long, report.satisfaction.rat_hai_long),
        (0, 1, 1)
    );

    // The province (with its sub-units) sees the same; a period before the week sees
    // nothing; a period ending Monday sees five open, none overdue.
    let province = stats::report(
        &w.store,
        &w.settings.network,
        &"15".parse().unwrap(),
        "2026-11-01".parse().unwrap(),
        "2026-11-30".parse().unwrap(),
    )
    .unwrap();
    assert_eq!((province.received, province.resolved, province.open_overdue), (5, 3, 1));
    let before = stats::report(
        &w.store,
        &w.settings.network,
        &unit,
        "2026-10-01".parse().unwrap(),
        "2026-10-31".parse().unwrap(),
    )
    .unwrap();
    assert_eq!((before.received, before.open_not_due), (0, 0));
    let monday = stats::report(
        &w.store,
        &w.settings.network,
        &unit,
        "2026-11-23".parse().unwrap(),
        "2026-11-23".parse().unwrap(),
    )
    .unwrap();
    assert_eq!((monday.received, monday.refused, monday.open_not_due, monday.open_overdue), (5, 1, 4, 0));
}

/// Pads `code`'s stored record with incompressible text until it lies within a few
/// bytes of the largest record the store takes, as a record that grew through its
/// life might.
async fn fill_to_the_limit(w: &World, code: &DossierCode) {
    let mut record = w.record(code);
    let bytes = motcua_gateway::dossiers::record::pad_to_the_limit(&mut record).unwrap();
    let limit = motcua_gateway::dossiers::record::MAX_RECORD_BYTES;
    assert!(limit - bytes.len() < 64, "{} bytes", bytes.len());
    let key = keys::dossier(code.as_str());
    w.store
        .write(move |tx| -> Result<(), ()> {
            tx.put(&key, bytes);
            Ok(())
        })
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_dossier_that_cannot_be_saved_does_not_stall_the_clock() {
    let mut w = World::new("2026-11-23T09:00:00+07:00");
    let stuck = w.submit("1.004873").await;
    let fine = w.submit("1.004873").await;
    fill_to_the_limit(&w, &stuck).await;

    // Both due-soon marks fall due together: the full dossier's fails alone.
    w.at("2026-11-25T09:00:00+07:00");
    let fired = deadlines::fire_due(&w.store, w.settings.clone(), t("2026-11-25T09:00:00+07:00")).await.unwrap();
    assert_eq!(fired.handled, 2);
    assert_eq!(fired.held.len(), 1, "{fired:?}");
    assert_eq!((fired.held[0].0.as_str(), fired.held[0].1), (stuck.as_str(), "due_soon"));
    assert!(w.record(&fine).compliance.due_soon_sent);
    assert_eq!(w.store.scan_prefix(&keys::held()).count(), 1, "kept aside");
    // It is not retried forever, and the other dossier's next mark still fires.
    assert_eq!(w.tick("2026-11-25T09:00:00+07:00").await, 0);
    assert_eq!(w.tick("2026-11-26T09:00:00+07:00").await, 1);
    assert!(w.record(&fine).dossier.overdue);
}
