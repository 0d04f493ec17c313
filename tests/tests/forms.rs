//! The forms of Circular 03/2025 (Annex I) against the real binary: 01 to 06 issued
//! when their events happen, for a dossier of each channel, in official Vietnamese,
//! each kept with its number and SHA-256; a receipt that reads the same before and
//! after an apology; and the 07 log book as HTML and CSV.

use motcua_tests::{Gateway, TestConfig, samples};
use serde_json::{Value, json};

fn event(id: &str, kind: &str) -> Value {
    json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() })
}

async fn post_event(gw: &Gateway, code: &str, desk: &str, body: &Value) {
    let (status, answer) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), desk, body).await;
    assert_eq!(status, 200, "{body}: {answer}");
}

async fn text(gw: &Gateway, path: &str, accept: &str) -> (u16, String) {
    let response = gw
        .http
        .get(gw.url(path))
        .bearer_auth(motcua_tests::tokens::token("admin-dev"))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn forms_of(gw: &Gateway, code: &str) -> Vec<Value> {
    let (status, list) = gw.get_json(&format!("/v1/dossiers/{code}/documents"), "admin-dev").await;
    assert_eq!(status, 200, "{list}");
    list["documents"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_dossier_gets_its_forms_and_its_receipt_never_changes() {
    let gw = Gateway::start(TestConfig::sample());
    let code = gw.submit_portal("DVC-FORMS-1", "04606").await; // Xã Trạm Tấu, level 4
    let (status, receipt) = text(&gw, &format!("/v1/dossiers/{code}/receipt"), "text/plain").await;
    assert_eq!(status, 200, "{receipt}");
    for expected in [
        "ỦY BAN NHÂN DÂN XÃ TRẠM TẤU",
        "BỘ PHẬN MỘT CỬA XÃ TRẠM TẤU",
        "Trạm Tấu, ngày ",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        &format!("Số: {code}"),
        "Bộ phận Một cửa xã Trạm Tấu tiếp nhận hồ sơ của: Ông/Bà Giàng A Sử",
        "Địa chỉ: Bản Km 21, xã Trạm Tấu, tỉnh Lào Cai",
        "Thư điện tử: a.su@example.vn",
        "- Tờ khai đăng ký khai sinh",
        "Hình thức nộp hồ sơ: trực tuyến toàn trình qua Cổng Dịch vụ công.",
        "Mẫu 01 — Phụ lục I, Thông tư số 03/2025/TT-VPCP",
    ] {
        assert!(receipt.contains(expected), "{expected:?} missing from:\n{receipt}");
    }
    assert!(!receipt.contains("to-khai.pdf"), "document names, not file names");
    assert!(!receipt.contains("NGƯỜI NỘP HỒ SƠ"), "no wet signature for a fully online dossier");
    let (_, html) = text(&gw, &format!("/v1/dossiers/{code}/receipt"), "text/html").await;
    assert!(html.contains("@page { size: A4;") && html.contains("<h1>GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ</h1>"));
    let before = forms_of(&gw, &code).await;
    assert_eq!(before.len(), 1);
    assert_eq!((before[0]["form"].as_str(), before[0]["number"].as_str()), (Some("01"), Some(code.as_str())));

    // The desk works the dossier: a supplement request (02), an apology with a new
    // appointment (04), the result (06).
    let desk = "mc-tram-tau-dev";
    post_event(&gw, &code, desk, &event("f1", "received")).await;
    let mut supplement = event("f2", "supplement_requested");
    supplement["items"] = json!(["Bản sao Giấy chứng sinh có chứng thực"]);
    post_event(&gw, &code, desk, &supplement).await;
    post_event(&gw, &code, desk, &event("f3", "supplement_received")).await;
    let mut apology = event("f4", "apology");
    apology["reason"] = "Cần xác minh thông tin nơi sinh".into();
    apology["new_appointment"] = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(72)).to_string().into();
    post_event(&gw, &code, desk, &apology).await;
    let mut ready = event("f5", "result_ready");
    ready["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
    ready["return_method"] = "online".into();
    post_event(&gw, &code, desk, &ready).await;

    let after = forms_of(&gw, &code).await;
    let kinds: Vec<&str> = after.iter().map(|d| d["form"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["01", "02", "04", "06"]);
    assert_eq!(after[0], before[0], "the receipt's number and SHA-256 are as issued");
    let (_, receipt_after) = text(&gw, &format!("/v1/dossiers/{code}/receipt"), "text/plain").await;
    assert_eq!(receipt_after, receipt, "the receipt reads the same after the apology");
    let hashes: std::collections::BTreeSet<&str> = after.iter().map(|d| d["sha256"].as_str().unwrap()).collect();
    assert_eq!(hashes.len(), 4);

    let (_, supplement) = text(&gw, &format!("/v1/dossiers/{code}/documents/2"), "text/plain").await;
    assert!(supplement.contains("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"), "{supplement}");
    assert!(
        supplement.contains(&format!("Số: {code}/YCBS-1"))
            && supplement.contains("- Bản sao Giấy chứng sinh có chứng thực")
    );
    assert!(supplement.contains("Kính gửi: Ông/Bà Giàng A Sử"));
    let (_, letter) = text(&gw, &format!("/v1/dossiers/{code}/apology"), "text/plain").await;
    for expected in [
        "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
        "Ủy ban nhân dân xã Trạm Tấu xin lỗi Ông/Bà",
        "Lý do: Cần xác minh thông tin nơi sinh",
        "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
    ] {
        assert!(letter.contains(expected), "{expected:?} missing from:\n{letter}");
    }
    let (_, slip) = text(&gw, &format!("/v1/dossiers/{code}/documents/4"), "text/plain").await;
    assert!(
        slip.contains("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ") && slip.contains("Cổng Dịch vụ công |"),
        "{slip}"
    );
    assert_eq!(text(&gw, &format!("/v1/dossiers/{code}/documents/9"), "text/plain").await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn postal_dossiers_get_a_signed_receipt_and_their_refusal_or_stop() {
    let gw = Gateway::start(TestConfig::sample());
    let mut codes = Vec::new();
    for serial in [7001, 7002] {
        let (status, reply) =
            gw.post_xml("/v1/postal/dossiers", "postal-dev", samples::postal(&samples::s10("EE", serial))).await;
        assert_eq!(status, 201, "{reply}");
        codes.push(samples::xml_text(&reply, "MaHoSo").unwrap());
    }
    let (_, receipt) = text(&gw, &format!("/v1/dossiers/{}/receipt", codes[0]), "text/plain").await;
    assert!(receipt.contains("qua dịch vụ bưu chính công ích") && receipt.contains("NGƯỜI NỘP HỒ SƠ"), "{receipt}");
    let mut refused = event("p1", "refused");
    refused["reason"] = "Hồ sơ không thuộc thẩm quyền giải quyết của xã".into();
    post_event(&gw, &codes[0], "mc-tram-tau-dev", &refused).await;
    let mut stopped = event("p2", "stopped");
    stopped["reason"] = "Người nộp đề nghị dừng giải quyết".into();
    post_event(&gw, &codes[1], "mc-tram-tau-dev", &stopped).await;
    let (_, refusal) = text(&gw, &format!("/v1/dossiers/{}/documents/2", codes[0]), "text/plain").await;
    assert!(
        refusal.contains("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ")
            && refusal.contains("Hồ sơ không thuộc thẩm quyền"),
        "{refusal}"
    );
    let (_, stop) = text(&gw, &format!("/v1/dossiers/{}/documents/2", codes[1]), "text/plain").await;
    assert!(
        stop.contains("THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ") && stop.contains("Ủy ban nhân dân xã Trạm Tấu thông báo"),
        "{stop}"
    );

    // Mẫu 07 for the province today: both dossiers, as CSV and on screen.
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    let path = format!("/v1/logbook?unit=15&from={today}&to={today}");
    let (status, csv) = text(&gw, &path, "text/csv").await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("\u{feff}STT,Mã hồ sơ,Tên thủ tục hành chính"), "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines.iter().any(|l| l.contains(&codes[0]) && l.contains("Từ chối tiếp nhận")), "{csv}");
    let (_, html) = text(&gw, &path, "text/html").await;
    assert!(html.contains("SỔ THEO DÕI HỒ SƠ") && html.contains(&codes[1]), "{html}");
    // A desk may not read another unit's log book.
    let (status, _) = gw.get_json(&format!("/v1/logbook?unit=04252&from={today}&to={today}"), "mc-tram-tau-dev").await;
    assert_eq!(status, 403);
}

/// Every form of 01–06 for a dossier of each channel: a portal and a postal dossier
/// through supplement, apology and result; another of each refused; another stopped.
#[tokio::test(flavor = "multi_thread")]
async fn every_form_is_issued_for_a_dossier_of_each_channel() {
    let gw = Gateway::start(TestConfig::sample());
    let desk = "mc-tram-tau-dev";
    let mut serial = 7100;
    let mut new_dossier = |channel: &'static str| {
        serial += 1;
        let gw = &gw;
        let serial = serial;
        async move {
            if channel == "portal" {
                gw.submit_portal(&format!("DVC-ALL-{serial}"), "04606").await
            } else {
                let (status, reply) = gw
                    .post_xml("/v1/postal/dossiers", "postal-dev", samples::postal(&samples::s10("EE", serial)))
                    .await;
                assert_eq!(status, 201, "{reply}");
                samples::xml_text(&reply, "MaHoSo").unwrap()
            }
        }
    };
    for channel in ["portal", "postal"] {
        let worked = new_dossier(channel).await;
        post_event(&gw, &worked, desk, &event("w1", "received")).await;
        let mut supplement = event("w2", "supplement_requested");
        supplement["items"] = json!(["Tờ khai có chữ ký"]);
        post_event(&gw, &worked, desk, &supplement).await;
        post_event(&gw, &worked, desk, &event("w3", "supplement_received")).await;
        let mut apology = event("w4", "apology");
        apology["reason"] = "Chờ kết quả xác minh".into();
        apology["new_appointment"] = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48)).to_string().into();
        post_event(&gw, &worked, desk, &apology).await;
        let mut ready = event("w5", "result_ready");
        ready["result_documents"] = json!([{ "name": "Giấy khai sinh (bản chính)" }]);
        ready["return_method"] = "desk".into();
        post_event(&gw, &worked, desk, &ready).await;
        let refused = new_dossier(channel).await;
        let mut refusal = event("r1", "refused");
        refusal["reason"] = "Thiếu giấy tờ bắt buộc".into();
        post_event(&gw, &refused, desk, &refusal).await;
        let stopped = new_dossier(channel).await;
        let mut stop = event("s1", "stopped");
        stop["reason"] = "Người nộp đề nghị dừng".into();
        post_event(&gw, &stopped, desk, &stop).await;

        let mut forms = Vec::new();
        for code in [&worked, &refused, &stopped] {
            for (i, d) in forms_of(&gw, code).await.iter().enumerate() {
                let form = d["form"].as_str().unwrap().to_owned();
                for accept in ["text/plain", "text/html"] {
                    let (status, body) = text(&gw, &format!("/v1/dossiers/{code}/documents/{}", i + 1), accept).await;
                    assert_eq!(status, 200, "{channel} {form} {accept}");
                    assert!(
                        body.contains(d["title"].as_str().unwrap()) && body.contains("Thông tư số 03/2025/TT-VPCP")
                    );
                }
                forms.push(form);
            }
        }
        forms.sort();
        forms.dedup();
        assert_eq!(forms, ["01", "02", "03", "04", "05", "06"], "{channel}");
    }
}
