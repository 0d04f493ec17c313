//! What attacks from outside broke (issue 12), each against the real binary: desk
//! events that read or backdate another desk's dossier, codes supplied by a peer,
//! the public lookup, lying text, and files other local users could read.

use motcua_tests::{Gateway, TestConfig};
use serde_json::{Value, json};

fn event_at(id: &str, kind: &str, at: jiff::Timestamp) -> Value {
    json!({ "event_id": id, "type": kind, "at": at.to_string() })
}

fn event(id: &str, kind: &str) -> Value {
    event_at(id, kind, jiff::Timestamp::now())
}

async fn post_event(gw: &Gateway, code: &str, desk: &str, body: &Value) -> (u16, Value) {
    gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), desk, body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desk_cannot_read_a_dossier_it_does_not_hold_by_replaying_an_event() {
    let gw = Gateway::start(TestConfig::sample());
    let code = gw.submit_portal("DVC-REPLAY-1", "04600").await; // mc-tram-tau
    let received = event("tt-1", "received");
    assert_eq!(post_event(&gw, &code, "mc-tram-tau-dev", &received).await.0, 200);

    // Another desk sends the same body, and a fresh one: both 404, neither with data.
    for body in [received.clone(), event("other-1", "received")] {
        let (status, answer) = post_event(&gw, &code, "mc-phinh-ho-dev", &body).await;
        assert_eq!(status, 404, "{answer}");
        assert!(answer.get("applicant").is_none() && answer.get("code").is_none(), "{answer}");
    }

    // The holder forwards the dossier away; replaying its own event then reads nothing.
    let mut forward = event("tt-2", "forward");
    forward["unit"] = "04594".into(); // mc-phinh-ho
    let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &forward).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &received).await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer.get("applicant").is_none(), "{answer}");
    // The new holder's events are its own.
    assert_eq!(post_event(&gw, &code, "mc-phinh-ho-dev", &event("ph-1", "processing")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn backdated_and_future_events_are_refused_and_late_reports_counted() {
    let gw = Gateway::start(TestConfig::sample().set("deadlines.report_tolerance_secs", 1));
    let code = gw.submit_portal("DVC-BACKDATE-1", "04600").await;
    let now = jiff::Timestamp::now();
    let ancient: jiff::Timestamp = "2001-01-01T08:00:00+07:00".parse::<jiff::Timestamp>().unwrap();
    let ahead = now + jiff::SignedDuration::from_hours(1);
    for (id, at) in [("old", ancient), ("ahead", ahead)] {
        let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &event_at(id, "received", at)).await;
        assert_eq!(status, 422, "{id}: {answer}");
        assert_eq!(answer["errors"][0]["pointer"], "/at", "{id}: {answer}");
    }
    assert_eq!(post_event(&gw, &code, "mc-tram-tau-dev", &event("r", "received")).await.0, 200);
    // Before the event just recorded: refused as well.
    let before = now - jiff::SignedDuration::from_mins(30);
    let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &event_at("p", "processing", before)).await;
    assert_eq!(status, 422, "{answer}");

    // A result reported at once is judged by the time the desk gives.
    let (status, dossier) = post_event(&gw, &code, "mc-tram-tau-dev", &result("done", jiff::Timestamp::now())).await;
    assert_eq!(status, 200, "{dossier}");
    let last = dossier["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["at"].is_string() && last["recorded_at"].is_string(), "{last}");

    // One reported well after the time it gives (the tolerance here is one second) is
    // judged by the time it arrived, and counted.
    let late = gw.submit_portal("DVC-BACKDATE-2", "04600").await;
    let (_, dossier) = post_event(&gw, &late, "mc-tram-tau-dev", &event("r2", "received")).await;
    let received_at: jiff::Timestamp =
        dossier["history"].as_array().unwrap().last().unwrap()["at"].as_str().unwrap().parse().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, dossier) = post_event(&gw, &late, "mc-tram-tau-dev", &result("done-2", received_at)).await;
    assert_eq!(status, 200, "{dossier}");
    let (_, stats) = gw.get_json("/v1/stats?unit=04600&from=2020-01-01&to=2099-12-31", "admin-dev").await;
    assert_eq!((stats["resolved"].as_u64(), stats["late_reports"].as_u64()), (Some(2), Some(1)), "{stats}");
}

fn result(id: &str, at: jiff::Timestamp) -> Value {
    let mut ready = event_at(id, "result_ready", at);
    ready["result_documents"] = json!([{ "name": "Giấy xác nhận", "url": "https://mc-tram-tau.example.vn/kq/1" }]);
    ready
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_supplied_code_never_blocks_the_agencys_own_codes() {
    let gw = Gateway::start(TestConfig::sample());
    let first = gw.submit_portal("DVC-CODE-1", "04600").await; // mc-tram-tau's agency
    let (agency, rest) = first.split_once('-').unwrap();
    let (day, seq) = rest.split_once('-').unwrap();
    let next = format!("{agency}-{day}-{:04}", seq.parse::<u32>().unwrap() + 1);
    let other_agency = format!("000.00.01.H38-{day}-{:04}", 1); // the centre's agency
    let weeks_ahead = {
        let date = jiff::civil::Date::strptime("%y%m%d", day).unwrap() + jiff::Span::new().days(21);
        format!("{agency}-{}-0001", date.strftime("%y%m%d"))
    };

    // Another agency's code and a code dated weeks ahead are refused with a pointer.
    for code in [&other_agency, &weeks_ahead] {
        let mut body = motcua_tests::samples::portal(&format!("DVC-CODE-{code}"));
        body["MaDonViNhan"] = "04600".into();
        body["MaHoSo"] = code.as_str().into();
        let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
        assert_eq!(status, 422, "{code}: {answer}");
        assert_eq!(answer["errors"][0]["pointer"], "/MaHoSo", "{answer}");
    }

    // The agency's own next number, taken by the portal, is stepped over.
    let mut body = motcua_tests::samples::portal("DVC-CODE-2");
    body["MaDonViNhan"] = "04600".into();
    body["MaHoSo"] = next.as_str().into();
    let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!((status, answer["code"].as_str()), (201, Some(next.as_str())), "{answer}");
    let third = gw.submit_portal("DVC-CODE-3", "04600").await;
    assert_eq!(third, format!("{agency}-{day}-{:04}", seq.parse::<u32>().unwrap() + 2));
}
