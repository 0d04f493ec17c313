//! The return path against the real binary and real peers on loopback: desk events
//! through the status machine, results by post with postal orders and delivery
//! events, status sync to the portal (also after the portal was down), the public
//! lookup, ratings and the Mẫu 01 receipt.

use std::{sync::Arc, time::Duration};

use axum::{http::StatusCode, response::IntoResponse};
use motcua_tests::{
    Gateway, TestConfig, eventually,
    peers::{Peer, Received, postal_service, status_calls},
    samples::{postal, s10, xml_text},
    tokens::token,
};
use serde_json::{Value, json};

fn event(id: &str, kind: &str) -> Value {
    json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() })
}

async fn post_event(gw: &Gateway, code: &str, desk: &str, body: &Value) -> (u16, Value) {
    gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), desk, body).await
}

fn delivery_event(item: &str, status: &str, at: &str) -> String {
    format!(
        "<SuKienBuuGui xmlns=\"urn:motcua:postal:v1\"><ItemCode>{item}</ItemCode><Status>{status}</Status><At>{at}</At><Note>Đã phát cho người nhận</Note></SuKienBuuGui>"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_level_4_dossier_with_its_result_by_post_reaches_status_10() {
    let desk = Peer::answering(StatusCode::CREATED).await;
    let portal = Peer::answering(StatusCode::OK).await;
    let post = Peer::start(postal_service()).await;
    let config =
        TestConfig::fast_retries().peers(Some(&portal.url()), Some(&post.url()), &[("mc-yen-bai", &desk.url())]);
    let gw = Gateway::start(config);
    let code = gw.submit_portal("DVC-RETURN-1", "04252").await;
    eventually(10, "the desk receives the dossier", || async { (!desk.received().is_empty()).then_some(()) }).await;

    for (id, kind) in [("r1", "received"), ("r2", "processing")] {
        assert_eq!(post_event(&gw, &code, "mc-yen-bai-dev", &event(id, kind)).await.0, 200, "{kind}");
    }
    let mut ready = event("r3", "result_ready");
    ready["result_documents"] =
        json!([{ "name": "Giấy khai sinh (bản chính)", "url": "https://mc-yen-bai.example.vn/kq/1" }]);
    let (status, after) = post_event(&gw, &code, "mc-yen-bai-dev", &ready).await;
    assert_eq!((status, after["status"].as_u64()), (200, Some(9)));

    // The postal order goes out through the outbox and its S10 code comes back.
    let order = eventually(10, "the postal order", || async {
        post.received().into_iter().find(|r| r.uri.path() == "/v1/orders")
    })
    .await;
    let xml = String::from_utf8(order.body.to_vec()).unwrap();
    assert_eq!(xml_text(&xml, "OrderCode").as_deref(), Some(code.as_str()));
    assert_eq!(xml_text(&xml, "Fullname").as_deref(), Some("Giàng A Sử"));
    assert_eq!(xml_text(&xml, "CodAmount").as_deref(), Some("0"));
    assert_eq!(order.header("idempotency-key").as_deref(), Some(code.as_str()));
    let item = eventually(10, "the return item stored", || async {
        let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        d["postal"]["return_item"].as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(item, s10("RR", 1));

    // The post delivers: status 10; the same event again changes nothing.
    // A shipment's event cannot precede the dossier it carries: refused, nothing changed.
    let early = delivery_event(&item, "DELIVERED", "2001-01-01T08:00:00+07:00");
    let (status, refused) = gw.post_xml("/v1/postal/events", "postal-dev", early).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("<Loi") && refused.contains("At"), "{refused}");
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    assert_eq!(dossier["status"], 9);
    // Delivered now.
    let now = motcua_schemas::time::format_rfc3339(jiff::Timestamp::now());
    let delivered = delivery_event(&item, "DELIVERED", &now);
    let (status, reply) = gw.post_xml("/v1/postal/events", "postal-dev", delivered.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(xml_text(&reply, "TrangThai").as_deref(), Some("10"));
    let (status, again) = gw.post_xml("/v1/postal/events", "postal-dev", delivered).await;
    assert_eq!((status, again), (200, reply));
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    assert_eq!(dossier["status"], 10);
    assert_eq!(dossier["postal"]["return_status"], "DELIVERED");
    assert_eq!(dossier["history"].as_array().unwrap().iter().filter(|h| h["type"] == "postal_delivered").count(), 1);

    // The portal heard of every status change, once each, in order.
    let calls = eventually(10, "four status calls", || async {
        let calls = status_calls(&portal);
        (calls.len() == 4).then_some(calls)
    })
    .await;
    let statuses: Vec<u64> = calls.iter().map(|(_, s, _)| *s).collect();
    assert_eq!(statuses, [2, 4, 9, 10]);
    let seqs: Vec<u32> = calls.iter().map(|(k, _, _)| k.rsplit(':').next().unwrap().parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let last = &calls[3].2;
    assert_eq!(last["MaHoSo"], code.as_str());
    assert_eq!(last["MaHoSoCongDVC"], "DVC-RETURN-1");
    assert_eq!(last["QuaHan"], false);
    assert_eq!(last["NgayTra"].as_str().map(str::len), Some(14), "yyyyMMddHHmmss");
    assert!(last["QuaTrinhXuLy"].as_array().unwrap().len() >= 4);
    assert_eq!(calls[2].2["KetQua"][0]["name"], "Giấy khai sinh (bản chính)");
    // An unknown shipment is refused in the postal namespace.
    let (status, unknown) =
        gw.post_xml("/v1/postal/events", "postal-dev", delivery_event(&s10("RR", 999), "DELIVERED", &now)).await;
    assert_eq!(status, 404);
    assert!(unknown.contains("<Loi"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postal_dossier_at_a_pull_desk_pauses_its_clock_for_a_supplement() {
    let gw = Gateway::start(TestConfig::sample().all_day());
    // Xác nhận tình trạng hôn nhân (3 working days, supplements resume the clock),
    // result collected at the desk.
    let xml =
        postal(&s10("EE", 5151)).replace("NHAN_HO_SO_VA_TRA_KET_QUA", "NHAN_HO_SO").replace("1.001193", "1.004873");
    let (status, reply) = gw.post_xml("/v1/postal/dossiers", "postal-dev", xml).await;
    assert_eq!(status, 201, "{reply}");
    let code = xml_text(&reply, "MaHoSo").unwrap();
    let (_, inbox) = gw.get_json("/v1/desk/inbox", "mc-tram-tau-dev").await;
    assert_eq!(inbox["items"][0]["code"], code.as_str());
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), "mc-tram-tau-dev", &json!({})).await.0, 200);

    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    let received: jiff::Timestamp = dossier["received_at"].as_str().unwrap().parse().unwrap();
    let due_before: jiff::Timestamp = dossier["due_at"].as_str().unwrap().parse().unwrap();
    let at = |secs: i64| (received + jiff::SignedDuration::from_secs(secs)).to_string();
    tokio::time::sleep(Duration::from_secs(4)).await;

    assert_eq!(
        post_event(&gw, &code, "mc-tram-tau-dev", &json!({"event_id": "p1", "type": "received", "at": at(1)})).await.0,
        200
    );
    let ask =
        json!({"event_id": "p2", "type": "supplement_requested", "at": at(2), "items": ["Bản sao giấy khai sinh"]});
    let (status, asked) = post_event(&gw, &code, "mc-tram-tau-dev", &ask).await;
    assert_eq!((status, asked["status"].as_u64()), (200, Some(5)));
    let got = json!({"event_id": "p3", "type": "supplement_received", "at": at(4)});
    let (_, resumed) = post_event(&gw, &code, "mc-tram-tau-dev", &got).await;
    assert_eq!(resumed["status"], 4);
    let due_after: jiff::Timestamp = resumed["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due_after.duration_since(due_before),
        jiff::SignedDuration::from_secs(2),
        "the clock stood still for the 2 s of the supplement"
    );
    assert_eq!(resumed["appointment_at"], resumed["due_at"]);

    let (_, ready) =
        post_event(&gw, &code, "mc-tram-tau-dev", &json!({"event_id": "p4", "type": "result_ready", "at": at(4)}))
            .await;
    assert_eq!((ready["status"].as_u64(), ready["return_method"].as_str()), (Some(9), Some("desk")));
    let (_, returned) =
        post_event(&gw, &code, "mc-tram-tau-dev", &json!({"event_id": "p5", "type": "returned_at_desk", "at": at(4)}))
            .await;
    assert_eq!(returned["status"], 10);
    assert_eq!(returned["status_name"], "Đã trả kết quả");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_finals_invalid_transitions_and_repeats() {
    let portal = Peer::start(Arc::new(|received: &[Received]| {
        // The portal is down for its first five calls.
        if received.len() <= 5 { StatusCode::BAD_GATEWAY.into_response() } else { StatusCode::OK.into_response() }
    }))
    .await;
    let gw = Gateway::start(TestConfig::fast_retries().peers(Some(&portal.url()), None, &[]));
    let refused = gw.submit_portal("DVC-FINAL-1", "04606").await;
    let withdrawn = gw.submit_portal("DVC-FINAL-2", "04606").await;
    let stopped = gw.submit_portal("DVC-FINAL-3", "04606").await;
    let desk = "mc-tram-tau-dev";

    // Not allowed from status 1: 409 with what is allowed.
    let (status, problem) = post_event(&gw, &refused, desk, &event("x1", "processing")).await;
    assert_eq!(status, 409);
    assert_eq!(problem["type"], "urn:motcua:problem:transition-not-allowed");
    assert_eq!(problem["allowed"], json!(["received", "refused", "withdrawn", "stopped", "explanation"]));
    // A refusal needs its reason.
    assert_eq!(post_event(&gw, &refused, desk, &event("x2", "refused")).await.0, 422);
    let mut refuse = event("x3", "refused");
    refuse["reason"] = "Hồ sơ không thuộc thẩm quyền".into();
    let (status, done) = post_event(&gw, &refused, desk, &refuse).await;
    assert_eq!((status, done["status"].as_u64()), (200, Some(3)));
    // The same event again: 200, nothing changes.
    let history_len = done["history"].as_array().unwrap().len();
    let (status, again) = post_event(&gw, &refused, desk, &refuse).await;
    assert_eq!((status, again["repeated"].as_bool()), (200, Some(true)));
    assert_eq!(again["history"].as_array().unwrap().len(), history_len);
    // The same event id for something else: 409.
    let mut reused = refuse.clone();
    reused["reason"] = "Lý do khác".into();
    assert_eq!(post_event(&gw, &refused, desk, &reused).await.0, 409);
    // A final status takes nothing but explanations.
    assert_eq!(post_event(&gw, &refused, desk, &event("x4", "received")).await.0, 409);
    let mut explain = event("x5", "explanation");
    explain["text"] = "Báo cáo giải trình".into();
    assert_eq!(post_event(&gw, &refused, desk, &explain).await.0, 200);

    assert_eq!(post_event(&gw, &withdrawn, desk, &event("w1", "received")).await.0, 200);
    let (_, w) = post_event(&gw, &withdrawn, desk, &event("w2", "withdrawn")).await;
    assert_eq!(w["status"], 7);
    let mut stop = event("s1", "stopped");
    stop["reason"] = "Người nộp không bổ sung hồ sơ".into();
    let (_, s) = post_event(&gw, &stopped, desk, &stop).await;
    assert_eq!(s["status"], 8);

    // The portal was down at first; every change still arrives, once, in order.
    let calls = eventually(20, "every status call after the portal recovered", || async {
        let calls = status_calls(&portal);
        (calls.len() == 4 && portal.received().len() > 5).then_some(calls)
    })
    .await;
    let by_dossier =
        |code: &str| calls.iter().filter(|(k, _, _)| k.starts_with(code)).map(|(_, s, _)| *s).collect::<Vec<_>>();
    assert_eq!(by_dossier(&refused), [3]);
    assert_eq!(by_dossier(&withdrawn), [2, 7]);
    assert_eq!(by_dossier(&stopped), [8]);
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_rating_and_receipt() {
    let gw = Gateway::start(TestConfig::sample());
    let code = gw.submit_portal("DVC-LOOKUP-1", "04606").await;
    let public = |query: String| {
        let http = gw.http.clone();
        let url = gw.url(&format!("/v1/public/lookup?{query}"));
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, found) = public(format!("code={code}&id_last4=1234")).await;
    assert_eq!(status, 200);
    let found: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found["status"], 1);
    assert_eq!(
        found.as_object().unwrap().keys().cloned().collect::<Vec<_>>(),
        ["appointment_at", "code", "received_at", "status", "status_name"]
    );
    let wrong = public(format!("code={code}&id_last4=9999")).await;
    let unknown = public("code=000.07.20.H38-261126-9999&id_last4=1234".to_owned()).await;
    let garbage = public("code=xyz&id_last4=1".to_owned()).await;
    assert_eq!(wrong.0, 404);
    assert_eq!(wrong, unknown, "a wrong pair looks exactly like an unknown code");
    assert_eq!(wrong, garbage);

    // A rating before the result is refused; after it, accepted once.
    let rating_path = format!("/v1/portal/dossiers/{code}/rating");
    let rate = |level: i64| {
        let (gw, path) = (&gw, rating_path.clone());
        async move { gw.post_json(&path, "portal-dev", &json!({ "level": level })).await }
    };
    assert_eq!(rate(3).await.0, 409);
    let desk = "mc-tram-tau-dev";
    for (id, kind) in [("l1", "received"), ("l2", "result_ready")] {
        assert_eq!(post_event(&gw, &code, desk, &event(id, kind)).await.0, 200);
    }
    assert_eq!(rate(5).await.0, 422);
    let (status, rated) = rate(3).await;
    assert_eq!((status, rated["rating"].as_u64()), (200, Some(3)));
    assert_eq!(rate(2).await.0, 409, "once only");
    assert_eq!(
        gw.post_json(&format!("/v1/portal/dossiers/{code}/rating"), "admin-dev", &json!({"level": 1})).await.0,
        403
    );

    // The Mẫu 01 receipt, in HTML and in plain text, with diacritics and Vietnam time.
    let html = gw
        .http
        .get(gw.url(&format!("/v1/dossiers/{code}/receipt")))
        .bearer_auth(token("portal-dev"))
        .send()
        .await
        .unwrap();
    assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = html.text().await.unwrap();
    assert!(html.contains("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"), "{html}");
    assert!(html.contains("Giàng A Sử") && html.contains("Bộ phận Một cửa xã Trạm Tấu") && html.contains(&code));
    let text = gw
        .http
        .get(gw.url(&format!("/v1/dossiers/{code}/receipt")))
        .bearer_auth(token("admin-dev"))
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    let appointment: jiff::Timestamp = dossier["appointment_at"].as_str().unwrap().parse().unwrap();
    let local = motcua_schemas::time::to_vn(appointment);
    let expected = format!(
        "5. Thời gian trả kết quả giải quyết hồ sơ: {:02} giờ {:02} phút, ngày {:02} tháng {:02} năm {}",
        local.hour(),
        local.minute(),
        local.day(),
        local.month(),
        local.year()
    );
    assert!(text.contains(&expected), "{expected}\n{text}");
    assert!(text.contains("Thủ tục đăng ký khai sinh") && !text.contains("<p>"));
    assert_eq!(gw.get_json(&format!("/v1/dossiers/{code}/receipt"), "mc-yen-bai-dev").await.0, 404);
}
