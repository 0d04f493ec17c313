//! VNPost as it really is, against the real binary and the VNPost simulator on
//! loopback: collection and return orders with valid fields, one per dossier even
//! when the gateway is killed between sending and recording; the waybill pool never
//! handing out one code twice under concurrent orders and a SIGKILL; tracking events
//! applied once each across a restart in the middle of a page; a cancellation on
//! withdrawal; `Status` 101 taken as success and 500 retried.

use std::{collections::BTreeSet, time::Duration};

use motcua_schemas::S10ItemCode;
use motcua_simulators::vnpost::{Setup, VnpostSim};
use motcua_tests::{Gateway, TestConfig, config::vnpost_env, eventually};
use serde_json::{Value, json};

const DESK: &str = "mc-tram-tau-dev";

fn event(id: &str, kind: &str) -> Value {
    json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() })
}

async fn post_event(gw: &Gateway, code: &str, body: &Value) {
    let (status, reply) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), DESK, body).await;
    assert_eq!(status, 200, "{body} → {reply}");
}

/// A portal dossier for Trạm Tấu, result by post, a fee of 8,000 đồng still due.
async fn dossier(gw: &Gateway, id: &str) -> String {
    submit(gw, id, false).await
}

/// As [`dossier`], with the applicant asking for collection from home or not.
async fn submit(gw: &Gateway, id: &str, collect: bool) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["ThuGomTaiNha"] = collect.into();
    body["MucDo"] = 3.into();
    body["LePhi"][0]["DaThanhToan"] = false.into();
    body["LePhi"][0].as_object_mut().unwrap().remove("MaGiaoDich");
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), DESK, &json!({})).await.0, 200);
    code
}

async fn import_codes(gw: &Gateway, codes: &[String]) -> Value {
    let response = gw
        .client_builder()
        .build()
        .unwrap()
        .post(gw.url("/v1/admin/waybills"))
        .bearer_auth(motcua_tests::tokens::token("admin-dev"))
        .header("content-type", "text/plain")
        .body(codes.join("\n") + "\nEE123456784VN\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

fn codes(from: u32, n: u32) -> Vec<String> {
    (from..from + n).map(|i| S10ItemCode::build("EE", 50_000_000 + i, "VN").unwrap().to_string()).collect()
}

async fn start() -> (VnpostSim, Gateway) {
    let sim = VnpostSim::start(Setup::default()).await.expect("the simulator starts");
    let config = TestConfig::fast_retries().all_day().unthrottled().vnpost(&sim.url());
    let gw = Gateway::start_with_env(config, vnpost_env());
    (sim, gw)
}

async fn order_state(gw: &Gateway, code: &str, number: &str) -> Option<String> {
    let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    d["postal"]["orders"].as_array()?.iter().find(|o| o["number"] == number)?["state"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_are_created_once_each_with_valid_fields_even_across_a_kill() {
    let (sim, mut gw) = start().await;
    let imported = import_codes(&gw, &codes(0, 10)).await;
    assert_eq!((imported["added"].as_u64(), imported["invalid_lines"].clone()), (Some(10), json!([11])));
    let code = dossier(&gw, "VNP-ORDERS-1").await;

    // Collection: Status 500 twice, retried, then created; asking again changes nothing.
    sim.set(|s| s.fail_orders = 2);
    let collect = format!("/v1/desk/dossiers/{code}/collection");
    let (status, reply) = gw.post_json(&collect, DESK, &json!({})).await;
    assert_eq!((status, &reply["order"]), (202, &json!(format!("{code}-TG"))), "{reply}");
    assert_eq!(gw.post_json(&collect, DESK, &json!({})).await.0, 200);
    assert_eq!(gw.post_json(&collect, "mc-yen-bai-dev", &json!({})).await.0, 404, "another desk's dossier");
    let collection = format!("{code}-TG");
    eventually(15, "the collection order", || async {
        (order_state(&gw, &code, &collection).await.as_deref() == Some("created")).then_some(())
    })
    .await;
    assert!(sim.order_calls() >= 3, "two 500s were retried");
    let order = sim.orders()[&collection].body.clone();
    assert_eq!(order["SenderName"], "Giàng A Sử");
    assert_eq!((order["SenderProvince"].as_i64(), order["SenderDistrict"].as_i64()), (Some(33), Some(3320)));
    assert_eq!(order["ReceiverAddress"], "Tổ 1, xã Trạm Tấu");
    assert_eq!(order["CODAmount"], 0);
    assert!(order["SenderDesc"].as_str().unwrap().contains("Tên dịch vụ: Thu gom hồ sơ tại nhà"));

    // Return: the gateway is killed after VNPost took the order and before it answered.
    for (i, kind) in ["received", "processing"].iter().enumerate() {
        post_event(&gw, &code, &event(&format!("r{i}"), kind)).await;
    }
    sim.set(|s| s.order_delay = Some(Duration::from_secs(5)));
    let calls = sim.order_calls();
    let mut result = event("r9", "result_ready");
    result["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
    post_event(&gw, &code, &result).await;
    eventually(15, "VNPost taking the return order", || async { (sim.order_calls() > calls).then_some(()) }).await;
    gw.kill();
    sim.set(|s| s.order_delay = None);
    gw.relaunch();
    eventually(20, "the return order recorded", || async {
        (order_state(&gw, &code, &code).await.as_deref() == Some("created")).then_some(())
    })
    .await;
    let orders = sim.orders();
    assert_eq!(orders.len(), 2, "one collection and one return order: {:?}", orders.keys());
    let ret = &orders[&code].body;
    assert_eq!(ret["CODAmount"], 8000, "the fee still due");
    assert_eq!(ret["ReceiverName"], "Giàng A Sử");
    assert_eq!(ret["SenderAddress"], "Tổ 1, xã Trạm Tấu");
    let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    assert_eq!(d["postal"]["return_item"], ret["ItemCode"], "the item the order was sent with");

    // The papers reach the desk; the result cannot be delivered: the desk hears of it.
    sim.track(&collection, 4, "Đã phát đến Bộ phận Một cửa");
    sim.track(&code, 5, "Người nhận vắng nhà");
    let history = eventually(15, "both tracking events recorded", || async {
        let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        let marks: Vec<String> = d["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h["details"]["mark"].as_str().map(str::to_owned))
            .collect();
        (marks.contains(&"papers_arrived".to_owned()) && marks.contains(&"return_failed".to_owned())).then_some(d)
    })
    .await;
    assert_eq!(history["status"], 9, "an undelivered result stays at 9");
    let notice = eventually(15, "the desk's return_failed notice", || async {
        let (_, inbox) = gw.get_json("/v1/desk/inbox", DESK).await;
        inbox["items"].as_array().into_iter().flatten().find(|i| i["notice"]["kind"] == "return_failed").cloned()
    })
    .await;
    assert_eq!(notice["notice"]["code"], code.as_str());
    assert_eq!(sim.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_waybill_pool_never_gives_one_code_twice_under_concurrency_and_a_kill() {
    let (sim, mut gw) = start().await;
    import_codes(&gw, &codes(100, 40)).await;
    let mut dossiers = Vec::new();
    for i in 0..20 {
        let code = dossier(&gw, &format!("VNP-POOL-{i}")).await;
        for (j, kind) in ["received", "processing"].iter().enumerate() {
            post_event(&gw, &code, &event(&format!("p{j}"), kind)).await;
        }
        dossiers.push(code);
    }
    sim.set(|s| s.order_delay = Some(Duration::from_millis(150)));
    let mut tasks = Vec::new();
    for code in &dossiers {
        let (code, url, http) =
            (code.clone(), gw.url(&format!("/v1/desk/dossiers/{code}/events")), gw.client_builder());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "event_id": "p9", "type": "result_ready", "at": jiff::Timestamp::now().to_string() });
            let client = http.build().unwrap();
            let response = client.post(url).bearer_auth(motcua_tests::tokens::token(DESK)).json(&body).send().await;
            assert_eq!(response.unwrap().status().as_u16(), 200, "{code}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    eventually(20, "a few orders before the kill", || async { (sim.orders().len() >= 5).then_some(()) }).await;
    gw.kill();
    sim.set(|s| s.order_delay = None);
    gw.relaunch();
    eventually(30, "every return order", || async { (sim.orders().len() == 20).then_some(()) }).await;
    let items: Vec<String> =
        sim.orders().values().map(|o| o.body["ItemCode"].as_str().unwrap_or_default().to_owned()).collect();
    let distinct: BTreeSet<&String> = items.iter().collect();
    assert_eq!(distinct.len(), 20, "{items:?}");
    // Nothing lost: the used codes and the free ones are the forty imported.
    let again = import_codes(&gw, &codes(100, 40)).await;
    assert_eq!((again["known"].as_u64(), again["free"].as_u64()), (Some(40), Some(20)));
    let metrics = gw.http.get(gw.admin_url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("motcua_waybills_free 20"), "{metrics}");
    assert_eq!(sim.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn tracking_events_are_applied_once_each_across_a_restart_mid_page() {
    let (sim, mut gw) = start().await;
    import_codes(&gw, &codes(200, 5)).await;
    let code = dossier(&gw, "VNP-TRACK-1").await;
    for (i, kind) in ["received", "processing", "result_ready"].iter().enumerate() {
        post_event(&gw, &code, &event(&format!("t{i}"), kind)).await;
    }
    eventually(15, "the return order", || async {
        (order_state(&gw, &code, &code).await.as_deref() == Some("created")).then_some(())
    })
    .await;
    // Each page waits 1.5 s (within the gateway's call timeout of 2 s), so that the
    // kill lands while the gateway waits for the second page.
    sim.set(|s| s.tracking_delay = Some(Duration::from_millis(1500)));
    let ids = [
        sim.track(&code, 2, "Đã nhận bưu gửi"),
        sim.track("KHONG-CO-DON-NAY", 4, "Phát thành công"),
        sim.track(&code, 77, "Đang vận chuyển"),
        sim.track(&code, 4, "Phát thành công"),
        sim.track(&code, 4, "Phát thành công (lần báo thứ hai)"),
    ];
    // The first page (two events) is applied; the gateway is killed waiting for the second.
    let tracked = |d: &Value| -> Vec<String> {
        d["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h["details"]["event"].as_str().map(str::to_owned))
            .collect()
    };
    eventually(20, "the first page applied", || async {
        let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        (!tracked(&d).is_empty()).then_some(())
    })
    .await;

    tokio::time::sleep(Duration::from_millis(500)).await;
    gw.kill();
    sim.set(|s| {
        s.tracking_delay = None;
        s.replay = true;
    });
    gw.relaunch();
    let d = eventually(20, "every event applied", || async {
        let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        (tracked(&d).len() >= 4).then_some(d)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, d2) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    let seen = tracked(&d2);
    let expected: Vec<String> = [&ids[0], &ids[2], &ids[3], &ids[4]].iter().map(|s| (*s).clone()).collect();
    assert_eq!(seen, expected, "each event once, in feed order");
    assert_eq!(d2["status"], 10, "the result was delivered");
    assert_eq!(d["postal"]["orders"][0]["state"], "delivered");
    let postal_delivered = d2["history"].as_array().unwrap().iter().filter(|h| h["type"] == "postal_delivered").count();
    assert_eq!(postal_delivered, 1);
    let metrics = gw.http.get(gw.admin_url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("motcua_vnpost_tracking_unknown_status_total{status_code=\"77\"} 1"), "{metrics}");
    assert_eq!(sim.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collection_asked_for_at_the_portal_is_cancelled_on_withdrawal() {
    let (sim, gw) = start().await;
    import_codes(&gw, &codes(300, 5)).await;
    // The applicant asked the portal for collection from home: the order is placed at intake.
    let code = submit(&gw, "VNP-CANCEL-1", true).await;
    let number = format!("{code}-TG");
    eventually(15, "the collection order", || async {
        (order_state(&gw, &code, &number).await.as_deref() == Some("created")).then_some(())
    })
    .await;
    post_event(&gw, &code, &event("w0", "received")).await;
    post_event(&gw, &code, &event("w1", "withdrawn")).await;
    eventually(15, "the cancellation", || async {
        (order_state(&gw, &code, &number).await.as_deref() == Some("cancelled")).then_some(())
    })
    .await;
    assert_eq!(sim.cancels(), vec![number.clone()]);
    assert!(sim.orders()[&number].cancelled);
    assert_eq!(sim.violations(), Vec::<String>::new());
}

/// After 1 July 2025 there are no districts: where the order API takes wards, each end
/// of an order carries its commune's ward from the mapping table; the fixed fields, the
/// cash-on-delivery policy and a provincial LGSP's Bearer key on the token call are
/// configuration.
#[tokio::test(flavor = "multi_thread")]
async fn an_order_carries_each_ends_ward_and_the_configured_fields() {
    let setup = Setup {
        wards: Some((("SenderWardId".into(), "ReceiverWardId".into()), [4_606_001].into())),
        token_key: Some("khoa-lgsp-vnpost".into()),
        ..Setup::default()
    };
    let sim = VnpostSim::start(setup).await.expect("the simulator starts");
    let codes_table: toml::Value = toml::from_str::<toml::Table>(
        r#"codes = [{ unit = "15", province = 33 }, { unit = "04606", ward = 4606001 }]"#,
    )
    .expect("a table")["codes"]
        .clone();
    let wards: toml::Table = toml::from_str("sender = \"SenderWardId\"\nreceiver = \"ReceiverWardId\"").expect("wards");
    let constants: toml::Table = toml::from_str("FlagConfig = 2").expect("constants");
    let config = TestConfig::fast_retries()
        .all_day()
        .unthrottled()
        .vnpost(&sim.url())
        .set("postal.vnpost.codes", codes_table)
        .set("postal.vnpost.ward_fields", wards)
        .set("postal.vnpost.order_constants", constants)
        .set("postal.vnpost.cod", "none");
    let auth: toml::Table = toml::from_str(&format!(
        "kind = \"oauth\"\ntoken_url = \"{}/token\"\ntoken_key_env = \"MOTCUA_VNPOST_LGSP_KEY\"",
        sim.url()
    ))
    .expect("an auth table");
    let config = config.set("postal.vnpost.auth", auth);
    let gw = Gateway::start_with_env(config, vec![("MOTCUA_VNPOST_LGSP_KEY".into(), "khoa-lgsp-vnpost".into())]);
    import_codes(&gw, &codes(200, 4)).await;
    let code = dossier(&gw, "VNP-WARD-1").await;
    for (i, kind) in ["received", "processing"].iter().enumerate() {
        post_event(&gw, &code, &event(&format!("w{i}"), kind)).await;
    }
    let mut result = event("w9", "result_ready");
    result["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
    post_event(&gw, &code, &result).await;
    eventually(15, "the return order", || async {
        (order_state(&gw, &code, &code).await.as_deref() == Some("created")).then_some(())
    })
    .await;
    let order = sim.orders()[&code].body.clone();
    assert_eq!((&order["SenderWardId"], &order["ReceiverWardId"]), (&json!(4_606_001), &json!(4_606_001)), "{order}");
    assert_eq!(order["SenderDistrict"], 0, "no district after the reform: {order}");
    assert_eq!(order["FlagConfig"], 2, "{order}");
    assert_eq!(order["CODAmount"], 0, "cod = none, though a fee is due: {order}");
    assert!(sim.grants() >= 1, "the token was granted on the LGSP's key");
    assert_eq!(sim.violations(), Vec::<String>::new());
}
