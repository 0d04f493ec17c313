//! Intake through both channels against the real binary over HTTPS: acceptance,
//! read-back, normalization, idempotency and every refusal the contract names for
//! bodies.

use motcua_tests::{
    Gateway, TestConfig,
    samples::{portal, postal, s10, xml_text},
    tokens::token,
};
use reqwest::StatusCode;
use serde_json::Value;

async fn post_portal(gw: &Gateway, body: &Value) -> reqwest::Response {
    gw.http.post(gw.url("/v1/portal/dossiers")).bearer_auth(token("portal-dev")).json(body).send().await.unwrap()
}

async fn post_postal(gw: &Gateway, xml: &str) -> reqwest::Response {
    gw.http
        .post(gw.url("/v1/postal/dossiers"))
        .bearer_auth(token("postal-dev"))
        .header("content-type", "application/xml")
        .body(xml.to_owned())
        .send()
        .await
        .unwrap()
}

async fn get_dossier(gw: &Gateway, code: &str, client: &str) -> reqwest::Response {
    gw.http.get(gw.url(&format!("/v1/dossiers/{code}"))).bearer_auth(token(client)).send().await.unwrap()
}

fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_dossier_is_accepted_and_reads_back_normalized() {
    let gw = Gateway::start(TestConfig::sample());
    let mut body = portal("DVC-E2E-0001");
    // Decomposed Vietnamese and the international phone form.
    body["ChuHoSo"]["HoTen"] = "Gia\u{300}ng A Sư\u{309}".into();
    body["ChuHoSo"]["SoDienThoai"] = "+84 912 345 678".into();
    let response = post_portal(&gw, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/dossiers/{code}"));
    assert!(code.starts_with("000.07.20.H38-"), "the receiving desk's agency code: {code}");
    assert_eq!(created["status"], 1);
    assert_eq!(created["status_name"], "Mới đăng ký");
    assert_eq!(created["receipt"]["code"], code.as_str());
    assert_eq!(created["receipt"]["desk"], "Bộ phận Một cửa xã Trạm Tấu");

    let stored: Value = get_dossier(&gw, &code, "admin-dev").await.json().await.unwrap();
    assert_eq!(stored["applicant"]["name"], "Giàng A Sử", "stored in NFC");
    assert_eq!(stored["applicant"]["phone"], "0912345678", "stored in the national form");
    assert_eq!(stored["applicant"]["id_number"], "015090001234");
    assert_eq!(stored["channel"], "portal");
    assert_eq!(stored["level"], 4);
    assert_eq!(stored["external_ref"], "DVC-E2E-0001");
    assert_eq!(stored["procedure"]["code"], "1.001193");
    assert_eq!(stored["requested_unit"], "04606");
    assert_eq!(stored["target_unit"], "04606");
    assert_eq!(stored["desk"], "mc-tram-tau");
    assert_eq!(stored["documents"][0]["url"], "https://portal.example.vn/f/abc");
    assert_eq!(stored["fees"][0]["amount"], 8000);
    assert_eq!(stored["return_method"], "post");
    assert_eq!(stored["return_address"]["recipient"], "Giàng A Sử");
    assert_eq!(stored["submitted_at"], "2026-11-25T09:30:00+07:00");
    assert_eq!(stored["due_at"], stored["appointment_at"]);
    let history = stored["history"].as_array().unwrap();
    assert_eq!(history[0]["type"], "intake");
    assert_eq!(history[1]["details"]["route"]["step"], "code_reused", "the code named Xã Pá Hu before the reform");
    assert_eq!(
        history[1]["note"],
        "Mã đơn vị 04606 đến hết ngày 30/06/2025 là xã Pá Hu; từ ngày 01/07/2025 là xã Trạm Tấu"
    );
    assert_eq!(stored["code"], created["code"]);

    // A trader's landline (11 digits, an area code since 2017) is a phone number too;
    // an 11-digit number that is not a landline is not.
    let mut landline = portal("DVC-E2E-0002");
    landline["ChuHoSo"]["SoDienThoai"] = "0216 385 2222".into();
    let response = post_portal(&gw, &landline).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let code = response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let stored: Value = get_dossier(&gw, &code, "admin-dev").await.json().await.unwrap();
    assert_eq!(stored["applicant"]["phone"], "02163852222");
    let mut wrong = portal("DVC-E2E-0003");
    wrong["ChuHoSo"]["SoDienThoai"] = "09163852222".into();
    assert_eq!(post_portal(&gw, &wrong).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postal_dossier_is_accepted_with_an_xml_reply() {
    let gw = Gateway::start(TestConfig::sample());
    let item = s10("EE", 1001);
    let response = post_postal(&gw, &postal(&item)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<KetQuaTiepNhan xmlns=\"urn:motcua:postal:v1\">"), "{xml}");
    let code = xml_text(&xml, "MaHoSo").unwrap();
    assert_eq!(xml_text(&xml, "TrangThai").as_deref(), Some("1"));
    let stored: Value = get_dossier(&gw, &code, "admin-dev").await.json().await.unwrap();
    assert_eq!(stored["channel"], "postal");
    assert_eq!(stored["external_ref"], item.as_str());
    assert_eq!(stored["postal"]["inbound_item"], item.as_str());
    assert_eq!(stored["return_method"], "post", "the service includes the return of the result");
    assert_eq!(stored["return_address"]["recipient"], "Giàng A Sử");
    assert_eq!(xml_text(&xml, "NgayHenTra").as_deref(), stored["appointment_at"].as_str());

    // The same shipment again: 200 with the same dossier.
    let again = post_postal(&gw, &postal(&item)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(xml_text(&again.text().await.unwrap(), "MaHoSo"), Some(code));
}

#[tokio::test(flavor = "multi_thread")]
async fn repeats_are_idempotent_and_conflicts_are_409() {
    let gw = Gateway::start(TestConfig::sample());
    let body = portal("DVC-E2E-IDEM");
    let first: Value = post_portal(&gw, &body).await.json().await.unwrap();

    // The same content, differently written (key order, NFD, phone form): a repeat.
    let mut same = body.clone();
    same["ChuHoSo"]["HoTen"] = "Gia\u{300}ng A Sư\u{309}".into();
    same["ChuHoSo"]["SoDienThoai"] = "+84912345678".into();
    let repeat = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(token("portal-dev"))
        .header("idempotency-key", "DVC-E2E-IDEM")
        .json(&same)
        .send()
        .await
        .unwrap();
    assert_eq!(repeat.status(), StatusCode::OK);
    assert_eq!(repeat.json::<Value>().await.unwrap()["code"], first["code"]);

    let mut different = body.clone();
    different["TenTTHC"] = "Một thủ tục khác".into();
    let conflict = post_portal(&gw, &different).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(conflict.headers()["content-type"], "application/problem+json");
    let problem: Value = conflict.json().await.unwrap();
    assert_eq!(problem["type"], "urn:motcua:problem:conflict");

    // A portal-assigned code already in use is a conflict too.
    let mut taken = portal("DVC-E2E-IDEM-2");
    taken["MaHoSo"] = first["code"].clone();
    assert_eq!(post_portal(&gw, &taken).await.status(), StatusCode::CONFLICT);

    // An Idempotency-Key that differs from MaHoSoCongDVC is refused.
    let mismatch = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(token("portal-dev"))
        .header("idempotency-key", "something-else")
        .json(&portal("DVC-E2E-IDEM-3"))
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_preferring_return_minimal_gets_the_code_status_and_times_only() {
    let gw = Gateway::start(TestConfig::sample());
    let body = portal("DVC-E2E-MINIMAL");
    let send = |prefer: &'static str| {
        gw.http
            .post(gw.url("/v1/portal/dossiers"))
            .bearer_auth(token("portal-dev"))
            .header("prefer", prefer)
            .json(&body)
            .send()
    };
    // Case, quoting, parameters and other preferences around it, as RFC 7240 allows.
    let created = send("respond-async, Return = \"MINIMAL\"; foo=bar").await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["preference-applied"], "return=minimal");
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let minimal: Value = created.json().await.unwrap();
    let fields: Vec<&str> = minimal.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["appointment_at", "code", "due_at", "status", "status_name"]);
    let code = minimal["code"].as_str().unwrap();
    assert_eq!(location, format!("/v1/dossiers/{code}"));
    motcua_tests::openapi::check_json("/v1/portal/dossiers", "post", 201, &minimal);

    // The dossier itself is all there, and agrees with the short answer.
    let stored: Value = get_dossier(&gw, code, "admin-dev").await.json().await.unwrap();
    for field in ["status", "status_name", "due_at", "appointment_at"] {
        assert_eq!(stored[field], minimal[field], "{field}");
    }
    assert_eq!(stored["applicant"]["id_number"], "015090001234");

    // A repeat answers minimally too; any other preference gets the whole dossier.
    let repeat = send("return=minimal").await.unwrap();
    assert_eq!(repeat.status(), StatusCode::OK);
    assert_eq!(repeat.json::<Value>().await.unwrap(), minimal);
    let whole = send("return=representation").await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert!(whole.headers().get("preference-applied").is_none());
    let whole: Value = whole.json().await.unwrap();
    assert_eq!(whole["receipt"]["code"], code);
    assert_eq!(whole["applicant"]["id_number"], "015090001234");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_content_is_422_with_pointers_and_paths() {
    let gw = Gateway::start(TestConfig::sample());
    let mut body = portal("DVC-E2E-BAD");
    body["MaTTHC"] = "9.999999".into();
    body["MaDonViNhan"] = "99999".into();
    body["ChuHoSo"]["DinhDanh"]["SoDinhDanh"] = "12345".into();
    body["LePhi"][0]["DaThanhToan"] = false.into();
    let response = post_portal(&gw, &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "urn:motcua:problem:invalid");
    assert_eq!(pointers(&problem), ["/ChuHoSo/DinhDanh/SoDinhDanh", "/LePhi/0/DaThanhToan"]);

    // Format is right now; the configuration refuses procedure and unit, together.
    let mut unknown = portal("DVC-E2E-BAD-2");
    unknown["MaTTHC"] = "9.999999".into();
    unknown["MaDonViNhan"] = "99999".into();
    let problem: Value = post_portal(&gw, &unknown).await.json().await.unwrap();
    assert_eq!(pointers(&problem), ["/MaTTHC", "/MaDonViNhan"]);

    // A postal dossier with a wrong S10 check digit.
    let response = post_postal(&gw, &postal("EE123456784VN")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<Loi xmlns=\"urn:motcua:postal:v1\"><Ma>invalid</Ma>"), "{xml}");
    assert!(xml.contains("<ChiTiet path=\"/BuuGuiHoSo/ItemCode\">"), "{xml}");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_oversized_and_mistyped_bodies_are_refused() {
    let gw = Gateway::start(TestConfig::sample().set("limits.body_bytes", 4096));
    let portal_url = gw.url("/v1/portal/dossiers");
    let send = |body: Vec<u8>, content_type: &str| {
        gw.http
            .post(&portal_url)
            .bearer_auth(token("portal-dev"))
            .header("content-type", content_type.to_owned())
            .body(body)
            .send()
    };

    let syntax = send(b"{\"MaHoSoCongDVC\": ".to_vec(), "application/json").await.unwrap();
    assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
    assert_eq!(syntax.headers()["content-type"], "application/problem+json");

    let big = vec![b' '; 5000];
    assert_eq!(send(big.clone(), "application/json").await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Without Content-Length (chunked), the limit still holds.
    let stream = futures_body(big);
    let chunked = gw
        .http
        .post(&portal_url)
        .bearer_auth(token("portal-dev"))
        .header("content-type", "application/json")
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let wrong_type = send(serde_json::to_vec(&portal("DVC-E2E-415")).unwrap(), "text/plain").await.unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // XML with a DOCTYPE: 400 in the postal namespace, and nothing stored.
    let doctype = postal(&s10("EE", 77))
        .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<!DOCTYPE BuuGuiHoSo [<!ENTITY x \"y\">]>");
    let response = post_postal(&gw, &doctype).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<Ma>malformed</Ma>") && xml.contains("DOCTYPE"), "{xml}");
    assert_eq!(
        post_postal(&gw, &postal(&s10("EE", 77))).await.status(),
        StatusCode::CREATED,
        "the refused body left nothing behind"
    );
}

/// A body sent with chunked transfer encoding (no Content-Length).
fn futures_body(bytes: Vec<u8>) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(1000).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test(flavor = "multi_thread")]
async fn request_ids_are_echoed_and_keys_published() {
    let gw = Gateway::start(TestConfig::sample());
    let response = gw.http.get(gw.url("/healthz")).header("x-request-id", "trace-123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123");
    let generated = gw.http.get(gw.url("/readyz")).send().await.unwrap();
    assert!(!generated.headers()["x-request-id"].is_empty());
    let jwks: Value = gw.http.get(gw.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "motcua-dev-2026");
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    let admin: Value = reqwest::get(gw.admin_url("/healthz")).await.unwrap().json().await.unwrap();
    assert_eq!(admin["status"], "ok");
}
