//! Fees paid online through the national payment platform, against the real binary,
//! the PayGov simulator and the national portal's simulator on loopback: a fee due at
//! intake, or a desk's `payment_requested`, opens a payment (`INIT` as the sample has
//! it), the citizen's
//! lookup shows its page, the platform's callback records it paid — in the history,
//! the fees, the portal's record and the statistics — and forged, altered, unknown and
//! repeated callbacks change nothing; a payment whose callback never comes is settled
//! by asking (`QUERY`), its page shown to the contract's portal meanwhile; one the
//! platform refuses is opened again.

use axum::http::StatusCode;
use motcua_simulators::{
    dvcqg::{DvcqgSim, Setup as PortalSetup},
    paygov::{PaygovSim, Setup},
};
use motcua_tests::{
    Gateway, TestConfig,
    config::{dvcqg_env, payment_env},
    eventually,
    peers::{Peer, status_calls},
};
use serde_json::{Value, json};

const DESK: &str = "mc-tram-tau-dev";

fn event(id: &str, kind: &str) -> Value {
    json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() })
}

async fn post_event(gw: &Gateway, code: &str, body: &Value) {
    let (status, reply) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), DESK, body).await;
    assert_eq!(status, 200, "{body} → {reply}");
}

/// A portal dossier for Trạm Tấu with a fee of 8,000 đồng not yet paid, received and
/// waiting on its payment.
async fn waiting_on_payment(gw: &Gateway, id: &str) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["MucDo"] = 3.into();
    body["LePhi"][0]["DaThanhToan"] = false.into();
    body["LePhi"][0].as_object_mut().unwrap().remove("MaGiaoDich");
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), DESK, &json!({})).await.0, 200);
    post_event(gw, &code, &event(&format!("{id}-1"), "received")).await;
    let mut asked = event(&format!("{id}-2"), "payment_requested");
    asked["amount"] = 8000.into();
    post_event(gw, &code, &asked).await;
    code
}

async fn dossier(gw: &Gateway, code: &str) -> Value {
    gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1
}

/// The reference of the dossier's payment the platform opened.
async fn opened(sim: &PaygovSim, code: &str) -> String {
    eventually(15, "the payment opened at the platform", || async {
        sim.opened()
            .into_iter()
            .find(|(_, o)| o.init["ThongTinBienLai"]["MaHoSo"] == code && o.paid.is_none())
            .map(|(reference, _)| reference)
    })
    .await
}

async fn callback(gw: &Gateway, body: &Value) -> Value {
    let response = gw
        .client_builder()
        .build()
        .expect("a client")
        .post(gw.url("/v1/paygov/confirm"))
        .json(body)
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status().as_u16(), 200, "the platform's own answer shape, always HTTP 200");
    response.json().await.expect("a JSON answer")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fee_is_paid_online_end_to_end_and_false_callbacks_change_nothing() {
    let sim = PaygovSim::start(Setup::default()).await.expect("the platform starts");
    let portal = DvcqgSim::start(PortalSetup::default()).await.expect("the portal starts");
    let config = TestConfig::fast_retries().all_day().unthrottled().dvcqg(&portal.url(), None).payment(&sim.url());
    let mut env = dvcqg_env();
    env.extend(payment_env());
    let gw = Gateway::start_with_env(config, env);

    let code = waiting_on_payment(&gw, "PAY-ONLINE-1").await;
    let reference = opened(&sim, &code).await;
    // Opened at intake, for the fee still due; the desk's request names the same one.
    let history = dossier(&gw, &code).await["history"].clone();
    let marks: Vec<&str> = history.as_array().unwrap().iter().filter_map(|h| h["details"]["mark"].as_str()).collect();
    assert_eq!(marks.first(), Some(&"payment_opened"), "{history}");
    let asked = history.as_array().unwrap().iter().find(|h| h["type"] == "payment_requested").expect("asked");
    assert_eq!(asked["details"]["payment_reference"], reference.as_str());
    let init = sim.opened()[&reference].init.clone();
    assert_eq!(
        (init["SoTien"].as_str(), init["ThongTinBienLai"]["TKThuHuong"].as_str()),
        (Some("8000"), Some("3711000123456"))
    );
    // The citizen's lookup shows the payment page, once the platform gave it.
    let id = dossier(&gw, &code).await["applicant"]["id_number"].as_str().unwrap().to_owned();
    let lookup = format!("/v1/public/lookup?code={code}&id_last4={}", &id[id.len() - 4..]);
    let found = eventually(15, "the payment page in the lookup", || async {
        let (_, found) = gw.get_json(&lookup, "portal-dev").await;
        found.get("payment_url").is_some().then_some(found)
    })
    .await;
    assert!(found["payment_url"].as_str().unwrap().contains(&reference), "{found}");

    // Forged, for another amount, for no payment: refused in the platform's shape,
    // nothing changed.
    let before = dossier(&gw, &code).await;
    let description = init["ThongTinGiaoDich"].as_str().unwrap();
    let forged = sim.callback(&reference, "00", 8000, "PP-FORGED", description, Some("bi-mat-doan-mo"));
    let other_amount = sim.callback(&reference, "00", 800, "PP-CHEAP", description, None);
    let unknown = sim.callback("dvcKHONGCO20261201093000", "00", 8000, "PP-NONE", description, None);
    for body in [&forged, &other_amount, &unknown, &json!({ "MaLoi": "00" }), &json!(["not", "a", "callback"])] {
        let reply = callback(&gw, body).await;
        assert_eq!(reply["MaLoi"], "99", "{body} → {reply}");
    }
    let after = dossier(&gw, &code).await;
    assert_eq!(
        (after["status"].clone(), after["history"].as_array().map(Vec::len)),
        (before["status"].clone(), before["history"].as_array().map(Vec::len))
    );
    assert_eq!(after["status"], 6, "still waiting on the payment (nghĩa vụ tài chính)");

    // Paid: recorded once, whatever the platform repeats.
    let paid = sim.pay(&reference, "PP261201093512000457", None).expect("the payment is open");
    let reply = callback(&gw, &paid).await;
    assert_eq!(
        (reply["MaLoi"].as_str(), reply["MaThamChieu"].as_str()),
        (Some("00"), Some(reference.as_str())),
        "{reply}"
    );
    assert_eq!(reply["MaXacThuc"], paid["MaXacThuc"], "the callback's signature echoed");
    let d = dossier(&gw, &code).await;
    assert_eq!(d["status"], 4, "processing again: {d}");
    let received = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["type"] == "payment_received")
        .cloned()
        .expect("payment_received");
    assert_eq!(
        (received["actor"].as_str(), received["details"]["transaction"].as_str()),
        (Some("paygov"), Some("PP261201093512000457"))
    );
    assert_eq!((&d["fees"][0]["paid"], &d["fees"][0]["transaction"]), (&json!(true), &json!("PP261201093512000457")));
    let again = callback(&gw, &paid).await;
    assert_eq!(again["MaLoi"], "00", "a repeat is answered as taken");
    assert_eq!(dossier(&gw, &code).await["history"].as_array().map(Vec::len), d["history"].as_array().map(Vec::len));

    // The portal's record says the fee was paid online; the statistics count it.
    eventually(15, "the portal's record paid online", || async {
        portal
            .taken()
            .into_iter()
            .rev()
            .find(|t| t.service == "DongBoHoSoMC" && t.item["DuocThanhToanTrucTuyen"] == "1")
    })
    .await;
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    let (_, stats) = gw.get_json(&format!("/v1/stats?unit=04606&from={today}&to={today}"), "admin-dev").await;
    assert_eq!(
        (&stats["payments_requested"], &stats["paid_online"], &stats["paid_at_desk"]),
        (&json!(1), &json!(1), &json!(0)),
        "{stats}"
    );
    for outcome in ["signature", "mismatch", "unknown", "malformed", "taken"] {
        let text = reqwest::get(gw.admin_url("/metrics")).await.unwrap().text().await.unwrap();
        assert!(text.contains(&format!("motcua_payment_callbacks_total{{outcome=\"{outcome}\"}}")), "{outcome}");
    }
    assert_eq!(sim.violations(), Vec::<String>::new());
    assert_eq!(portal.violations(), Vec::<String>::new());
    assert!(!gw.logs().contains("PP261201093512000457"), "the transaction is not logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_without_callback_is_settled_by_asking_and_a_refused_one_is_opened_again() {
    let sim = PaygovSim::start(Setup { wrapped: true, ..Setup::default() }).await.expect("the platform starts");
    let portal = Peer::answering(StatusCode::OK).await;
    let config = TestConfig::fast_retries().all_day().unthrottled().payment(&sim.url()).set("portal.url", portal.url());
    let gw = Gateway::start_with_env(config, payment_env());

    // Paid at the platform, its callback lost: the poller asks and records it. The
    // portal of the contract is shown the payment page while the dossier waits.
    let code = waiting_on_payment(&gw, "PAY-QUERY-1").await;
    let reference = opened(&sim, &code).await;
    eventually(15, "the payment page at the portal", || async {
        status_calls(&portal).into_iter().find(|(k, _, body)| {
            k.starts_with(&code)
                && body["TrangThaiHoSo"] == 6
                && body["DuongDanThanhToan"].as_str().is_some_and(|u| u.contains(&reference))
        })
    })
    .await;
    sim.pay(&reference, "PP-QUERY-0001", None).expect("open");
    let d = eventually(20, "the payment settled by QUERY", || async {
        let d = dossier(&gw, &code).await;
        (d["status"] == 4).then_some(d)
    })
    .await;
    assert!(sim.queries() >= 1);
    assert_eq!(d["fees"][0]["transaction"], "PP-QUERY-0001");
    // Its callback, arriving late: taken before, nothing changes.
    let description = sim.opened()[&reference].init["ThongTinGiaoDich"].as_str().unwrap().to_owned();
    let late = sim.callback(&reference, "00", 8000, "PP-QUERY-0001", &description, None);
    assert_eq!(callback(&gw, &late).await["MaLoi"], "00");
    assert_eq!(dossier(&gw, &code).await["history"].as_array().map(Vec::len), d["history"].as_array().map(Vec::len));

    // Refused by the platform: the attempt fails, the desk opens another, it is paid.
    sim.refuse_inits(true);
    let code = waiting_on_payment(&gw, "PAY-REFUSED-1").await;
    eventually(15, "the refused attempt recorded", || async {
        let d = dossier(&gw, &code).await;
        d["history"].as_array()?.iter().any(|h| h["details"]["mark"] == "payment_failed").then_some(())
    })
    .await;
    let reopen = format!("/v1/desk/dossiers/{code}/payment");
    assert_eq!(gw.post_json(&reopen, "mc-yen-bai-dev", &json!({})).await.0, 404, "another desk's dossier");
    sim.refuse_inits(false);
    let (status, reply) = gw.post_json(&reopen, DESK, &json!({})).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(gw.post_json(&reopen, DESK, &json!({})).await.0, 200, "open already");
    let reference = opened(&sim, &code).await;
    assert_eq!(reply["reference"], reference.as_str());
    let paid = sim.pay(&reference, "PP-AGAIN-0001", None).expect("open");
    assert_eq!(callback(&gw, &paid).await["MaLoi"], "00");
    assert_eq!(dossier(&gw, &code).await["status"], 4);
    assert_eq!(sim.violations(), Vec::<String>::new());
}
