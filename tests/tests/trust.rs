//! Trust between peers and the national portal's push as real receivers answer it,
//! against the real binary (issue 21, items 1, 3, 10, 17, 18, 21): a peer updates
//! only the dossiers it submitted; a change of where the result goes is recorded with
//! old and new, told to the desk, and refused once the result has left; refusals are
//! HTTP 200 `error_code` -1 (500 only for a body that is not JSON); duplicate keys,
//! far-future dates and records too large to keep are refused without a trace on disk.

use base64::Engine as _;
use motcua_simulators::dvcqg::{DvcqgSim, Setup};
use motcua_tests::{Gateway, TestConfig, config::dvcqg_env};
use serde_json::{Value, json};
use toml::Table;

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn push_client(id: &str, password: &str) -> Table {
    let hash = motcua_gateway::auth::password::hash(password).expect("a hash");
    toml::from_str(&format!(
        "id = \"{id}\"\nrole = \"portal\"\nissuer = \"{id}\"\nbasic_hash = \"{hash}\"\nrate = {{ per_second = 100, burst = 100 }}\n"
    ))
    .expect("a client table")
}

/// A record as the portal pushes it, submitted a minute ago.
fn record(code: &str) -> Value {
    let now = motcua_schemas::time::to_vn(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60));
    json!({
        "MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Đăng ký khai sinh",
        "ChuHoSo": "Lò Thị Mai", "LoaiDoiTuong": "1", "SoGiayToChuHoSo": "015190001234",
        "SoDienThoai": "0912345678", "Email": "", "MaDonViXuLy": "000.07.20.H38",
        "NgayNopHoSo": now.strftime("%Y%m%d%H%M%S").to_string(), "HinhThuc": "0", "KenhThucHien": "2",
        "TaiLieuNop": [], "DanhSachLePhi": [], "DuocThanhToanTrucTuyen": "0"
    })
}

fn by_post(mut r: Value, detail: &str) -> Value {
    r["HinhThuc"] = "1".into();
    r["DiaChiNhanKetQua"] =
        json!({ "MaTinh": "15", "MaXa": "04606", "DiaChiChiTiet": detail, "NguoiNhan": "Lò Thị Mai" });
    r
}

async fn push_raw(gw: &Gateway, authorization: &str, body: Vec<u8>) -> (u16, String) {
    let response = gw
        .client_builder()
        .build()
        .expect("a client")
        .post(gw.url("/v1/dvcqg/dossiers"))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the gateway answers, and never drops the connection");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

async fn push(gw: &Gateway, authorization: &str, body: &Value) -> (u16, Value) {
    let (status, text) = push_raw(gw, authorization, serde_json::to_vec(body).unwrap()).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn envelope(record: Value, updating: bool) -> Value {
    json!({ "service": "DongBoHoSoMC", "isUpdating": if updating { "True" } else { "False" }, "madonvi": "000.07.20.H38", "data": [record] })
}

async fn dossier_of(gw: &Gateway, portal_code: &str) -> Option<Value> {
    let (_, list) = gw.get_json("/v1/admin/dossiers?unit=04606", "admin-dev").await;
    let code =
        list["dossiers"].as_array()?.iter().find(|d| d["external_ref"] == portal_code)?["code"].as_str()?.to_owned();
    Some(gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1)
}

async fn start() -> (DvcqgSim, Gateway) {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let config = TestConfig::fast_retries()
        .all_day()
        .dvcqg(&sim.url(), None)
        .add_client(push_client("dvcqg-push", "mat-khau-mot"))
        .add_client(push_client("dvcqg-push-2", "mat-khau-hai"));
    (sim, Gateway::start_with_env(config, dvcqg_env()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_updates_only_the_dossiers_it_submitted() {
    let (_sim, gw) = start().await;
    let first = basic("dvcqg-push", "mat-khau-mot");
    let (status, reply) = push(&gw, &first, &envelope(record("G22.99-TRUST-0001"), false)).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(0)), "{reply}");

    // Another portal client, by Basic or by token, naming the same MaHoSo: refused in
    // the portal's shape, whatever it sends, and the dossier is as it was.
    let moved = envelope(by_post(record("G22.99-TRUST-0001"), "Bản Km 21, xã Trạm Tấu"), true);
    let second = basic("dvcqg-push-2", "mat-khau-hai");
    let bearer = format!("Bearer {}", motcua_tests::tokens::token("portal-dev"));
    for (who, body) in [(&second, &moved), (&bearer, &moved), (&second, &envelope(record("G22.99-TRUST-0001"), false))]
    {
        let (status, reply) = push(&gw, who, body).await;
        assert_eq!((status, &reply["error_code"]), (200, &json!(-1)), "{reply}");
        assert!(reply["message"].as_str().unwrap().starts_with("G22.99-TRUST-0001| "), "{reply}");
    }
    let d = dossier_of(&gw, "G22.99-TRUST-0001").await.expect("the dossier");
    assert_eq!(d["return_method"], "desk", "{d}");
    assert!(d.get("return_address").is_none_or(Value::is_null), "{d}");
    assert_eq!(gw.metric("motcua_foreign_updates_refused").await, 3.0);
    assert!(gw.logs().contains("another client submitted"));

    // Its own client may update it.
    let (status, reply) = push(&gw, &first, &moved).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(0)), "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn where_the_result_goes_changes_with_a_record_and_a_notice_until_it_has_left() {
    let (_sim, gw) = start().await;
    let who = basic("dvcqg-push", "mat-khau-mot");
    assert_eq!(push(&gw, &who, &envelope(record("G22.99-TRUST-0002"), false)).await.1["error_code"], 0);
    let (_, reply) =
        push(&gw, &who, &envelope(by_post(record("G22.99-TRUST-0002"), "Bản Km 21, xã Trạm Tấu"), true)).await;
    assert_eq!(reply["error_code"], 0, "{reply}");
    let d = dossier_of(&gw, "G22.99-TRUST-0002").await.unwrap();
    let change = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["details"]["mark"] == "return_address_changed")
        .unwrap_or_else(|| panic!("no change recorded: {d}"));
    assert_eq!(change["details"]["old"]["return_method"], "desk");
    assert_eq!(change["details"]["new"]["return_method"], "post");
    assert_eq!(change["details"]["new"]["return_address"]["detail"], "Bản Km 21, xã Trạm Tấu");
    let code = d["code"].as_str().unwrap().to_owned();
    // The desk takes the dossier; its notices follow it in order.
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);
    let (_, inbox) = gw.get_json("/v1/desk/inbox?max=50", "mc-tram-tau-dev").await;
    let told = inbox["items"].as_array().unwrap().iter().any(|i| i["notice"]["kind"] == "return_address_changed");
    assert!(told, "the desk is told: {inbox}");

    // The desk sends the result by post: from then on where it goes cannot change.
    for (i, kind) in ["received", "processing", "result_ready"].iter().enumerate() {
        let mut e = json!({ "event_id": format!("e{i}"), "type": kind, "at": jiff::Timestamp::now().to_string() });
        if *kind == "result_ready" {
            e["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
        }
        let (status, r) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "mc-tram-tau-dev", &e).await;
        assert_eq!(status, 200, "{r}");
    }
    let (status, reply) =
        push(&gw, &who, &envelope(by_post(record("G22.99-TRUST-0002"), "Số 9, phường Yên Bái"), true)).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(-1)), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("/DiaChiNhanKetQua"), "{reply}");
    let d = dossier_of(&gw, "G22.99-TRUST-0002").await.unwrap();
    assert_eq!(d["return_address"]["detail"], "Bản Km 21, xã Trạm Tấu");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_the_portals_own_answers_and_leave_nothing_behind() {
    let (_sim, gw) = start().await;
    let who = basic("dvcqg-push", "mat-khau-mot");
    // A body that is not JSON: HTTP 500, as real receivers answer.
    let (status, text) = push_raw(&gw, &who, b"{\"MaHoSo\": ".to_vec()).await;
    assert_eq!((status, text.as_str()), (500, "request body incorrect"));
    // A refused record: HTTP 200, -1, the field named.
    let mut broken = record("G22.99-TRUST-0003");
    broken.as_object_mut().unwrap().remove("ChuHoSo");
    let (status, reply) = push(&gw, &who, &envelope(broken, false)).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(-1)), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("/ChuHoSo"), "{reply}");

    // Duplicate keys: refused, neither code kept.
    let duplicated = br#"{"service":"DongBoHoSoMC","isUpdating":"False","madonvi":"000.07.20.H38","data":[{"MaHoSo":"G22.99-TRUST-0004","MaHoSo":"G22.99-TRUST-0005"}]}"#;
    let (status, text) = push_raw(&gw, &who, duplicated.to_vec()).await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((status, &reply["error_code"]), (200, &json!(-1)), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("duplicate"), "{reply}");

    // Far-future and future dates: refused, the connection kept.
    for date in ["99991231235959", "31/12/9999 23:59:59", "20991231235959"] {
        let mut far = record("G22.99-TRUST-0006");
        far["NgayNopHoSo"] = date.into();
        let (status, reply) = push(&gw, &who, &envelope(far, false)).await;
        assert_eq!((status, &reply["error_code"]), (200, &json!(-1)), "{date}: {reply}");
        assert!(reply["message"].as_str().unwrap().contains("/NgayNopHoSo"), "{date}: {reply}");
    }
    let mut far = motcua_tests::samples::portal("DVC-FAR-0001");
    far["NgayNopHoSo"] = "99991231235959".into();
    let (status, problem) = gw.post_json("/v1/portal/dossiers", "portal-dev", &far).await;
    assert_eq!(status, 422, "{problem}");

    // A record too large to keep, with an attachment: refused, and no file stays.
    let mut large = record("G22.99-TRUST-0007");
    large["TepDonDangKy"] =
        base64::engine::general_purpose::STANDARD.encode(motcua_tests::samples::noise(200_000).as_bytes()).into();
    large["ThongTinKhac"] = motcua_tests::samples::noise(60_000).into();
    let (status, reply) = push(&gw, &who, &envelope(large, false)).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(-1)), "{reply}");
    let blobs: Vec<_> = walk(&gw.data_dir().join("blobs"));
    assert!(blobs.is_empty(), "files left by a refused push: {blobs:?}");
    for code in
        ["G22.99-TRUST-0003", "G22.99-TRUST-0004", "G22.99-TRUST-0005", "G22.99-TRUST-0006", "G22.99-TRUST-0007"]
    {
        assert!(dossier_of(&gw, code).await.is_none(), "{code} was kept");
    }
    assert!(!gw.logs().contains("panicked"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}
