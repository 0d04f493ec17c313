//! Deadlines against the real binary: a test procedure of a few working seconds with
//! office hours all day, real desk, portal and postal peers on loopback. Due-soon,
//! overdue and explanation-missing notices reach the desks; an apology reaches the
//! portal for an online dossier and becomes a postal order for a postal one; a
//! gateway that was down over a due time still sends the overdue notice, once.

use std::time::Duration;

use axum::http::StatusCode;
use motcua_tests::{
    Gateway, TestConfig, eventually,
    peers::{Peer, postal_service, status_calls},
    samples::{postal, s10, xml_text},
    tokens::token,
};
use serde_json::json;

/// The sample, all day, with procedure 1.999001 due 8 working seconds after
/// receipt, warned 4 s before, explained within 4 s after.
fn config() -> TestConfig {
    TestConfig::fast_retries()
        .all_day()
        .set("deadlines.due_soon_lead", "4s")
        .set("deadlines.explanation_grace", "4s")
        .edit(|t| {
            let procedure: toml::Table = toml::from_str(
                r#"
            code = "1.999001"
            name = "Thủ tục thử nghiệm thời hạn"
            levels = ["xa"]
            processing = "8s"
            "#,
            )
            .unwrap();
            t["procedures"].as_array_mut().unwrap().push(toml::Value::Table(procedure));
        })
}

/// Notices a desk peer received: (kind, dossier code).
fn notices(desk: &Peer) -> Vec<(String, String)> {
    desk.received()
        .iter()
        .filter(|r| r.uri.path() == "/v1/notices")
        .map(|r| r.json())
        .map(|n| (n["kind"].as_str().unwrap_or_default().to_owned(), n["code"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

async fn submit(gw: &Gateway, id: &str) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["MaTTHC"] = "1.999001".into();
    body["MaDonViNhan"] = "04252".into();
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    created["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn due_soon_overdue_and_explanation_notices_reach_the_desks() {
    let (desk, centre, portal) = (
        Peer::answering(StatusCode::CREATED).await,
        Peer::answering(StatusCode::CREATED).await,
        Peer::answering(StatusCode::OK).await,
    );
    let gw = Gateway::start(config().peers(
        Some(&portal.url()),
        None,
        &[("mc-yen-bai", &desk.url()), ("hcc-tinh", &centre.url())],
    ));
    let code = submit(&gw, "DVC-DEADLINE-1").await;
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    let received: jiff::Timestamp = dossier["received_at"].as_str().unwrap().parse().unwrap();
    let due: jiff::Timestamp = dossier["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due.duration_since(received), jiff::SignedDuration::from_secs(8));

    let due_soon = (String::from("due_soon"), code.clone());
    let overdue = (String::from("overdue"), code.clone());
    let missing = (String::from("explanation_missing"), code.clone());
    eventually(15, "the due-soon notice", || async { notices(&desk).contains(&due_soon).then_some(()) }).await;
    assert!(!notices(&desk).contains(&overdue), "not overdue before the due time");
    eventually(15, "the overdue notice at the desk and the centre", || async {
        (notices(&desk).contains(&overdue) && notices(&centre).contains(&overdue)).then_some(())
    })
    .await;
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    assert_eq!(dossier["overdue"], true);
    eventually(15, "the explanation-missing notice at the centre", || async {
        notices(&centre).contains(&missing).then_some(())
    })
    .await;
    // The overdue mark also went to the portal with QuaHan.
    eventually(10, "the portal's overdue status", || async {
        status_calls(&portal).iter().any(|(k, _, body)| k.starts_with(&code) && body["QuaHan"] == true).then_some(())
    })
    .await;
    let notice = desk.received().into_iter().find(|r| r.uri.path() == "/v1/notices").unwrap();
    assert_eq!(notice.json()["due_at"], dossier["due_at"]);
    assert!(notice.header("idempotency-key").unwrap().starts_with("notice-"));
    // The provincial centre sees the overdue dossier in its list.
    let (_, listed) = gw.get_json("/v1/admin/dossiers?overdue=true&unit=15", "admin-dev").await;
    assert!(listed["dossiers"].as_array().unwrap().iter().any(|d| d["code"] == code.as_str()), "{listed}");
    // Notices are not repeated.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(notices(&desk).iter().filter(|n| **n == overdue).count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn apologies_go_by_the_dossiers_channel() {
    let (desk, portal, post) = (
        Peer::answering(StatusCode::CREATED).await,
        Peer::answering(StatusCode::OK).await,
        Peer::start(postal_service()).await,
    );
    let gw = Gateway::start(config().peers(Some(&portal.url()), Some(&post.url()), &[("mc-yen-bai", &desk.url())]));
    let apology = |id: &str| {
        json!({ "event_id": id, "type": "apology", "at": jiff::Timestamp::now().to_string(),
                "new_appointment": (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48)).to_string(),
                "reason": "Cần lấy ý kiến cơ quan liên quan" })
    };
    let received = |id: &str| json!({ "event_id": id, "type": "received", "at": jiff::Timestamp::now().to_string() });

    // An online dossier: the Mẫu 04 letter goes to the portal.
    let online = submit(&gw, "DVC-APOLOGY-1").await;
    assert_eq!(
        gw.post_json(&format!("/v1/desk/dossiers/{online}/events"), "mc-yen-bai-dev", &received("a1")).await.0,
        200
    );
    let (status, apologized) =
        gw.post_json(&format!("/v1/desk/dossiers/{online}/events"), "mc-yen-bai-dev", &apology("a2")).await;
    assert_eq!(status, 200, "{apologized}");
    let letter = eventually(10, "the letter at the portal", || async {
        portal.received().into_iter().find(|r| r.uri.path() == "/v1/letters")
    })
    .await;
    let body = letter.json();
    assert_eq!(body["MaHoSo"], online.as_str());
    assert_eq!(body["LoaiThu"], "XIN_LOI");
    assert!(body["NoiDung"].as_str().unwrap().contains("VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"));
    assert!(body["NoiDung"].as_str().unwrap().contains("Cần lấy ý kiến cơ quan liên quan"));
    assert_eq!(body["NgayHenTraMoi"].as_str().map(str::len), Some(14));
    assert_eq!(letter.header("idempotency-key").unwrap(), format!("{online}:XL1"));
    let html = gw
        .http
        .get(gw.url(&format!("/v1/dossiers/{online}/apology")))
        .bearer_auth(token("portal-dev"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("VĂN BẢN XIN LỖI") && html.contains("Giàng A Sử"), "{html}");

    // A postal dossier: the letter becomes postal order {code}-XL1.
    let xml =
        postal(&s10("EE", 6161)).replace("1.001193", "1.999001").replace("<TargetUnit>04606", "<TargetUnit>04252");
    let (_, reply) = gw.post_xml("/v1/postal/dossiers", "postal-dev", xml).await;
    let by_post = xml_text(&reply, "MaHoSo").unwrap();
    assert_eq!(
        gw.post_json(&format!("/v1/desk/dossiers/{by_post}/events"), "mc-yen-bai-dev", &received("b1")).await.0,
        200
    );
    assert_eq!(
        gw.post_json(&format!("/v1/desk/dossiers/{by_post}/events"), "mc-yen-bai-dev", &apology("b2")).await.0,
        200
    );
    let order = eventually(10, "the letter order at the post", || async {
        post.received().into_iter().find(|r| r.uri.path() == "/v1/orders")
    })
    .await;
    let order_xml = String::from_utf8(order.body.to_vec()).unwrap();
    assert_eq!(xml_text(&order_xml, "OrderCode"), Some(format!("{by_post}-XL1")));
    let letters = eventually(10, "the letter's item code", || async {
        let (_, d) = gw.get_json(&format!("/v1/dossiers/{by_post}"), "admin-dev").await;
        let letters = d["postal"]["letters"].clone();
        letters[0]["item_code"].is_string().then_some(letters)
    })
    .await;
    assert_eq!(letters[0]["order_code"], format!("{by_post}-XL1"));
    // A delivery event of the letter is recorded on the letter and changes no status.
    let item = letters[0]["item_code"].as_str().unwrap();
    let at = motcua_schemas::time::format_rfc3339(jiff::Timestamp::now());
    let event = format!(
        "<SuKienBuuGui xmlns=\"urn:motcua:postal:v1\"><ItemCode>{item}</ItemCode><Status>DELIVERED</Status><At>{at}</At></SuKienBuuGui>"
    );
    let (_, reply) = gw.post_xml("/v1/postal/events", "postal-dev", event).await;
    assert_eq!(xml_text(&reply, "TrangThai").as_deref(), Some("2"));
    let (_, d) = gw.get_json(&format!("/v1/dossiers/{by_post}"), "admin-dev").await;
    assert_eq!(d["postal"]["letters"][0]["status"], "DELIVERED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_down_over_the_due_time_still_sends_the_overdue_notice_once() {
    let desk = Peer::answering(StatusCode::CREATED).await;
    let mut gw = Gateway::start(config().peers(None, None, &[("mc-yen-bai", &desk.url())]));
    let code = submit(&gw, "DVC-DOWNTIME-1").await;
    assert!(gw.stop().is_some_and(|s| s.success()), "a clean stop");
    tokio::time::sleep(Duration::from_secs(10)).await;
    gw.restart();
    let overdue = (String::from("overdue"), code.clone());
    eventually(15, "the overdue notice after the restart", || async {
        notices(&desk).contains(&overdue).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    gw.restart();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(notices(&desk).iter().filter(|n| **n == overdue).count(), 1, "once, across restarts");
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    let (from, to) = (today.yesterday().unwrap(), today.tomorrow().unwrap());
    let (_, stats) = gw.get_json(&format!("/v1/stats?unit=04252&from={from}&to={to}"), "admin-dev").await;
    assert_eq!(stats["open_overdue"], 1, "{stats}");
    assert_eq!(stats["received"], 1, "{stats}");
}
