//! Peers whose lists, feeds and answers are broken or hostile, against the real binary
//! and the simulators (issue 21, items 2, 10–14, 20): a pulled detail naming another
//! dossier changes nothing; one listed dossier without details, or with a far-future
//! date, is set aside and the others are taken; an oversized answer is the peer's
//! error and is never read whole; a tracking event out of range or too large is set
//! aside and the feed goes on; a desk's own events keep their order; a failed VNPost
//! call logs its status, not the peer's words.

use std::time::Duration;

use motcua_simulators::{
    dvcqg::{DvcqgSim, Setup},
    vnpost::{self, VnpostSim},
};
use motcua_tests::{
    Gateway, TestConfig,
    config::{dvcqg_env, vnpost_env},
    eventually,
    pages::Pages,
    samples::listed,
};
use serde_json::{Value, json};

async fn dossier_of(gw: &Gateway, portal_code: &str) -> Option<Value> {
    let (_, list) = gw.get_json("/v1/admin/dossiers?unit=04606", "admin-dev").await;
    let code =
        list["dossiers"].as_array()?.iter().find(|d| d["external_ref"] == portal_code)?["code"].as_str()?.to_owned();
    Some(gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1)
}

async fn set_aside(gw: &Gateway) -> String {
    let mut centre = Pages::new(gw);
    assert_eq!(centre.login("trungtam", "trungtam-dev-matkhau").await.status, 303);
    centre.get("/ui/hang-doi").await.body
}

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_listed_dossier_never_holds_up_the_others_nor_rewrites_another() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    sim.list(listed("G22.99-PULL-0010", "Bản Km 21, xã Trạm Tấu"));
    let config = TestConfig::fast_retries().all_day().dvcqg(&sim.url(), Some(1));
    let gw = Gateway::start_with_env(config, dvcqg_env());
    let first = eventually(15, "the first dossier", || async { dossier_of(&gw, "G22.99-PULL-0010").await }).await;
    assert_eq!(first["return_address"]["detail"], "Bản Km 21, xã Trạm Tấu");

    // X listed, its detail naming the first dossier with another address; a dossier
    // without details; one dated in the year 9999; and a good one after them.
    let mut naming_another = listed("G22.99-PULL-0010", "Số 9, phường Yên Bái");
    naming_another.listed_as = Some("G22.99-PULL-0011".into());
    sim.list(naming_another);
    let mut without_details = listed("G22.99-PULL-0012", "Bản Pá Hu");
    without_details.no_details = true;
    sim.list(without_details);
    let mut far = listed("G22.99-PULL-0013", "Bản Pá Hu");
    far.detail["NgayNop"] = "31/12/9999 23:59:59".into();
    sim.list(far);
    // Listed under Trạm Tấu, its details name another unit: a unit's list brings only
    // that unit's dossiers.
    let mut elsewhere = listed("G22.99-PULL-0015", "Bản Pá Hu");
    elsewhere.detail["MaDonViXuLy"] = "000.00.12.H38".into();
    sim.list(elsewhere);
    sim.list(listed("G22.99-PULL-0014", "Bản Pá Hu"));

    eventually(15, "the good dossier after the bad ones", || async { dossier_of(&gw, "G22.99-PULL-0014").await }).await;
    eventually(15, "four set aside", || async { (gw.metric("motcua_items_aside").await >= 4.0).then_some(()) }).await;
    let first = dossier_of(&gw, "G22.99-PULL-0010").await.unwrap();
    assert_eq!(first["return_address"]["detail"], "Bản Km 21, xã Trạm Tấu", "another dossier was rewritten");
    let bad = ["G22.99-PULL-0011", "G22.99-PULL-0012", "G22.99-PULL-0013", "G22.99-PULL-0015"];
    for code in bad {
        assert!(dossier_of(&gw, code).await.is_none(), "{code} was taken");
    }
    let page = set_aside(&gw).await;
    for code in bad {
        assert!(page.contains(code), "{code} is not shown set aside");
    }
    // Each is asked for once a round, never in a loop; the pull task never panicked.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sim.fetched("G22.99-PULL-0012") <= 2, "asked {} times", sim.fetched("G22.99-PULL-0012"));
    assert!(!gw.logs().contains("panicked"));
    let ready = reqwest::get(gw.admin_url("/readyz")).await.unwrap().status();
    assert_eq!(ready, 200);

    // Released by the centre once the portal has the details, it is taken.
    sim.give_details("G22.99-PULL-0012");
    let mut centre = Pages::new(&gw);
    assert_eq!(centre.login("trungtam", "trungtam-dev-matkhau").await.status, 303);
    let csrf = motcua_tests::pages::csrf_of(&centre.get("/ui/hang-doi").await.body).unwrap();
    assert_eq!(centre.post("/ui/tam-gac/dvcqg_pull/G22.99-PULL-0012/tha", &csrf).await.status, 303);
    eventually(15, "the released dossier", || async { dossier_of(&gw, "G22.99-PULL-0012").await }).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_answer_is_the_peers_error_and_never_read_whole() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    sim.list(listed("G22.99-PULL-0020", "Bản Pá Hu"));
    sim.set(|s| s.pad_lists = Some(64 << 20));
    let config =
        TestConfig::fast_retries().all_day().dvcqg(&sim.url(), Some(1)).set("portal.max_answer_bytes", 1 << 20);
    let gw = Gateway::start_with_env(config, dvcqg_env());
    let before = gw.memory_kib("VmHWM");
    eventually(60, "the oversized answer refused", || async {
        gw.logs().contains("the answer is larger than").then_some(())
    })
    .await;
    let grown_mib = gw.memory_kib("VmHWM").saturating_sub(before) / 1024;
    assert!(grown_mib < 40, "a 64 MiB answer grew the gateway by {grown_mib} MiB");
    assert!(dossier_of(&gw, "G22.99-PULL-0020").await.is_none());
    sim.set(|s| s.pad_lists = None);
    eventually(15, "the dossier once the answer is sane", || async { dossier_of(&gw, "G22.99-PULL-0020").await }).await;
}

const DESK: &str = "mc-tram-tau-dev";

async fn post_event(gw: &Gateway, code: &str, body: &Value) -> (u16, Value) {
    gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), DESK, body).await
}

fn event(id: &str, kind: &str, at: jiff::Timestamp) -> Value {
    json!({ "event_id": id, "type": kind, "at": at.to_string() })
}

/// A portal dossier of Trạm Tấu, received by its desk, its result ready for the post.
async fn result_by_post(gw: &Gateway, id: &str) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["MucDo"] = 3.into();
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), DESK, &json!({})).await.0, 200);
    let now = jiff::Timestamp::now();
    for (i, kind) in ["received", "processing"].iter().enumerate() {
        assert_eq!(post_event(gw, &code, &event(&format!("{id}-{i}"), kind, now)).await.0, 200);
    }
    let mut result = event(&format!("{id}-9"), "result_ready", now);
    result["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
    result["return_method"] = "post".into();
    assert_eq!(post_event(gw, &code, &result).await.0, 200);
    code
}

async fn status(gw: &Gateway, code: &str) -> u64 {
    gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1["status"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tracking_event_out_of_range_or_too_large_is_set_aside_and_the_feed_goes_on() {
    let sim = VnpostSim::start(vnpost::Setup::default()).await.expect("the simulator starts");
    let config = TestConfig::fast_retries().all_day().unthrottled().vnpost(&sim.url());
    let gw = Gateway::start_with_env(config, vnpost_env());
    let codes: Vec<String> =
        (0..5).map(|i| motcua_schemas::S10ItemCode::build("EE", 60_000_000 + i, "VN").unwrap().to_string()).collect();
    let imported = gw
        .client_builder()
        .build()
        .unwrap()
        .post(gw.url("/v1/admin/waybills"))
        .bearer_auth(motcua_tests::tokens::token("admin-dev"))
        .header("content-type", "text/plain")
        .body(codes.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status().as_u16(), 200);
    let code = result_by_post(&gw, "VNP-BAD-0001").await;
    eventually(15, "the return order at VNPost", || async { sim.orders().contains_key(&code).then_some(()) }).await;

    // Delivered "in 1970", delivered in the future, and a 90 KB message: set aside,
    // nothing changes; the event after them is applied.
    sim.track_at(&code, 4, "Phát thành công", 0);
    sim.track_at(
        &code,
        4,
        "Phát thành công",
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48)).as_millisecond(),
    );
    sim.track_raw(json!({
        "CustomerCode": "HCC-LAOCAI", "OrderNumber": code, "EventTime": jiff::Timestamp::now().as_millisecond(),
        "POSID": "330100", "ItemCode": "", "StatusCode": 2, "StatusMessage": "x".repeat(90_000), "Notes": ""
    }));
    eventually(15, "three events set aside", || async { (gw.metric("motcua_items_aside").await >= 3.0).then_some(()) })
        .await;
    assert_eq!(status(&gw, &code).await, 9, "an event out of range changed the dossier");
    sim.track(&code, 4, "Phát thành công");
    eventually(15, "the good event applied", || async { (status(&gw, &code).await == 10).then_some(()) }).await;
    let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    let delivered = d["history"].as_array().unwrap().iter().find(|h| h["type"] == "postal_delivered").cloned().unwrap();
    let at = delivered["at"].as_str().unwrap();
    assert!(at.starts_with(&jiff::Timestamp::now().strftime("%Y").to_string()), "delivered at {at}");
    let before = sim.tracking_calls();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sim.tracking_calls() - before <= 6, "the feed is read in a loop");
    let page = set_aside(&gw).await;
    assert!(page.contains("precedes the order") && page.contains("longer than"), "not shown set aside");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_vnpost_call_logs_its_status_not_the_peers_words() {
    let sim = VnpostSim::start(vnpost::Setup::default()).await.expect("the simulator starts");
    sim.set(|s| s.fail_orders = 2);
    let config = TestConfig::fast_retries().all_day().unthrottled().vnpost(&sim.url());
    let gw = Gateway::start_with_env(config, vnpost_env());
    let body = gw
        .client_builder()
        .build()
        .unwrap()
        .post(gw.url("/v1/admin/waybills"))
        .bearer_auth(motcua_tests::tokens::token("admin-dev"))
        .header("content-type", "text/plain")
        .body(motcua_schemas::S10ItemCode::build("EE", 61_000_000, "VN").unwrap().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(body.status().as_u16(), 200);
    let code = result_by_post(&gw, "VNP-BAD-0002").await;
    eventually(20, "the order after two failures", || async { sim.orders().contains_key(&code).then_some(()) }).await;
    let logs = gw.logs();
    assert!(logs.contains("cause=Status 500"), "the status is logged");
    assert!(!logs.contains("Lỗi hệ thống"), "the peer's words reached the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desks_own_events_keep_their_order() {
    let gw = Gateway::start(TestConfig::fast_retries().all_day());
    let body = motcua_tests::samples::portal("DVC-ORDER-0001");
    let (_, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), DESK, &json!({})).await.0, 200);
    let now = jiff::Timestamp::now();
    assert_eq!(post_event(&gw, &code, &event("o1", "received", now)).await.0, 200);
    // A result the desk dates ten seconds before its own "received", within the skew.
    let mut early = event("o2", "result_ready", now - jiff::SignedDuration::from_secs(10));
    early["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
    let (status, problem) = post_event(&gw, &code, &early).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/at", "{problem}");
}

/// A listed row whose date is empty is skipped, as the portal's own clients skip it:
/// counted, neither set aside nor fetched, the dossiers after it taken, and taken itself
/// once the list gives its date.
#[tokio::test(flavor = "multi_thread")]
async fn an_undated_listed_row_is_skipped_and_taken_once_dated() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let mut undated = listed("G22.99-PULL-0020", "Bản Pá Hu");
    undated.undated = true;
    sim.list(undated);
    sim.list(listed("G22.99-PULL-0021", "Bản Km 21"));
    let config = TestConfig::fast_retries().all_day().dvcqg(&sim.url(), Some(1));
    let gw = Gateway::start_with_env(config, dvcqg_env());
    eventually(15, "the dated dossier", || async { dossier_of(&gw, "G22.99-PULL-0021").await }).await;
    eventually(10, "a second round", || async {
        (gw.metric("motcua_dvcqg_pull_skipped_rows").await >= 2.0).then_some(())
    })
    .await;
    assert!(dossier_of(&gw, "G22.99-PULL-0020").await.is_none());
    assert_eq!(sim.fetched("G22.99-PULL-0020"), 0, "its details are not asked for");
    assert!(!set_aside(&gw).await.contains("G22.99-PULL-0020"), "nothing is set aside for it");

    sim.give_date("G22.99-PULL-0020");
    eventually(15, "the dossier once dated", || async { dossier_of(&gw, "G22.99-PULL-0020").await }).await;
    assert_eq!(sim.violations(), Vec::<String>::new());
}
