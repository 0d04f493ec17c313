//! What the national service index scores, against the real binary and the portal
//! simulator: a month's ratings synced as `DongBoDanhGia` rows the simulator checks
//! against the sample, and components and results marked digitized — counted in the
//! statistics and sent in the record sync as `DuocSoHoa`.

use motcua_simulators::dvcqg::{DvcqgSim, Setup};
use motcua_tests::{Gateway, TestConfig, config::dvcqg_env, eventually};
use serde_json::{Value, json};

async fn event(gw: &Gateway, code: &str, body: Value) {
    let (status, answer) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "mc-tram-tau-dev", &body).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_months_ratings_and_the_digitized_dossiers_reach_the_portal() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let config = TestConfig::fast_retries().all_day().dvcqg(&sim.url(), None).set("portal.dvcqg.ratings.every_secs", 1);
    let gw = Gateway::start_with_env(config, dvcqg_env());
    let now = || jiff::Timestamp::now().to_string();
    let mut codes = Vec::new();
    for (i, level) in [3, 3, 1].into_iter().enumerate() {
        let mut body = motcua_tests::samples::portal(&format!("RATE-{i}"));
        body["MaDonViNhan"] = "04606".into();
        body["HinhThucNhanKetQua"] = 1.into();
        let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
        assert_eq!(status, 201, "{created}");
        let code = created["code"].as_str().unwrap().to_owned();
        let mut received = json!({ "event_id": format!("{i}-r"), "type": "received", "at": now() });
        if i == 0 {
            // The desk scanned the first dossier's form at the counter.
            received["digitized"] = json!([{ "document": 1, "digitized": true }]);
        }
        event(&gw, &code, received).await;
        event(&gw, &code, json!({ "event_id": format!("{i}-p"), "type": "processing", "at": now() })).await;
        let result = json!([{ "name": "Giấy khai sinh", "digitized": i == 0 }]);
        event(
            &gw,
            &code,
            json!({ "event_id": format!("{i}-k"), "type": "result_ready", "at": now(), "result_documents": result }),
        )
        .await;
        let (status, rated) =
            gw.post_json(&format!("/v1/portal/dossiers/{code}/rating"), "portal-dev", &json!({ "level": level })).await;
        assert_eq!(status, 200, "{rated}");
        codes.push(code);
    }
    // A desk cannot mark a document the dossier does not have.
    let bad = json!({ "event_id": "x", "type": "supplement_requested", "at": now(), "items": ["Tờ khai"],
                      "digitized": [{ "document": 9, "digitized": true }] });
    let (status, _) = gw.post_json(&format!("/v1/desk/dossiers/{}/events", codes[1]), "mc-tram-tau-dev", &bad).await;
    assert!(status == 422 || status == 409, "{status}");

    let month = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date().strftime("%Y-%m").to_string();
    let queued = gw
        .client_builder()
        .build()
        .unwrap()
        .post(gw.url(&format!("/v1/admin/portal/ratings?month={month}")))
        .bearer_auth(motcua_tests::tokens::token("admin-dev"))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);
    let row = eventually(20, "the month's ratings at the portal", || async {
        sim.taken().into_iter().find(|t| t.service == "DongBoDanhGia").map(|t| t.item)
    })
    .await;
    assert_eq!(sim.violations(), Vec::<String>::new());
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    assert_eq!(row["NgayTongHop"], format!("{}-{}", today.month(), today.year()));
    assert_eq!(row["Madonvi"], "000.07.20.H38");
    assert_eq!(row["TongSoNguoiDanhGia"], 3);
    assert_eq!(
        (&row["PhanTramDanhGiaRatHaiLong"], &row["PhanTramDanhGiaHaiLong"], &row["PhanTramDanhGiaChuaHaiLong"]),
        (&json!("67%"), &json!("0%"), &json!("33%"))
    );
    let metrics = reqwest::get(gw.admin_url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("motcua_portal_ratings_syncs_total{outcome=\"sent\"} 1"), "{metrics}");

    // The digitized form and result, counted and synced.
    let (_, stats) = gw.get_json("/v1/stats?unit=15&from=2020-01-01&to=2099-12-31", "admin-dev").await;
    assert_eq!(
        (stats["digitized_dossiers"].as_u64(), stats["digitized_results"].as_u64()),
        (Some(1), Some(1)),
        "{stats}"
    );
    let record = eventually(20, "the record sync with the digitized form", || async {
        sim.record(&codes[0]).filter(|r| r["TaiLieuNop"][0]["DuocSoHoa"] == "1")
    })
    .await;
    assert_eq!(record["HoSoCoThanhPhanSoHoa"], "1");
    let other = sim.record(&codes[1]).expect("the second dossier's record");
    assert!(other["TaiLieuNop"][0].get("DuocSoHoa").is_none_or(|f| f != "1"), "{other}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_status_change_reaches_the_national_monitoring_service() {
    let emc = motcua_simulators::emc::EmcSim::start(1015).await;
    let config = TestConfig::fast_retries()
        .all_day()
        .set("tracking.url", emc.url())
        .set("tracking.site_id", 1015)
        .set("tracking.province", "15");
    let gw = Gateway::start(config);
    let code = gw.submit_portal("EMC-1", "04606").await;
    let now = || jiff::Timestamp::now().to_string();
    event(&gw, &code, json!({ "event_id": "r", "type": "received", "at": now() })).await;
    event(&gw, &code, json!({ "event_id": "p", "type": "processing", "at": now() })).await;
    event(&gw, &code, json!({ "event_id": "k", "type": "result_ready", "at": now(), "result_documents": [{ "name": "Giấy khai sinh" }] }))
        .await;
    let statuses = eventually(20, "four tracking messages", || async {
        let taken = emc.taken();
        (taken.len() == 4)
            .then(|| taken.iter().map(|m| m["Status"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>())
    })
    .await;
    assert_eq!(statuses, ["1", "1", "2", "3"], "received twice (intake, desk), processing, result");
    assert_eq!(emc.violations(), Vec::<String>::new());
    let first = &emc.taken()[0];
    assert_eq!((&first["MaHoSo"], &first["Level"], &first["FormsReception"]), (&json!(code), &json!("4"), &json!("1")));
    assert_eq!(first["FormsPayments"], "2", "the sample's fee was paid before submission");
    assert!(!gw.logs().contains("015090001234"), "the applicant's ID is never logged");
}
