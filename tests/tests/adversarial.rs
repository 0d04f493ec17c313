//! Attacks and faults against the real binary: slow clients, request smuggling,
//! hostile bodies, hostile XML, hostile tokens, a full disk, and SIGKILL under load
//! again and again. Each case asserts the answer and that the store is unchanged or
//! intact afterwards.

use std::{
    collections::{BTreeSet, HashMap},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::http::StatusCode;
use motcua_tests::{
    Gateway, TestConfig, eventually,
    peers::Peer,
    samples::{portal, postal, s10},
    tokens::{claims, dev_client, raw_token, token},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn tls_connect(gw: &Gateway) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    gw.tls_connect(b"http/1.1").await
}

/// Writes raw bytes on a fresh TLS connection and reads until the server closes it
/// or `wait` passes; returns everything read.
async fn raw(gw: &Gateway, request: &[u8], wait: Duration) -> String {
    let mut stream = tls_connect(gw).await;
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// How many dossiers the gateway holds (from its intake counter).
async fn intake_count(gw: &Gateway) -> f64 {
    let text = reqwest::get(gw.admin_url("/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("motcua_intake_dossiers_total") && l.contains("outcome=\"created\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn fast_timeouts() -> TestConfig {
    TestConfig::sample().set("limits.header_read_timeout_secs", 2).set("limits.tls_handshake_timeout_secs", 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_off_and_never_starve_others() {
    let gw = Gateway::start(fast_timeouts());
    // Half a request line, then silence: closed within the header timeout.
    let started = Instant::now();
    let answer = raw(&gw, b"POST /v1/portal/dossi", Duration::from_secs(10)).await;
    let closed_after = started.elapsed();
    assert!(closed_after < Duration::from_secs(5), "closed after {closed_after:?}");
    assert!(!answer.contains("201"), "{answer}");
    // A TCP connection that never starts TLS is closed after the handshake timeout.
    let started = Instant::now();
    let mut tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await;
    assert!(started.elapsed() < Duration::from_secs(5));

    // 500 slow connections at once; a normal client is still served promptly.
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut s = tls_connect(&gw).await;
        s.write_all(b"GET /healthz HT").await.unwrap();
        slow.push(s);
    }
    let started = Instant::now();
    let code = gw.submit_portal("DVC-SLOW-1", "04606").await;
    assert!(started.elapsed() < Duration::from_secs(2), "served in {:?}", started.elapsed());
    assert_eq!(gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.0, 200);
    drop(slow);
}

#[tokio::test(flavor = "multi_thread")]
async fn smuggled_requests_are_refused() {
    let gw = Gateway::start(TestConfig::sample());
    let before = intake_count(&gw).await;
    let bearer = token("portal-dev");
    let inner = serde_json::to_string(&portal("DVC-SMUGGLED")).unwrap();
    let smuggled = format!(
        "POST /v1/portal/dossiers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{inner}",
        inner.len()
    );
    let cases = [
        // Content-Length and chunked together: the chunked body ends early, the rest
        // would be a second request.
        format!(
            "POST /v1/portal/dossiers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}",
            5 + smuggled.len()
        ),
        // Two different Content-Length headers.
        format!(
            "POST /v1/portal/dossiers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: {}\r\n\r\n{{}}{smuggled}",
            2 + smuggled.len()
        ),
        // Obfuscated Transfer-Encoding values.
        format!(
            "POST /v1/portal/dossiers HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{{}}{smuggled}"
        ),
        format!(
            "POST /v1/portal/dossiers HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n{smuggled}"
        ),
        format!(
            "POST /v1/portal/dossiers HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{smuggled}"
        ),
    ];
    for (i, case) in cases.iter().enumerate() {
        let answer = raw(&gw, case.as_bytes(), Duration::from_secs(3)).await;
        let responses = answer.matches("HTTP/1.1 ").count();
        assert!(responses <= 1, "case {i}: more than one response:\n{answer}");
        assert!(!answer.contains("HTTP/1.1 201") && !answer.contains("HTTP/1.1 200"), "case {i} was served:\n{answer}");
    }
    assert_eq!(intake_count(&gw).await, before, "no smuggled dossier was taken in");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_json_bodies_are_refused_cleanly() {
    let gw = Gateway::start(TestConfig::sample());
    let before = intake_count(&gw).await;
    let send = |body: Vec<u8>| {
        gw.http
            .post(gw.url("/v1/portal/dossiers"))
            .bearer_auth(token("portal-dev"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let sample =
        motcua_tests::repo_file("schemas/samples/portal-dossier.json").replace("DVC-2026-000123", "DVC-HOSTILE");
    let deep = format!("{{\"MaHoSoCongDVC\":{}1{}}}", "[".repeat(100), "]".repeat(100));
    let huge_string = format!("{{\"MaHoSoCongDVC\":\"{}\"}}", "a".repeat(10 * 1024 * 1024));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("nested past the depth limit", deep.into_bytes(), 400),
        ("a 10 MB string", huge_string.into_bytes(), 413),
        (
            "invalid UTF-8",
            sample
                .replace("Giàng", "G\u{FFFD}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 0xEF { 0xFF } else { b })
                .collect(),
            400,
        ),
        ("a raw NUL byte", sample.replacen("{", "{\0", 1).into_bytes(), 400),
        ("an escaped NUL in a name", sample.replace("Giàng A Sử", "Giàng\\u0000A").into_bytes(), 422),
        ("a number out of range", sample.replace("\"MucDo\": 4", "\"MucDo\": 1e400").into_bytes(), 400),
        (
            "an amount past i64",
            sample.replace("\"SoTien\": 8000", "\"SoTien\": 99999999999999999999").into_bytes(),
            422,
        ),
        ("duplicate keys", sample.replacen("\"MucDo\": 4,", "\"MucDo\": 4, \"MucDo\": 3,", 1).into_bytes(), 400),
        ("not an object", b"[1,2,3]".to_vec(), 422),
        ("empty", Vec::new(), 400),
    ];
    for (case, body, expected) in cases {
        let response = send(body).await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{case}");
        if expected != 413 {
            let problem: Value = response.json().await.unwrap();
            assert!(problem["type"].as_str().unwrap().starts_with("urn:motcua:problem:"), "{case}: {problem}");
        }
    }
    assert_eq!(intake_count(&gw).await, before);
    assert!(gw.get_json("/healthz", "admin-dev").await.0 == 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_xml_is_refused_without_expanding_anything() {
    let gw = Gateway::start(TestConfig::sample());
    let before = intake_count(&gw).await;
    let good = postal(&s10("EE", 90_001));
    let body = good.split_once("?>").unwrap().1;
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>{}",
        body.replace("Giàng A Sử", "&lol3;")
    );
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE BuuGuiHoSo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
        body.replace("Bản Km 21", "&xxe;")
    );
    let public =
        format!("<?xml version=\"1.0\"?><!DOCTYPE BuuGuiHoSo PUBLIC \"-//X//Y\" \"http://127.0.0.1:1/x.dtd\">{body}");
    let bare = format!("<!DOCTYPE BuuGuiHoSo>{body}");
    let undeclared = body.replace("Bản Km 21", "&xxe;");
    let pi = format!("<?xml version=\"1.0\"?><?xml-stylesheet href=\"http://127.0.0.1:1/x\"?>{body}");
    let deep =
        format!("<BuuGuiHoSo xmlns=\"urn:motcua:postal:v1\">{}{}</BuuGuiHoSo>", "<a>".repeat(100), "</a>".repeat(100));
    let huge_attribute = good.replace("code=\"TP01\"", &format!("code=\"{}\"", "x".repeat(5 * 1024 * 1024)));
    let wrong_namespace = good.replace("urn:motcua:postal:v1", "urn:other:v1");
    let latin1 = good.replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(good.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut broken_utf8 = good.clone().into_bytes();
    let at = broken_utf8.iter().position(|b| *b == 0xC3).unwrap();
    broken_utf8[at] = 0xFF;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("billion laughs", laughs.into_bytes(), 400),
        ("external entity", xxe.into_bytes(), 400),
        ("public DTD", public.into_bytes(), 400),
        ("bare DOCTYPE", bare.into_bytes(), 400),
        ("undeclared entity", undeclared.into_bytes(), 400),
        ("processing instruction", pi.into_bytes(), 400),
        ("deep nesting", deep.into_bytes(), 400),
        ("a 5 MB attribute", huge_attribute.into_bytes(), 422),
        ("wrong namespace", wrong_namespace.into_bytes(), 422),
        ("declared Latin-1", latin1.into_bytes(), 400),
        ("UTF-16", utf16, 400),
        ("invalid UTF-8", broken_utf8, 400),
    ];
    for (case, body, expected) in cases {
        let (status, xml) = gw.post_xml("/v1/postal/dossiers", "postal-dev", body).await;
        assert_eq!(status, expected, "{case}");
        assert!(xml.contains("<Loi xmlns=\"urn:motcua:postal:v1\">"), "{case}: {xml}");
        assert!(!xml.contains("root:") && !xml.contains("lollol"), "{case}: nothing was expanded");
    }
    assert_eq!(intake_count(&gw).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn jku_and_x5u_headers_are_never_fetched() {
    let trap = Peer::answering(StatusCode::OK).await;
    let gw = Gateway::start(TestConfig::sample());
    let admin = dev_client("admin-dev");
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&admin.key_pem).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.jku = Some(format!("{}/jwks.json", trap.url()));
    header.x5u = Some(format!("{}/cert.pem", trap.url()));
    let signed = jsonwebtoken::encode(&header, &claims(&admin), &key).unwrap();
    // A correctly signed token is accepted: the headers are ignored.
    let ok = gw.http.get(gw.url("/v1/admin/queue")).bearer_auth(&signed).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // A forged one pointing at the attacker's keys is refused, and nothing is fetched.
    let forged = raw_token(
        &json!({"alg": "EdDSA", "jku": format!("{}/jwks.json", trap.url()), "kid": "attacker"}),
        &claims(&admin),
        &[7u8; 64],
    );
    let refused = gw.http.get(gw.url("/v1/admin/queue")).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        trap.received().is_empty(),
        "the gateway fetched {:?}",
        trap.received().iter().map(|r| r.uri.to_string()).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_stops_writes_without_losing_what_was_acknowledged() {
    // The store may not grow past 6 MiB: a full disk, without mounting anything.
    let mut gw = Gateway::start_with_file_limit(TestConfig::sample().unthrottled(), 6 * 1024 * 1024);
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..20_000 {
        let mut body = portal(&format!("DVC-FULL-{i}"));
        body["MaDonViNhan"] = "04606".into();
        let response =
            match gw.http.post(gw.url("/v1/portal/dossiers")).bearer_auth(token("portal-dev")).json(&body).send().await
            {
                Ok(r) => r,
                Err(_) => break,
            };
        match response.status().as_u16() {
            201 => acknowledged.push(response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()),
            503 => {
                refused = Some(response.json::<Value>().await.unwrap());
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let refused = refused.expect("the disk filled up");
    assert_eq!(refused["type"], "urn:motcua:problem:unavailable");
    assert!(!acknowledged.is_empty());
    // Not ready any more, and no write is accepted after the failure.
    let ready = reqwest::get(gw.admin_url("/readyz")).await;
    assert!(ready.is_err() || ready.unwrap().status() == 503);
    // The process drains and exits non-zero so that a supervisor restarts it.
    let status = gw.wait().expect("the gateway exits");
    assert_eq!(status.code(), Some(70), "{status:?}");
    // With room again, everything acknowledged is there.
    gw.limit_file_size(None);
    gw.relaunch();
    for code in &acknowledged {
        assert_eq!(gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.0, 200, "{code} was acknowledged");
    }
    gw.submit_portal("DVC-FULL-AFTER", "04606").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_sigkills_under_load_lose_nothing_acknowledged() {
    let desk = Peer::answering(StatusCode::CREATED).await;
    let mut gw = Gateway::start(TestConfig::fast_retries().unthrottled().desk("mc-yen-bai", "url", desk.url()));
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    for round in 0..20 {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for client in 0..8 {
            let (http, url, acknowledged, stop) =
                (gw.http.clone(), gw.url("/v1/portal/dossiers"), acknowledged.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                let bearer = token("portal-dev");
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let id = format!("DVC-KILL-{round}-{client}-{n}");
                    let mut body = portal(&id);
                    body["MaDonViNhan"] = "04252".into();
                    let Ok(response) = http.post(&url).bearer_auth(&bearer).json(&body).send().await else { continue };
                    if response.status() == 201
                        && let Ok(v) = response.json::<Value>().await
                    {
                        acknowledged.lock().unwrap().push((id, v["code"].as_str().unwrap().to_owned()));
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + (round * 37 % 400))).await;
        gw.kill();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
        gw.restart();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 100, "only {} acknowledged", acknowledged.len());
    let codes: BTreeSet<&str> = acknowledged.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(codes.len(), acknowledged.len(), "no code was issued twice");
    let by_id: HashMap<&str, &str> = acknowledged.iter().map(|(i, c)| (i.as_str(), c.as_str())).collect();
    assert_eq!(by_id.len(), acknowledged.len());
    // Everything acknowledged is stored and, in the end, delivered.
    for (id, code) in acknowledged.iter().step_by(7) {
        let (status, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        assert_eq!(status, 200, "{code}");
        assert_eq!(dossier["external_ref"], id.as_str());
    }
    eventually(60, "every acknowledged dossier delivered", || async {
        let delivered: BTreeSet<String> = desk.received().iter().filter_map(|r| r.header("idempotency-key")).collect();
        codes.iter().all(|c| delivered.contains(*c)).then_some(())
    })
    .await;
    let _: SocketAddr = gw.addr;
}
