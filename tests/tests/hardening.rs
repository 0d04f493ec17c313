//! What attacks from outside broke (issue 12), each against the real binary: desk
//! events that read or backdate another desk's dossier, codes supplied by a peer,
//! the public lookup, lying text, and files other local users could read.

use motcua_tests::{Gateway, TestConfig};
use serde_json::{Value, json};

fn event_at(id: &str, kind: &str, at: jiff::Timestamp) -> Value {
    json!({ "event_id": id, "type": kind, "at": at.to_string() })
}

fn event(id: &str, kind: &str) -> Value {
    event_at(id, kind, jiff::Timestamp::now())
}

async fn post_event(gw: &Gateway, code: &str, desk: &str, body: &Value) -> (u16, Value) {
    gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), desk, body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desk_cannot_read_a_dossier_it_does_not_hold_by_replaying_an_event() {
    let gw = Gateway::start(TestConfig::sample());
    let code = gw.submit_portal("DVC-REPLAY-1", "04606").await; // mc-tram-tau
    let received = event("tt-1", "received");
    assert_eq!(post_event(&gw, &code, "mc-tram-tau-dev", &received).await.0, 200);

    // Another desk sends the same body, and a fresh one: both 404, neither with data.
    for body in [received.clone(), event("other-1", "received")] {
        let (status, answer) = post_event(&gw, &code, "mc-phinh-ho-dev", &body).await;
        assert_eq!(status, 404, "{answer}");
        assert!(answer.get("applicant").is_none() && answer.get("code").is_none(), "{answer}");
    }

    // The holder forwards the dossier away; replaying its own event then reads nothing.
    let mut forward = event("tt-2", "forward");
    forward["unit"] = "04609".into(); // mc-phinh-ho
    let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &forward).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &received).await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer.get("applicant").is_none(), "{answer}");
    // The new holder's events are its own.
    assert_eq!(post_event(&gw, &code, "mc-phinh-ho-dev", &event("ph-1", "processing")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn backdated_and_future_events_are_refused_and_late_reports_counted() {
    let gw = Gateway::start(TestConfig::sample().set("deadlines.report_tolerance_secs", 1));
    let code = gw.submit_portal("DVC-BACKDATE-1", "04606").await;
    let now = jiff::Timestamp::now();
    let ancient: jiff::Timestamp = "2001-01-01T08:00:00+07:00".parse::<jiff::Timestamp>().unwrap();
    let ahead = now + jiff::SignedDuration::from_hours(1);
    for (id, at) in [("old", ancient), ("ahead", ahead)] {
        let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &event_at(id, "received", at)).await;
        assert_eq!(status, 422, "{id}: {answer}");
        assert_eq!(answer["errors"][0]["pointer"], "/at", "{id}: {answer}");
    }
    assert_eq!(post_event(&gw, &code, "mc-tram-tau-dev", &event("r", "received")).await.0, 200);
    // Before the event just recorded: refused as well.
    let before = now - jiff::SignedDuration::from_mins(30);
    let (status, answer) = post_event(&gw, &code, "mc-tram-tau-dev", &event_at("p", "processing", before)).await;
    assert_eq!(status, 422, "{answer}");

    // A result reported at once is judged by the time the desk gives.
    let (status, dossier) = post_event(&gw, &code, "mc-tram-tau-dev", &result("done", jiff::Timestamp::now())).await;
    assert_eq!(status, 200, "{dossier}");
    let last = dossier["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["at"].is_string() && last["recorded_at"].is_string(), "{last}");

    // One reported well after the time it gives (the tolerance here is one second) is
    // judged by the time it arrived, and counted.
    let late = gw.submit_portal("DVC-BACKDATE-2", "04606").await;
    let (_, dossier) = post_event(&gw, &late, "mc-tram-tau-dev", &event("r2", "received")).await;
    let received_at: jiff::Timestamp =
        dossier["history"].as_array().unwrap().last().unwrap()["at"].as_str().unwrap().parse().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, dossier) = post_event(&gw, &late, "mc-tram-tau-dev", &result("done-2", received_at)).await;
    assert_eq!(status, 200, "{dossier}");
    let (_, stats) = gw.get_json("/v1/stats?unit=04606&from=2020-01-01&to=2099-12-31", "admin-dev").await;
    assert_eq!((stats["resolved"].as_u64(), stats["late_reports"].as_u64()), (Some(2), Some(1)), "{stats}");
}

fn result(id: &str, at: jiff::Timestamp) -> Value {
    let mut ready = event_at(id, "result_ready", at);
    ready["result_documents"] = json!([{ "name": "Giấy xác nhận", "url": "https://mc-tram-tau.example.vn/kq/1" }]);
    ready
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_supplied_code_never_blocks_the_agencys_own_codes() {
    let gw = Gateway::start(TestConfig::sample());
    let first = gw.submit_portal("DVC-CODE-1", "04606").await; // mc-tram-tau's agency
    let (agency, rest) = first.split_once('-').unwrap();
    let (day, seq) = rest.split_once('-').unwrap();
    let next = format!("{agency}-{day}-{:04}", seq.parse::<u32>().unwrap() + 1);
    let other_agency = format!("000.00.01.H38-{day}-{:04}", 1); // the centre's agency
    let weeks_ahead = {
        let date = jiff::civil::Date::strptime("%y%m%d", day).unwrap() + jiff::Span::new().days(21);
        format!("{agency}-{}-0001", date.strftime("%y%m%d"))
    };

    // Another agency's code and a code dated weeks ahead are refused with a pointer.
    for code in [&other_agency, &weeks_ahead] {
        let mut body = motcua_tests::samples::portal(&format!("DVC-CODE-{code}"));
        body["MaDonViNhan"] = "04606".into();
        body["MaHoSo"] = code.as_str().into();
        let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
        assert_eq!(status, 422, "{code}: {answer}");
        assert_eq!(answer["errors"][0]["pointer"], "/MaHoSo", "{answer}");
    }

    // The agency's own next number, taken by the portal, is stepped over.
    let mut body = motcua_tests::samples::portal("DVC-CODE-2");
    body["MaDonViNhan"] = "04606".into();
    body["MaHoSo"] = next.as_str().into();
    let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!((status, answer["code"].as_str()), (201, Some(next.as_str())), "{answer}");
    let third = gw.submit_portal("DVC-CODE-3", "04606").await;
    assert_eq!(third, format!("{agency}-{day}-{:04}", seq.parse::<u32>().unwrap() + 2));
}

/// Reads until the server closes the connection or `wait` passes; true if closed.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, wait: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut sink = Vec::new();
    tokio::time::timeout(wait, stream.read_to_end(&mut sink)).await.is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_connections_are_reaped_and_capped_per_address() {
    use std::time::{Duration, Instant};
    use tokio::io::AsyncWriteExt;
    let config = TestConfig::sample()
        .set("limits.max_connections", 16)
        .set("limits.max_connections_per_ip", 8)
        .set("limits.header_read_timeout_secs", 2)
        .set("limits.idle_timeout_secs", 3);
    let gw = Gateway::start(config);

    // Sixteen connections that finish the handshake and say nothing, half of them
    // after the HTTP/2 preface: with the cap of 8 per address the ninth and later are
    // closed at once, the first eight once the first-request deadline passes.
    let started = Instant::now();
    let mut silent = Vec::new();
    for i in 0..8 {
        let mut stream = gw.tls_connect(if i % 2 == 0 { b"h2" } else { b"http/1.1" }).await;
        if i % 2 == 0 {
            stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        }
        silent.push(stream);
    }
    let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let mut over_cap = tcp;
    assert!(closed_within(&mut over_cap, Duration::from_secs(1)).await, "the ninth connection is refused");
    for stream in &mut silent {
        assert!(closed_within(stream, Duration::from_secs(6)).await, "a silent connection is reaped");
    }
    assert!(started.elapsed() < Duration::from_secs(6), "reaped after {:?}", started.elapsed());
    // The slots are free again: a normal client is served.
    gw.submit_portal("DVC-SILENT-1", "04606").await;

    // A kept-alive connection with nothing in flight is closed after the idle time.
    let mut idle = gw.tls_connect(b"http/1.1").await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(8)).await, "an idle connection is closed");
    assert!(started.elapsed() >= Duration::from_secs(2), "not before the idle time: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_lookup_locks_a_code_after_too_many_wrong_answers() {
    let config = TestConfig::sample()
        .set("limits.lookup_wrong_answers", 5)
        .set("gateway.public_rate.per_second", 1000)
        .set("gateway.public_rate.burst", 1000);
    let gw = Gateway::start(config);
    let code = gw.submit_portal("DVC-LOOKUP-1", "04606").await;
    let id = motcua_tests::samples::portal("x")["ChuHoSo"]["DinhDanh"]["SoDinhDanh"].as_str().unwrap().to_owned();
    let right = id[id.len() - 4..].to_owned();
    let lookup = |code: String, last4: String| {
        let gw = &gw;
        async move {
            let response = gw
                .http
                .get(gw.url("/v1/public/lookup"))
                .query(&[("code", code.as_str()), ("id_last4", last4.as_str())])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    assert_eq!(lookup(code.clone(), right.clone()).await.0, 200);
    // Wrong digits and an unknown code answer alike.
    let unknown = code.replace("-0001", "-0999");
    let (a, b) = (lookup(code.clone(), "0000".into()).await, lookup(unknown.clone(), "0000".into()).await);
    assert_eq!((a.0, &a.1), (404, &b.1));
    for _ in 0..4 {
        assert_eq!(lookup(code.clone(), "1111".into()).await.0, 404);
    }
    // Five wrong answers: now even the right digits answer "not found".
    let (status, body) = lookup(code.clone(), right).await;
    assert_eq!((status, body), b);
}

/// Every directory 0700 and every file 0600 under `dir`, or the first that is not.
fn loose_permissions(dir: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        let wanted = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode & 0o077 != 0 || mode & wanted != wanted {
            return Some(format!("{} has mode {mode:o}", path.display()));
        }
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_directory_is_readable_by_the_gateways_user_only() {
    let gw = Gateway::start(TestConfig::sample());
    let mut body = motcua_tests::samples::portal("DVC-PERM-1");
    body["TaiLieuNop"][0] = json!({"TenTepDinhKem": "don.txt", "NoiDung": "aGVsbG8="});
    body["MaDonViNhan"] = "04606".into();
    assert_eq!(gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await.0, 201);
    let response =
        gw.http.post(gw.url("/v1/admin/backup")).bearer_auth(motcua_tests::tokens::token("admin-dev")).send().await;
    assert_eq!(response.unwrap().status(), 200);
    assert_eq!(loose_permissions(&gw.data_dir()), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_attachment_write_leaves_no_temporary_file() {
    // No file may grow past 4 MiB: the store's files stay below, a 5 MiB attachment not.
    let config = TestConfig::sample().set("limits.body_bytes", 16 * 1024 * 1024);
    let gw = Gateway::start_with_file_limit(config, 4 * 1024 * 1024);
    let content = vec![b'x'; 5 * 1024 * 1024];
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &content);
    let mut body = motcua_tests::samples::portal("DVC-BLOB-BIG");
    body["TaiLieuNop"][0] = json!({"TenTepDinhKem": "ban-ve.pdf", "NoiDung": encoded});
    body["MaDonViNhan"] = "04606".into();
    let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 503, "{answer}");
    let mut temporary = Vec::new();
    let mut pending = vec![gw.data_dir().join("blobs")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                temporary.push(path);
            }
        }
    }
    assert_eq!(temporary, Vec::<std::path::PathBuf>::new());
    // The gateway goes on: a small dossier is taken.
    gw.submit_portal("DVC-BLOB-SMALL", "04606").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn intake_leaves_every_record_room_to_grow() {
    let gw = Gateway::start(TestConfig::sample());
    let noise = motcua_tests::samples::noise(200 * 320);
    let mut body = motcua_tests::samples::portal("DVC-BIG-RECORD");
    body["MaDonViNhan"] = "04606".into();
    let template = body["TaiLieuNop"][0].clone();
    let documents: Vec<Value> = (0..200)
        .map(|i| {
            let mut d = template.clone();
            let n = &noise[i * 320..(i + 1) * 320];
            d["TenTepDinhKem"] = format!("{}.pdf", &n[..240]).into();
            d["DuongDanTaiTepTin"] = format!("https://portal.example.vn/f/{}", &n[240..]).into();
            d
        })
        .collect();
    body["TaiLieuNop"] = documents.into();
    // Small enough for the store's limit, too large to leave room for its history.
    let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer["detail"].as_str().unwrap_or_default().contains("at most 40960"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dossier_forwarded_back_to_its_first_desk_is_acknowledged_there() {
    let gw = Gateway::start(TestConfig::sample().set("retry.pull_visibility_secs", 1));
    let code = gw.submit_portal("DVC-BACK-1", "04606").await; // mc-tram-tau, pull
    let take = |desk: &'static str| {
        let (gw, code) = (&gw, code.clone());
        async move {
            let (status, inbox) = gw.get_json("/v1/desk/inbox?max=10", desk).await;
            assert_eq!(status, 200, "{inbox}");
            let held = inbox["items"].as_array().unwrap().iter().any(|i| i["code"] == code.as_str());
            let (status, ack) = gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), desk, &json!({})).await;
            (held, status, ack)
        }
    };
    let (held, status, ack) = take("mc-tram-tau-dev").await;
    assert!(held && status == 200 && ack["repeated"].is_null(), "{ack}");
    assert_eq!(post_event(&gw, &code, "mc-tram-tau-dev", &event("a1", "received")).await.0, 200);
    let mut forward = event("a2", "forward");
    forward["unit"] = "04609".into();
    assert_eq!(post_event(&gw, &code, "mc-tram-tau-dev", &forward).await.0, 200);
    let (held, status, _) = take("mc-phinh-ho-dev").await;
    assert!(held && status == 200);
    let mut back = event("b1", "forward");
    back["unit"] = "04606".into();
    assert_eq!(post_event(&gw, &code, "mc-phinh-ho-dev", &back).await.0, 200);

    // Back at the first desk: acknowledged anew, and then gone from its inbox.
    let (held, status, ack) = take("mc-tram-tau-dev").await;
    assert!(held && status == 200 && ack["repeated"].is_null(), "{ack}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, inbox) = gw.get_json("/v1/desk/inbox?max=10", "mc-tram-tau-dev").await;
    assert_eq!(inbox["items"], json!([]), "not leased again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_whose_effect_cannot_be_saved_is_not_sent_again() {
    use axum::http::StatusCode;
    use motcua_tests::peers::Peer;
    let mut gw = Gateway::start(TestConfig::fast_retries());
    // mc-yen-bai's sample URL has no server: the dossier waits in the outbox.
    let code = gw.submit_portal("DVC-EFFECT-1", "04252").await;
    gw.stop();
    gw.fill_record_to_the_limit(&code);
    let desk = Peer::answering(StatusCode::CREATED).await;
    gw.rewrite_config(TestConfig::fast_retries().desk("mc-yen-bai", "url", desk.url()));
    gw.relaunch();
    motcua_tests::eventually(10, "the desk receives the dossier", || async {
        (!desk.received().is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    assert_eq!(desk.received().len(), 1, "delivered once, not again and again");
    let (_, queue) = gw.get_json("/v1/admin/queue", "admin-dev").await;
    let depth: u64 = queue["destinations"].as_array().unwrap().iter().filter_map(|d| d["depth"].as_u64()).sum();
    assert_eq!(depth, 0, "{queue}");
    let metrics = reqwest::get(gw.admin_url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "motcua_delivery_effects_held_total 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_upload_hears_its_refusal_instead_of_a_reset() {
    let gw = Gateway::start(TestConfig::sample());
    let big = vec![b'a'; 3 * 1024 * 1024];
    for http2 in [false, true] {
        let builder = gw.client_builder();
        let client = if http2 { builder.http2_prior_knowledge() } else { builder.http1_only() }.build().unwrap();
        // The portal's token on the postal route: refused before the body is read.
        let response = client
            .post(gw.url("/v1/postal/dossiers"))
            .bearer_auth(motcua_tests::tokens::token("portal-dev"))
            .header("content-type", "application/xml")
            .body(big.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("http2 {http2}: {e}"));
        assert_eq!(response.status(), 403, "http2 {http2}");
        assert!(response.text().await.unwrap().contains("forbidden"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn text_that_would_display_other_than_it_reads_is_refused() {
    let gw = Gateway::start(TestConfig::sample());
    let names = [
        ("a bidi override", "Giàng A \u{202E}ửS"),
        ("a zero-width space", "Giàng\u{200B} A Sử"),
        ("a non-character", "Giàng A Sử\u{FFFE}"),
    ];
    for (i, (what, name)) in names.into_iter().enumerate() {
        let mut body = motcua_tests::samples::portal(&format!("DVC-TEXT-{i}"));
        body["MaDonViNhan"] = "04606".into();
        body["ChuHoSo"]["HoTen"] = name.into();
        let (status, answer) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
        assert_eq!(status, 422, "{what}: {answer}");
        assert_eq!(answer["errors"][0]["pointer"], "/ChuHoSo/HoTen", "{what}: {answer}");
    }
}
