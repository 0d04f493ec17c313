//! Delivery to desks against the real binary and real HTTP desk servers on loopback:
//! retries, dead letters and replay, timeouts that do not block other desks, SIGKILL
//! during delivery, pull inboxes with leases, and routing through succession and
//! inter-agency hand-over.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
    time::Duration,
};

use axum::{http::StatusCode, response::IntoResponse};
use motcua_tests::{
    Gateway, TestConfig, eventually,
    peers::{Peer, Received, delayed},
};
use serde_json::{Value, json};

/// Idempotency keys of the dossiers a desk accepted (2xx), each once.
fn accepted_keys(peer: &Peer, accepted_statuses: &HashMap<usize, u16>) -> BTreeSet<String> {
    peer.received()
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            r.uri.path() == "/v1/dossiers" && accepted_statuses.get(i).is_some_and(|s| (200..300).contains(s))
        })
        .filter_map(|(_, r)| r.header("idempotency-key"))
        .collect()
}

/// A desk that de-duplicates on Idempotency-Key: 201 the first time, 409 after.
fn deduplicating(fail_first: usize) -> motcua_tests::peers::Script {
    Arc::new(move |received: &[Received]| {
        let n = received.len();
        if n <= fail_first {
            return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
        }
        let key = received[n - 1].header("idempotency-key");
        let seen_before = received[..n - 1].iter().skip(fail_first).any(|r| r.header("idempotency-key") == key);
        if seen_before { StatusCode::CONFLICT.into_response() } else { StatusCode::CREATED.into_response() }
    })
}

async fn queue_of(gw: &Gateway, destination: &str) -> Value {
    let (_, queue) = gw.get_json("/v1/admin/queue", "admin-dev").await;
    queue["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["destination"] == destination)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desk_that_fails_then_recovers_gets_every_dossier_once() {
    let desk = Peer::start(deduplicating(8)).await;
    let gw = Gateway::start(TestConfig::fast_retries().desk("mc-yen-bai", "url", desk.url()).set("retry.cap_ms", 300));
    let mut codes = BTreeSet::new();
    for i in 0..5 {
        codes.insert(gw.submit_portal(&format!("DVC-RETRY-{i}"), "04252").await);
    }
    // While the desk fails, the admin queue shows the attempts.
    let attempts = eventually(20, "attempts in the admin queue", || async {
        let q = queue_of(&gw, "desk:mc-yen-bai").await;
        (q["attempts"].as_u64().unwrap_or(0) > 0).then_some(q)
    })
    .await;
    assert!(attempts["depth"].as_u64().unwrap() >= 1, "{attempts}");
    assert!(attempts["oldest"][0]["last_error"].as_str().unwrap_or_default().contains("503"), "{attempts}");

    eventually(30, "every dossier delivered", || async {
        let q = queue_of(&gw, "desk:mc-yen-bai").await;
        (q["depth"] == 0).then_some(())
    })
    .await;
    let received = desk.received();
    let statuses: HashMap<usize, u16> = received
        .iter()
        .enumerate()
        .map(|(i, _)| {
            (
                i,
                if i < 8 {
                    503
                } else if received[8..i]
                    .iter()
                    .any(|r| r.header("idempotency-key") == received[i].header("idempotency-key"))
                {
                    409
                } else {
                    201
                },
            )
        })
        .collect();
    assert_eq!(accepted_keys(&desk, &statuses), codes, "each dossier reached the desk, once after de-duplication");
    let first = &received[received.len() - 1];
    assert!(first.header("authorization").unwrap().starts_with("Bearer "), "the gateway signs its calls");
    let body = first.json();
    assert!(codes.contains(body["code"].as_str().unwrap()));
    assert_eq!(body["desk"], "mc-yen-bai");
    // Each dossier's history records its delivery.
    let code = codes.iter().next().unwrap();
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    assert!(dossier["history"].as_array().unwrap().iter().any(|h| h["details"]["mark"] == "delivered"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_refusal_is_dead_lettered_at_once_and_replay_delivers() {
    let desk = Peer::answering(StatusCode::BAD_REQUEST).await;
    let gw = Gateway::start(TestConfig::fast_retries().desk("mc-yen-bai", "url", desk.url()));
    let code = gw.submit_portal("DVC-DEAD-1", "04252").await;
    let letter = eventually(20, "a dead letter", || async {
        let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        dead["dead_letters"].as_array().and_then(|l| l.first().cloned())
    })
    .await;
    assert_eq!(letter["job"]["dossier"], code.as_str());
    assert_eq!(letter["destination"], "desk:mc-yen-bai");
    assert_eq!(letter["attempts"], 1, "no retry after a permanent error");
    assert!(letter["error"].as_str().unwrap().contains("400"));
    assert_eq!(desk.received().len(), 1);
    assert_eq!(queue_of(&gw, "desk:mc-yen-bai").await["dead"], 1);

    // The desk is fixed; the operator replays the letter.
    desk.script(Arc::new(|_: &[Received]| StatusCode::CREATED.into_response()));
    let id = letter["id"].as_str().unwrap();
    let (status, _) = gw.post_json(&format!("/v1/admin/dead-letters/{id}/replay"), "admin-dev", &json!({})).await;
    assert_eq!(status, 200);
    eventually(20, "the replayed job delivered", || async { (desk.received().len() == 2).then_some(()) }).await;
    assert_eq!(desk.received()[1].header("idempotency-key").as_deref(), Some(code.as_str()));
    let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
    assert_eq!(dead["dead_letters"].as_array().unwrap().len(), 0);
    let (status, _) = gw.post_json(&format!("/v1/admin/dead-letters/{id}/replay"), "admin-dev", &json!({})).await;
    assert_eq!(status, 404, "a replayed letter is no longer dead");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_desk_times_out_and_never_blocks_another() {
    let hanging = Peer::start(Arc::new(|received: &[Received]| {
        if received.len() <= 2 {
            return delayed(Duration::from_secs(3), StatusCode::CREATED.into_response());
        }
        StatusCode::CREATED.into_response()
    }))
    .await;
    let healthy = Peer::answering(StatusCode::CREATED).await;
    let config = TestConfig::fast_retries()
        .set("retry.timeout_secs", 1)
        .desk("mc-yen-bai", "url", hanging.url())
        .desk("mc-yen-bai", "concurrency", 1)
        .desk("mc-nghia-lo", "url", healthy.url());
    let gw = Gateway::start(config);
    let stuck = gw.submit_portal("DVC-HANG-1", "04252").await;
    for i in 0..5 {
        gw.submit_portal(&format!("DVC-HANG-OTHER-{i}"), "04288").await;
    }
    // The other desk keeps receiving while the first one hangs.
    eventually(10, "the healthy desk receives everything", || async { (healthy.received().len() >= 5).then_some(()) })
        .await;
    // The hanging call timed out and was retried until the desk answered.
    eventually(30, "the hanging desk finally receives the dossier", || async {
        let q = queue_of(&gw, "desk:mc-yen-bai").await;
        (q["depth"] == 0).then_some(())
    })
    .await;
    assert!(hanging.received().len() >= 3, "timed out twice, then delivered");
    assert!(hanging.received().iter().all(|r| r.header("idempotency-key").as_deref() == Some(stuck.as_str())));
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_in_flight_survive_sigkill() {
    let desk = Peer::answering(StatusCode::SERVICE_UNAVAILABLE).await;
    let mut gw = Gateway::start(TestConfig::fast_retries().desk("mc-yen-bai", "url", desk.url()));
    let mut codes = BTreeSet::new();
    for i in 0..20 {
        codes.insert(gw.submit_portal(&format!("DVC-KILL-{i}"), "04252").await);
    }
    eventually(10, "delivery attempts under way", || async { (desk.received().len() >= 5).then_some(()) }).await;
    gw.kill();
    let before_restart = desk.received().len();
    desk.script(Arc::new(|_: &[Received]| StatusCode::CREATED.into_response()));
    gw.restart();
    let delivered = eventually(30, "every dossier delivered after the restart", || async {
        let ok: BTreeSet<String> =
            desk.received()[before_restart..].iter().filter_map(|r| r.header("idempotency-key")).collect();
        codes.is_subset(&ok).then_some(ok)
    })
    .await;
    assert!(codes.is_subset(&delivered));
    eventually(10, "the queue drained", || async {
        (queue_of(&gw, "desk:mc-yen-bai").await["depth"] == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_desk_leases_acknowledges_and_sees_only_its_own() {
    let gw = Gateway::start(TestConfig::sample().set("retry.pull_visibility_secs", 2));
    let first = gw.submit_portal("DVC-PULL-1", "04606").await;
    let second = gw.submit_portal("DVC-PULL-2", "04600").await; // the former Xã Trạm Tấu
    let elsewhere = gw.submit_portal("DVC-PULL-OTHER", "04609").await;

    let (status, inbox) = gw.get_json("/v1/desk/inbox?max=1", "mc-tram-tau-dev").await;
    assert_eq!(status, 200);
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "dossier");
    assert_eq!(items[0]["code"], first.as_str());
    assert_eq!(items[0]["dossier"]["code"], first.as_str());
    assert!(inbox["lease_expires_at"].as_str().unwrap().ends_with("+07:00"));

    // The rest of the inbox; the leased item is not offered again while leased.
    let (_, inbox) = gw.get_json("/v1/desk/inbox?max=10", "mc-tram-tau-dev").await;
    let codes: Vec<&str> = inbox["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [second.as_str()], "only this desk's dossiers, and not the leased one");

    // Acknowledge the first; let the second's lease expire: it comes back.
    let (status, _) = gw.post_json(&format!("/v1/desk/inbox/{first}/ack"), "mc-tram-tau-dev", &json!({})).await;
    assert_eq!(status, 200);
    let (status, again) = gw.post_json(&format!("/v1/desk/inbox/{first}/ack"), "mc-tram-tau-dev", &json!({})).await;
    assert_eq!((status, &again["repeated"]), (200, &json!(true)), "a second ack changes nothing");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, inbox) = gw.get_json("/v1/desk/inbox?max=10", "mc-tram-tau-dev").await;
    let codes: Vec<&str> = inbox["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [second.as_str()], "the expired lease came back; the acknowledged one did not");

    // Another desk cannot acknowledge or read this desk's dossiers.
    let (status, _) = gw.post_json(&format!("/v1/desk/inbox/{second}/ack"), "mc-phinh-ho-dev", &json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = gw.get_json(&format!("/v1/dossiers/{second}"), "mc-phinh-ho-dev").await;
    assert_eq!(status, 404);
    let (_, other_inbox) = gw.get_json("/v1/desk/inbox", "mc-phinh-ho-dev").await;
    let other: Vec<&str> =
        other_inbox["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(other, [elsewhere.as_str()]);
    // A push desk has no inbox.
    let (status, _) = gw.get_json("/v1/desk/inbox", "mc-yen-bai-dev").await;
    assert_eq!(status, 409);
    // The admin queue shows the pull desk's depth and leases.
    let q = queue_of(&gw, "desk:mc-tram-tau").await;
    assert_eq!((q["mode"].as_str(), q["depth"].as_u64(), q["in_flight"].as_u64()), (Some("pull"), Some(1), Some(1)));
}

#[tokio::test(flavor = "multi_thread")]
async fn retired_units_route_to_successors_and_forward_hands_over() {
    let province = Peer::answering(StatusCode::CREATED).await;
    let yen_bai = Peer::answering(StatusCode::CREATED).await;
    let gw = Gateway::start(TestConfig::fast_retries().desk("hcc-tinh", "url", province.url()).desk(
        "mc-yen-bai",
        "url",
        yen_bai.url(),
    ));

    let route_of = |created: &Value| -> Vec<String> {
        created["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["details"]["route"]["step"].as_str())
            .map(str::to_owned)
            .collect()
    };
    let notes = |created: &Value| -> Vec<String> {
        created["history"].as_array().unwrap().iter().filter_map(|h| h["note"].as_str()).map(str::to_owned).collect()
    };
    let submit = |id: &'static str, unit: &'static str, commune: &'static str| {
        let gw = &gw;
        async move {
            let mut body = motcua_tests::samples::portal(id);
            body["MaDonViNhan"] = unit.into();
            body["ChuHoSo"]["DiaChi"]["MaXa"] = commune.into();
            let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
            assert_eq!(status, 201, "{id}: {created}");
            created
        }
    };

    // Former district 139 (Huyện Trạm Tấu) from an applicant of its former commune
    // 04612 (Xã Bản Công, now part of Xã Hạnh Phúc, which has no desk of its own):
    // the provincial centre's desk serves it.
    let created = submit("DVC-ROUTE-1", "139", "04612").await;
    assert_eq!((created["target_unit"].as_str(), created["desk"].as_str()), (Some("04585"), Some("hcc-tinh")));
    assert_eq!(route_of(&created), ["applicant_commune", "desk_fallback"]);
    assert!(
        notes(&created).iter().any(|n| n == "Huyện Trạm Tấu (mã 139) không còn từ ngày 01/07/2025; hồ sơ do xã Hạnh Phúc (mã 04585), nơi người nộp cư trú, tiếp nhận"),
        "{:?}",
        notes(&created)
    );
    let code = created["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("000.00.01.H38-"), "coded with the receiving desk's agency: {code}");
    eventually(10, "the provincial centre receives it", || async { (province.received().len() == 1).then_some(()) })
        .await;

    // The same district from an applicant elsewhere: the district's own successor.
    let created = submit("DVC-ROUTE-2", "139", "04252").await;
    assert_eq!((created["target_unit"].as_str(), created["desk"].as_str()), (Some("04606"), Some("mc-tram-tau")));
    assert_eq!(route_of(&created), ["succession"]);

    // 04600 was Xã Trạm Tấu until 30/06/2025; today's Xã Trạm Tấu is 04606.
    let created = submit("DVC-ROUTE-3", "04600", "04600").await;
    assert_eq!((created["target_unit"].as_str(), created["desk"].as_str()), (Some("04606"), Some("mc-tram-tau")));
    assert!(notes(&created).iter().any(|n| n == "Mã đơn vị 04600 là xã Trạm Tấu đến hết ngày 30/06/2025; từ ngày 01/07/2025, xã Trạm Tấu (mã 04606) kế thừa"), "{:?}", notes(&created));

    // 04585 names Xã Hạnh Phúc now (it was Thị trấn Trạm Tấu): no succession, but said.
    let created = submit("DVC-ROUTE-4", "04585", "04585").await;
    assert_eq!((created["target_unit"].as_str(), created["desk"].as_str()), (Some("04585"), Some("hcc-tinh")));
    assert_eq!(route_of(&created), ["code_reused", "desk_fallback"]);
    assert!(notes(&created).iter().any(
        |n| n == "Mã đơn vị 04585 đến hết ngày 30/06/2025 là thị trấn Trạm Tấu; từ ngày 01/07/2025 là xã Hạnh Phúc"
    ));

    // 04606 today is Xã Trạm Tấu itself (it was Xã Pá Hu), and a commune of the former
    // Lào Cai province (02665, Xã Vạn Hoà) goes to the ward that absorbed it (Phường
    // Lào Cai, 02647).
    let created = submit("DVC-ROUTE-5", "04606", "04606").await;
    assert_eq!((created["target_unit"].as_str(), created["desk"].as_str()), (Some("04606"), Some("mc-tram-tau")));
    assert_eq!(route_of(&created), ["code_reused"]);
    assert!(
        notes(&created)
            .iter()
            .any(|n| n == "Mã đơn vị 04606 đến hết ngày 30/06/2025 là xã Pá Hu; từ ngày 01/07/2025 là xã Trạm Tấu")
    );
    let created = submit("DVC-ROUTE-6", "02665", "02665").await;
    assert_eq!((created["target_unit"].as_str(), created["desk"].as_str()), (Some("02647"), Some("hcc-tinh")));
    assert_eq!(route_of(&created), ["succession", "desk_fallback"]);

    // The provincial centre receives the first dossier and hands it over to Yên Bái.
    let event = |id: &str, kind: &str| json!({"event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string()});
    assert_eq!(
        gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "hcc-tinh-dev", &event("e1", "received")).await.0,
        200
    );
    let mut forward = event("e2", "forward");
    forward["unit"] = "04252".into();
    let (status, forwarded) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "hcc-tinh-dev", &forward).await;
    assert_eq!(status, 200, "{forwarded}");
    assert_eq!(forwarded["desk"], "mc-yen-bai");
    assert_eq!(forwarded["target_unit"], "04252");
    eventually(10, "the new desk receives it", || async { (yen_bai.received().len() == 1).then_some(()) }).await;
    assert_eq!(yen_bai.received()[0].json()["code"], code.as_str());
    // The first desk lost access; the new one has it.
    assert_eq!(gw.get_json(&format!("/v1/dossiers/{code}"), "hcc-tinh-dev").await.0, 404);
    assert_eq!(gw.get_json(&format!("/v1/dossiers/{code}"), "mc-yen-bai-dev").await.0, 200);
    let (status, _) =
        gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "hcc-tinh-dev", &event("e3", "processing")).await;
    assert_eq!(status, 404);
    // The log book of its new unit lists it, though another desk's agency coded it;
    // the unit it left does not.
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    let book = |unit: &'static str| {
        let gw = &gw;
        async move {
            let url = gw.url(&format!("/v1/logbook?unit={unit}&from={today}&to={today}"));
            let answer =
                gw.http.get(url).bearer_auth(motcua_tests::tokens::token("admin-dev")).header("accept", "text/csv");
            answer.send().await.unwrap().text().await.unwrap()
        }
    };
    assert!(book("04252").await.contains(code.as_str()), "forwarded to Yên Bái");
    assert!(!book("04585").await.contains(code.as_str()), "no longer the provincial centre's own");
}
