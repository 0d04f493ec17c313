//! The national portal as it really is, against the real binary and the DVCQG
//! simulator on loopback: dossiers pushed in the portal's record shape and pulled
//! by the poller reach a desk; every change reaches the portal as valid
//! `DongBoHoSoMC` and `CapNhatTienDoHoSoMC` calls; a session expires mid-stream;
//! "already exists" turns into an update; HTTP 200 with `error_code` 1 is retried,
//! given up, and made good by the next sync; after an outage the portal holds the
//! dossier's real final state; a connector behind an LGSP takes the same records.

use std::time::Duration;

use base64::Engine as _;
use motcua_simulators::dvcqg::{DvcqgSim, Setup};
use motcua_tests::{Gateway, TestConfig, config::dvcqg_env, eventually, samples::listed};
use serde_json::{Value, json};
use toml::Table;

fn event(id: &str, kind: &str) -> Value {
    json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() })
}

async fn post_event(gw: &Gateway, code: &str, desk: &str, body: &Value) {
    let (status, reply) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), desk, body).await;
    assert_eq!(status, 200, "{body} → {reply}");
}

/// A record as the portal pushes it: every scalar a string.
fn pushed_record(code: &str) -> Value {
    let now = motcua_schemas::time::to_vn(jiff::Timestamp::now());
    json!({
        "MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Đăng ký khai sinh",
        "ChuHoSo": "Lò Thị Mai", "LoaiDoiTuong": "1", "SoGiayToChuHoSo": "015190001234",
        "SoDienThoai": "0912345678", "Email": "", "MaDonViXuLy": "000.07.20.H38",
        "NgayNopHoSo": now.strftime("%Y%m%d%H%M%S").to_string(), "HinhThuc": "0", "KenhThucHien": "2",
        "TaiLieuNop": [{ "TepDinhKemId": "1", "TenTepDinhKem": "Tờ khai đăng ký khai sinh", "IsDeleted": "False",
                         "MaThanhPhanHoSo": "TP01", "DuongDanTaiTepTin": "https://dichvucong.gov.vn/f/1" }],
        "DanhSachLePhi": [], "DuocThanhToanTrucTuyen": "0", "NoiNopHoSo": "2", "MaHoSoKhac": null
    })
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn push_client() -> Table {
    let hash = motcua_gateway::auth::password::hash("mat-khau-day").expect("a hash");
    toml::from_str(&format!(
        "id = \"dvcqg-push\"\nrole = \"portal\"\nissuer = \"dvcqg-push\"\nbasic_hash = \"{hash}\"\nrate = {{ per_second = 50, burst = 100 }}\n"
    ))
    .expect("a client table")
}

async fn push(gw: &Gateway, authorization: &str, body: &Value) -> (u16, Value) {
    let response = gw
        .client_builder()
        .build()
        .expect("a client")
        .post(gw.url("/v1/dvcqg/dossiers"))
        .header("authorization", authorization)
        .json(body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn inbox_codes(gw: &Gateway) -> Vec<String> {
    let (_, inbox) = gw.get_json("/v1/desk/inbox", "mc-tram-tau-dev").await;
    inbox["items"].as_array().into_iter().flatten().filter_map(|i| i["code"].as_str().map(str::to_owned)).collect()
}

/// The gateway's code of the dossier the portal knows as `portal_code`.
async fn local_code(gw: &Gateway, portal_code: &str) -> Option<String> {
    let (_, list) = gw.get_json("/v1/admin/dossiers?unit=04606", "admin-dev").await;
    list["dossiers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["external_ref"] == portal_code)
        .and_then(|d| d["code"].as_str().map(str::to_owned))
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// One pull round over the real shapes (list row, details, files) from the portal's
/// pull services — at their own address, with their own account and a Bearer key —
/// takes two dossiers with their owner, ID number and files, and skips the row
/// without its date, which holds up neither them nor later rounds.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_round_over_the_real_shapes_takes_two_dossiers_and_skips_an_undated_one() {
    let sync = DvcqgSim::start(Setup::default()).await.expect("the sync simulator starts");
    let mut setup = Setup::default();
    setup.pull.token = Some("khoa-dich-vu-keo".into());
    let pulls = DvcqgSim::start(setup).await.expect("the pull simulator starts");
    let first = listed("000.07.20.H38-261202-0001", "Bản Km 21, xã Trạm Tấu");
    let mut second = listed("000.07.20.H38-261202-0002", "Bản Pá Hu, xã Trạm Tấu");
    second.row["hoTen"] = "Giàng A Sùng".into();
    second.row["soCmnd"] = "".into();
    second.row["soCmndCu"] = "063123456".into();
    second.detail["MaDoiTuong"] = "c1a7e2f4-3b9d-4e51".into();
    let mut undated = listed("000.07.20.H38-261202-0003", "Bản Tà Xùa, xã Trạm Tấu");
    undated.undated = true;
    let files: Vec<(String, Vec<u8>)> = first.files.clone().into_iter().collect();
    for l in [first, undated, second] {
        // The portal holds its own dossiers: the records synced of them are updates.
        sync.hold(json!({ "MaHoSo": l.detail["MaHoSo"] }));
        pulls.list(l);
    }
    let config = TestConfig::fast_retries()
        .all_day()
        .dvcqg(&sync.url(), Some(1))
        .set("portal.dvcqg.pull.url", pulls.url())
        .set("portal.dvcqg.pull.token_env", "MOTCUA_DVCQG_PULL_TOKEN")
        .set("portal.dvcqg.record.echo_object_id", true)
        .set("portal.dvcqg.record.document_flags", toml::from_str::<Table>("[\"*\"]\nDuocSoHoa = \"1\"").unwrap());
    let mut env = dvcqg_env();
    env.push(("MOTCUA_DVCQG_PULL_TOKEN".into(), "khoa-dich-vu-keo".into()));
    let gw = Gateway::start_with_env(config, env);

    let one =
        eventually(15, "the first dossier", || async { local_code(&gw, "000.07.20.H38-261202-0001").await }).await;
    let two =
        eventually(15, "the second dossier", || async { local_code(&gw, "000.07.20.H38-261202-0002").await }).await;
    let (_, one) = gw.get_json(&format!("/v1/dossiers/{one}"), "admin-dev").await;
    let (_, two) = gw.get_json(&format!("/v1/dossiers/{two}"), "admin-dev").await;
    assert_eq!(
        (&one["applicant"]["name"], &one["applicant"]["id_number"]),
        (&json!("Lò Thị Mai"), &json!("015190001234"))
    );
    assert_eq!(
        (&two["applicant"]["name"], &two["applicant"]["id_number"]),
        (&json!("Giàng A Sùng"), &json!("063123456"))
    );
    assert_eq!(one["procedure"]["code"], "1.001193.000.00.00.H38", "{one}");
    assert_eq!(one["return_method"], "post", "HinhThucNhanKQ 1: {one}");
    assert_eq!(one["return_address"]["detail"], "Bản Km 21, xã Trạm Tấu", "{one}");
    let documents = one["documents"].as_array().expect("documents");
    assert_eq!(documents.len(), 2, "{one}");
    for ((_, bytes), document) in files.iter().zip(documents) {
        assert_eq!(document["stored"], true, "{document}");
        assert_eq!(document["sha256"], sha256(bytes), "{document}");
    }
    assert_eq!(documents[0]["name"], "Đơn đề nghị đổi giấy phép lái xe.pdf");
    assert_eq!(documents[0]["component"], "GT01");

    // The undated row: counted each round, its details never asked for, nothing set aside.
    eventually(10, "a second round", || async {
        (gw.metric("motcua_dvcqg_pull_skipped_rows").await >= 2.0).then_some(())
    })
    .await;
    assert_eq!(pulls.fetched("000.07.20.H38-261202-0003"), 0);
    assert!(local_code(&gw, "000.07.20.H38-261202-0003").await.is_none());
    pulls.give_date("000.07.20.H38-261202-0003");
    eventually(15, "the dossier once dated", || async { local_code(&gw, "000.07.20.H38-261202-0003").await }).await;

    // The pull spoke only to its own services, with its own account and key; the
    // dossiers it took are recorded at the portal through the sync's.
    assert!(pulls.pull_logins() >= 1 && sync.pull_logins() == 0);
    assert_eq!(pulls.logins(), 0, "the sync account was not used for the pull");
    let synced = eventually(15, "the pulled dossiers synced", || async {
        sync.record("000.07.20.H38-261202-0002").filter(|r| r["ChuHoSo"] == "Giàng A Sùng")
    })
    .await;
    assert_eq!(synced["MaDoiTuong"], "c1a7e2f4-3b9d-4e51", "the portal's own id echoed");
    assert_eq!(synced["TaiLieuNop"][0]["DuocSoHoa"], "1", "{synced}");
    assert_eq!(pulls.violations(), Vec::<String>::new());
    assert_eq!(sync.violations(), Vec::<String>::new());
}

fn statuses(steps: &[Value]) -> Vec<String> {
    steps.iter().map(|s| s["TrangThai"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pushed_and_pulled_dossiers_reach_a_desk_and_every_change_reaches_the_portal() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    sim.list(listed("G22.99-PULL-0001", "Bản Km 21, xã Trạm Tấu"));
    let config = TestConfig::fast_retries().all_day().dvcqg(&sim.url(), Some(1)).add_client(push_client());
    let mut gw = Gateway::start_with_env(config, dvcqg_env());

    // Push: Basic authentication, the portal's envelope, the portal's answer. The
    // portal holds its own dossier.
    sim.hold(pushed_record("G22.99-PUSH-0001"));
    let envelope = json!({ "service": "DongBoHoSoMC", "isUpdating": "False", "madonvi": "000.07.20.H38",
                           "data": [pushed_record("G22.99-PUSH-0001")] });
    let (status, _) = push(&gw, &basic("dvcqg-push", "sai-mat-khau"), &envelope).await;
    assert_eq!(status, 401);
    let (status, reply) = push(&gw, &basic("dvcqg-push", "mat-khau-day"), &envelope).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(0)), "{reply}");
    assert!(reply["message"].as_str().unwrap().starts_with("G22.99-PUSH-0001| "), "{reply}");
    // The same MaHoSo again without `isUpdating` is a duplicate, as the real receivers
    // answer it (error_code 1), whatever its content, and changes nothing.
    let (status, again) = push(&gw, &basic("dvcqg-push", "mat-khau-day"), &envelope).await;
    assert_eq!((status, &again["error_code"]), (200, &json!(1)), "{again}");
    let mut changed = envelope.clone();
    changed["data"][0]["SoDienThoai"] = "0987654321".into();
    let (status, duplicate) = push(&gw, &basic("dvcqg-push", "mat-khau-day"), &changed).await;
    assert_eq!((status, &duplicate["error_code"]), (200, &json!(1)), "{duplicate}");
    let code =
        duplicate["message"].as_str().unwrap().rsplit("mã hồ sơ ").next().unwrap().trim_end_matches(')').to_owned();
    let phone = |d: &Value| d["applicant"]["phone"].as_str().map(str::to_owned);
    let stored = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1;
    assert_ne!(phone(&stored).as_deref(), Some("0987654321"), "a duplicate changes nothing: {stored}");
    // With `isUpdating`, new content is an update.
    changed["isUpdating"] = "True".into();
    let (status, updated) = push(&gw, &basic("dvcqg-push", "mat-khau-day"), &changed).await;
    assert_eq!((status, &updated["error_code"]), (200, &json!(0)), "{updated}");
    let stored = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1;
    assert_eq!(phone(&stored).as_deref(), Some("0987654321"), "{stored}");
    // A missing required field is named; an unknown field is no reason to refuse.
    let mut broken = envelope.clone();
    broken["data"][0]["MaHoSo"] = "G22.99-PUSH-0002".into();
    broken["data"][0].as_object_mut().unwrap().remove("ChuHoSo");
    let (status, refused) = push(&gw, &basic("dvcqg-push", "mat-khau-day"), &broken).await;
    assert_eq!((status, &refused["error_code"]), (200, &json!(-1)), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("/ChuHoSo"), "{refused}");

    let pushed = local_code(&gw, "G22.99-PUSH-0001").await.expect("the pushed dossier is stored");
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{pushed}"), "admin-dev").await;
    assert_eq!(dossier["applicant"]["phone"], "0987654321");
    assert!(dossier["history"].as_array().unwrap().iter().any(|h| h["details"]["mark"] == "portal_update"));

    // Pull: the poller takes the listed dossier once, with its document's content.
    let pulled_code =
        eventually(15, "the pulled dossier", || async { local_code(&gw, "G22.99-PULL-0001").await }).await;
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{pulled_code}"), "admin-dev").await;
    assert_eq!(dossier["documents"][0]["stored"], true, "{dossier}");
    assert_eq!(dossier["applicant"]["name"], "Lò Thị Mai", "{dossier}");
    let inbox = inbox_codes(&gw).await;
    assert!(inbox.contains(&pushed) && inbox.contains(&pulled_code), "{inbox:?}");
    assert_eq!(sim.fetched("G22.99-PULL-0001"), 1);

    // A restart neither repeats nor skips: the same listing is settled, nothing fetched again.
    gw.restart();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sim.fetched("G22.99-PULL-0001"), 1);
    let (_, list) = gw.get_json("/v1/admin/dossiers?unit=04606", "admin-dev").await;
    let pulled_copies =
        list["dossiers"].as_array().unwrap().iter().filter(|d| d["external_ref"] == "G22.99-PULL-0001").count();
    assert_eq!(pulled_copies, 1);

    // The desk works the pushed dossier; each change reaches the portal.
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{pushed}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);
    let mut received = event("d1", "received");
    received["officer"] = json!({ "name": "Hoàng Văn Sáng", "title": "Công chức Tư pháp - Hộ tịch", "department": "Bộ phận Một cửa xã Trạm Tấu" });
    post_event(&gw, &pushed, "mc-tram-tau-dev", &received).await;
    post_event(&gw, &pushed, "mc-tram-tau-dev", &event("d2", "processing")).await;
    let mut result = event("d3", "result_ready");
    result["result_documents"] =
        json!([{ "name": "Giấy khai sinh (bản chính)", "url": "https://motcua.example/kq/1.pdf" }]);
    post_event(&gw, &pushed, "mc-tram-tau-dev", &result).await;
    let record = eventually(15, "the portal's record at status 9", || async {
        sim.record("G22.99-PUSH-0001").filter(|r| r["TrangThaiHoSo"] == "9")
    })
    .await;
    assert_eq!(record["DanhSachGiayToKetQua"][0]["TenGiayTo"], "Giấy khai sinh (bản chính)");
    assert_eq!(record["NoiNopHoSo"], "2", "configured constants are sent");
    assert_eq!(record["DinhDanhCHS"][0]["LoaiDinhDanh"], "1");
    let steps = eventually(15, "every step at the portal", || async {
        let steps = sim.steps("G22.99-PUSH-0001");
        (statuses(&steps).last().map(String::as_str) == Some("9")).then_some(steps)
    })
    .await;
    assert_eq!(statuses(&steps), ["1", "2", "4", "9"]);
    assert_eq!(steps[1]["NguoiXuLy"], "Hoàng Văn Sáng");
    assert_eq!(steps[1]["ChucDanh"], "Công chức Tư pháp - Hộ tịch");
    assert_eq!(steps[0]["NguoiXuLy"], "Cán bộ một cửa");
    // A dossier from the portal is an update from the first sync.
    assert!(sim.taken().iter().filter(|t| t.service == "DongBoHoSoMC").all(|t| t.updating));
    assert_eq!(sim.violations(), Vec::<String>::new());
}

/// A dossier received by the gateway's own intake: the portal does not have it yet.
async fn local_dossier(gw: &Gateway, id: &str) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["MaDonViNhan"] = "04606".into();
    body["HinhThucNhanKetQua"] = 1.into();
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    created["code"].as_str().expect("a code").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn exists_session_expiry_errors_and_outage_all_end_on_the_real_state() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let config = TestConfig::fast_retries().all_day().dvcqg(&sim.url(), None).set("retry.max_attempts", 3);
    let gw = Gateway::start_with_env(config, dvcqg_env());

    // "Already exists": the portal holds the code before the gateway's first sync.
    sim.set(|s| s.down = true);
    let code = local_dossier(&gw, "DVCQG-EXISTS-1").await;
    sim.hold(json!({ "MaHoSo": code, "TrangThaiHoSo": "1" }));
    sim.set(|s| s.down = false);
    eventually(15, "the create turned into an update", || async {
        sim.taken()
            .iter()
            .any(|t| t.service == "DongBoHoSoMC" && t.updating && t.item["MaHoSo"] == code.as_str())
            .then_some(())
    })
    .await;
    assert!(sim.answers().get("-3").is_some_and(|n| *n >= 1), "{:?}", sim.answers());
    eventually(15, "the intake step", || async { (!sim.steps(&code).is_empty()).then_some(()) }).await;

    // A session that expires mid-stream: the gateway logs in again and goes on.
    let logins = sim.logins();
    sim.expire_sessions();
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);
    post_event(&gw, &code, "mc-tram-tau-dev", &event("e1", "received")).await;
    eventually(15, "status 2 after a new login", || async {
        sim.record(&code).filter(|r| r["TrangThaiHoSo"] == "2").map(drop)
    })
    .await;
    assert_eq!(sim.logins(), logins + 1);

    // HTTP 200 with error_code 1: retried, then given up.
    sim.set(|s| s.always_error = true);
    post_event(&gw, &code, "mc-tram-tau-dev", &event("e2", "processing")).await;
    let dead = eventually(20, "the syncs given up", || async {
        let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        let items: Vec<Value> = dead["dead_letters"].as_array().cloned().unwrap_or_default();
        let ours: Vec<Value> = items.into_iter().filter(|d| d["job"]["dossier"] == code.as_str()).collect();
        (ours.len() == 2).then_some(ours)
    })
    .await;
    assert!(dead.iter().all(|d| d["error"].as_str().unwrap().starts_with("error_code 1: ")), "{dead:?}");
    assert!(dead.iter().all(|d| d["job"]["attempts"] == 3), "{dead:?}");
    assert!(sim.answers().get("1").is_some_and(|n| *n >= 3));
    assert!(!gw.logs().contains("Lỗi hệ thống"), "the peer's words stay out of the log");
    assert_eq!(sim.record(&code).unwrap()["TrangThaiHoSo"], "2");

    // The next sync makes it good: the portal ends on the real state, the dead letters go.
    sim.set(|s| s.always_error = false);
    post_event(&gw, &code, "mc-tram-tau-dev", &event("e3", "result_ready")).await;
    eventually(15, "status 9 and steps 1, 2, 4, 9", || async {
        let done = sim.record(&code).is_some_and(|r| r["TrangThaiHoSo"] == "9")
            && statuses(&sim.steps(&code)) == ["1", "2", "4", "9"];
        done.then_some(())
    })
    .await;
    eventually(10, "the dead letters made good", || async {
        let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        let left = dead["dead_letters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["job"]["dossier"] == code.as_str())
            .count();
        (left == 0).then_some(())
    })
    .await;
    assert_eq!(sim.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn after_an_outage_the_portal_holds_the_final_state_sent_once() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let gw = Gateway::start_with_env(TestConfig::fast_retries().all_day().dvcqg(&sim.url(), None), dvcqg_env());
    let code = local_dossier(&gw, "DVCQG-OUTAGE-1").await;
    eventually(15, "the first sync", || async { sim.record(&code).map(drop) }).await;

    sim.set(|s| s.down = true);
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);
    for (i, kind) in ["received", "processing", "result_ready", "returned_at_desk"].iter().enumerate() {
        post_event(&gw, &code, "mc-tram-tau-dev", &event(&format!("o{i}"), kind)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = sim.taken().len();
    sim.set(|s| s.down = false);
    eventually(20, "the final state at the portal", || async {
        let done = sim.record(&code).is_some_and(|r| r["TrangThaiHoSo"] == "10")
            && statuses(&sim.steps(&code)) == ["1", "2", "4", "9", "10"];
        done.then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Superseded syncs were not sent: one record and one progress call after the outage.
    let after: Vec<_> = sim.taken().into_iter().skip(before).collect();
    let records = after.iter().filter(|t| t.service == "DongBoHoSoMC").count();
    assert_eq!(records, 1, "{after:?}");
    assert_eq!(sim.record(&code).unwrap()["NgayTra"].as_str().map(str::len), Some(14));
    assert_eq!(sim.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_behind_an_lgsp_takes_the_same_records() {
    let setup = Setup { lgsp: Some(("motcua-lgsp".into(), "bi-mat-lgsp".into())), ..Setup::default() };
    let sim = DvcqgSim::start(setup).await.expect("the simulator starts");
    let gw = Gateway::start_with_env(TestConfig::fast_retries().all_day().dvcqg_connector(&sim.url()), dvcqg_env());
    let code = local_dossier(&gw, "DVCQG-LGSP-1").await;
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);
    post_event(&gw, &code, "mc-tram-tau-dev", &event("l1", "received")).await;
    eventually(15, "the record and steps through the connector", || async {
        let done =
            sim.record(&code).is_some_and(|r| r["TrangThaiHoSo"] == "2") && statuses(&sim.steps(&code)) == ["1", "2"];
        done.then_some(())
    })
    .await;
    assert_eq!(sim.token_grants(), 1, "the LGSP token is reused");
    assert_eq!(sim.logins(), 0, "a connector needs no session");
    assert_eq!(sim.violations(), Vec::<String>::new());
}

/// A file the gateway stores reaches the portal as a signed link (`DuongDanTaiTepTin`)
/// the portal fetches without a token; the link is refused once altered or expired.
#[tokio::test(flavor = "multi_thread")]
async fn the_portal_fetches_a_stored_file_through_its_signed_link() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let config = TestConfig::fast_retries()
        .all_day()
        .dvcqg(&sim.url(), None)
        .set("files.public_url", "https://motcua.example.vn")
        .set("files.link_key_env", "MOTCUA_FILE_LINK_KEY")
        .set("files.link_ttl_secs", 10);
    let mut env = dvcqg_env();
    env.push(("MOTCUA_FILE_LINK_KEY".into(), "khoa-ky-duong-dan-tep-dung-de-thu-nghiem".into()));
    let gw = Gateway::start_with_env(config, env);

    let content = b"Don de nghi cap ban sao trich luc ho tich";
    let mut body = motcua_tests::samples::portal("DVCQG-FILE-1");
    body["MaDonViNhan"] = "04606".into();
    body["TaiLieuNop"][0] =
        json!({ "TenTepDinhKem": "don.txt", "NoiDung": base64::engine::general_purpose::STANDARD.encode(content) });
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    let code = created["code"].as_str().unwrap().to_owned();
    let record = eventually(15, "the record at the portal", || async { sim.record(&code) }).await;
    let link = record["TaiLieuNop"][0]["DuongDanTaiTepTin"].as_str().unwrap().to_owned();
    let path = link.strip_prefix("https://motcua.example.vn").unwrap_or_else(|| panic!("our address: {link}"));
    assert!(path.starts_with("/v1/files/") && path.contains("?exp=") && path.contains("&sig="), "{link}");

    // No token, no session: the link is the permission.
    let fetched = gw.http.get(gw.url(path)).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["cache-control"], "no-store");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), content);

    // Altered: another expiry, another signature, another file.
    let (file, query) = path.split_once('?').unwrap();
    let exp: i64 = query.split('&').find_map(|p| p.strip_prefix("exp=")).unwrap().parse().unwrap();
    let sig = query.split('&').find_map(|p| p.strip_prefix("sig=")).unwrap();
    let other_file = format!("/v1/files/{}", "0".repeat(64));
    for altered in [
        format!("{file}?exp={}&sig={sig}", exp + 3600),
        format!("{file}?exp={exp}&sig={}", sig.chars().rev().collect::<String>()),
        format!("{other_file}?exp={exp}&sig={sig}"),
        file.to_owned(),
    ] {
        let refused = gw.http.get(gw.url(&altered)).send().await.unwrap();
        assert_eq!(refused.status(), 403, "{altered}");
        assert!(refused.text().await.unwrap().contains("not one the gateway gave"), "{altered}");
    }

    // Expired.
    let wait = exp - jiff::Timestamp::now().as_second() + 1;
    tokio::time::sleep(Duration::from_secs(u64::try_from(wait.max(0)).unwrap())).await;
    let expired = gw.http.get(gw.url(path)).send().await.unwrap();
    assert_eq!(expired.status(), 403);
    assert!(expired.text().await.unwrap().contains("expired"));
}

/// A golden sample of the real peers' messages (`simulators/peers/`).
fn golden(name: &str) -> Value {
    serde_json::from_str(&motcua_tests::repo_file(&format!("simulators/peers/{name}"))).expect("a golden sample")
}

/// The two real push shapes of trade-promotion dossiers, as the golden samples give them:
/// `createdossierfromdvcqg` (a bare record, its unit in the `groupId` header) and
/// `nhanhsdvcqg` (`data{MaHoSoQG…}`), both taken and reaching the desk; a repeated
/// create answered 1 as the receivers answer it; one whose unit nothing names refused
/// with -1 and HTTP 200, in the shape of `dvcqg-push.error.reply.json`.
#[tokio::test(flavor = "multi_thread")]
async fn the_real_push_shapes_are_taken_and_answered_as_the_receivers_answer() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let procedure = |code: &str, name: &str| -> Table {
        toml::from_str(&format!(
            "code = \"{code}\"\nname = \"{name}\"\nlevels = [\"xa\", \"tinh\"]\nprocessing = \"3d\"\n"
        ))
        .expect("a procedure")
    };
    let config = TestConfig::fast_retries()
        .all_day()
        .dvcqg(&sim.url(), None)
        .add_client(push_client())
        .set("portal.dvcqg.push.groups", toml::Value::Table(toml::from_str("35404 = \"000.07.20.H38\"").unwrap()))
        .set("portal.dvcqg.promotion_status", toml::Value::Table(toml::Table::new()))
        .edit(|t| {
            let procedures = t["procedures"].as_array_mut().expect("[[procedures]]");
            procedures.push(toml::Value::Table(procedure("2.000049", "Thông báo thực hiện khuyến mại")));
            procedures.push(toml::Value::Table(procedure(
                "2.000047",
                "Thông báo sửa đổi, bổ sung nội dung chương trình khuyến mại",
            )));
        });
    let gw = Gateway::start_with_env(config, dvcqg_env());
    let who = basic("dvcqg-push", "mat-khau-day");
    let send = |body: Value, group: Option<&'static str>| {
        let gw = &gw;
        let who = who.clone();
        async move {
            let mut request = gw
                .client_builder()
                .build()
                .unwrap()
                .post(gw.url("/v1/dvcqg/dossiers"))
                .header("authorization", who)
                .json(&body);
            if let Some(group) = group {
                request = request.header("groupId", group);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let shape = golden("dvcqg-push.reply.json");
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();

    let created = golden("dvcqg-push-createdossierfromdvcqg.request.json");
    let (status, reply) = send(created.clone(), Some("35404")).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(0)), "{reply}");
    assert_eq!(keys(&reply), keys(&shape), "the receivers' answer shape: {reply}");
    assert!(reply["message"].as_str().unwrap().starts_with("000.00.16.H38-261201-0003| "), "{reply}");
    let local = local_code(&gw, "000.00.16.H38-261201-0003").await.expect("the dossier is stored");
    eventually(15, "the desk's inbox", || async { inbox_codes(&gw).await.contains(&local).then_some(()) }).await;
    let stored = gw.get_json(&format!("/v1/dossiers/{local}"), "admin-dev").await.1;
    assert_eq!(stored["applicant"]["name"], "Công ty TNHH Thương mại Sa Pa Xanh", "{stored}");
    assert_eq!(stored["applicant"]["phone"], "02143812345", "a landline: {stored}");
    assert_eq!(stored["documents"].as_array().map(Vec::len), Some(2), "the registration and the attachment");

    // The same create again: a duplicate, as the receivers answer it.
    let (status, again) = send(created.clone(), Some("35404")).await;
    assert_eq!((status, &again["error_code"]), (200, &golden("dvcqg-push.duplicate.reply.json")["error_code"]));

    // Received at the desk: the status goes back as DongBoTrangThaiHoSo, in the golden
    // sample's shape, under the portal's code.
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{local}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);
    post_event(&gw, &local, "mc-tram-tau-dev", &event("km-1", "received")).await;
    let sent = eventually(15, "the status at the portal", || async {
        sim.taken().into_iter().find(|t| t.service == "DongBoTrangThaiHoSo").map(|t| t.item)
    })
    .await;
    let sample = golden("dvcqg-sync-DongBoTrangThaiHoSo.request.json");
    let mut expected = keys(&sample["data"]);
    let mut got = keys(&sent);
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "{sent}");
    assert_eq!((sent["MaHoSo"].as_str(), sent["TrangThai"].as_str()), (Some("000.00.16.H38-261201-0003"), Some("2")));

    // A supplement in the shape of nhanhsdvcqg, submitted now (the sample's date lies ahead).
    let mut supplement = golden("dvcqg-push-nhanhsdvcqg.request.json");
    supplement["data"]["NgayNopHoSo"] =
        motcua_schemas::time::format_portal(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60)).into();
    let (status, reply) = send(supplement, Some("35404")).await;
    assert_eq!((status, &reply["error_code"]), (200, &json!(0)), "{reply}");
    assert!(local_code(&gw, "000.00.16.H38-261205-0011").await.is_some());

    // A create whose unit nothing names: refused, the field named, HTTP 200.
    let mut unnamed = created;
    unnamed["MaHoSo"] = "000.00.16.H38-261201-0004".into();
    let (status, refused) = send(unnamed, None).await;
    assert_eq!((status, &refused["error_code"]), (200, &golden("dvcqg-push.error.reply.json")["error_code"]));
    assert!(refused["message"].as_str().unwrap().contains("/MaDonViXuLy"), "{refused}");

    // The land-tax pushes (a receipt, a notice) are not dossiers the gateway takes: the
    // receivers' own refusal, HTTP 200, nothing stored.
    for sample in ["dvcqg-push-nhanhsdvcqg-NhanChungTuThueDat.request.json", "dvcqg-push-nhantbthuedvcqg.request.json"]
    {
        let body = golden(sample);
        let code = body["data"]["MaHoSo"].as_str().unwrap_or_default().to_owned();
        let (status, refused) = send(body, Some("35404")).await;
        assert_eq!((status, &refused["error_code"]), (200, &json!(-1)), "{sample}: {refused}");
        assert!(local_code(&gw, &code).await.is_none(), "{sample} stored");
    }
    assert_eq!(sim.violations(), Vec::<String>::new());
}

/// Every dossier is recorded at the national portal, whatever its channel: by default a
/// postal dossier is synced too, as channel 3 (`KenhThucHien`).
#[tokio::test(flavor = "multi_thread")]
async fn a_postal_dossier_is_synced_to_the_portal_by_default() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let gw = Gateway::start_with_env(TestConfig::fast_retries().all_day().dvcqg(&sim.url(), None), dvcqg_env());
    let item = motcua_tests::samples::s10("EE", 7373);
    let (status, reply) = gw.post_xml("/v1/postal/dossiers", "postal-dev", motcua_tests::samples::postal(&item)).await;
    assert_eq!(status, 201, "{reply}");
    let code = motcua_tests::samples::xml_text(&reply, "MaHoSo").expect("the dossier's code");
    let record = eventually(15, "the postal dossier at the portal", || async { sim.record(&code) }).await;
    assert_eq!(record["KenhThucHien"], "3", "{record}");
    assert_eq!(sim.violations(), Vec::<String>::new());
}
