//! Who sees what of the queues, against the real binary (issue 21, items 15, 16, 19):
//! a commune's staff see only their units' queues and dead letters; a peer's words are
//! hidden from auditors and scrubbed of identity and phone numbers for everyone else;
//! the admin CLI prints a peer's escape sequences as text, never raw.

use std::{process::Command, sync::Arc};

use axum::{http::StatusCode, response::IntoResponse};
use motcua_tests::{
    Gateway, TestConfig, eventually,
    gateway::binary,
    pages::Pages,
    peers::{Peer, Received},
    tokens::token,
};

/// What the desk answers: personal data, and a terminal's escape sequences.
const ANSWER: &str = "Lỗi: Lò Văn Ba, CCCD 015090007777, ĐT 0987654321 \u{1b}[2J\u{1b}[HTat ca hang doi trong";

#[tokio::test(flavor = "multi_thread")]
async fn each_operator_sees_its_units_and_no_peer_words_it_may_not() {
    let desk = Peer::start(Arc::new(|_: &[Received]| (StatusCode::BAD_REQUEST, ANSWER).into_response())).await;
    let config = TestConfig::fast_retries().all_day().peers(None, None, &[("mc-yen-bai", &desk.url())]);
    let gw = Gateway::start(config);
    let yen_bai = gw.submit_portal("DVC-SCOPE-0001", "04252").await;
    let tram_tau = gw.submit_portal("DVC-SCOPE-0002", "04606").await;
    eventually(15, "the dead letter", || async {
        let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        (dead["dead_letters"].as_array().is_some_and(|d| !d.is_empty())).then_some(())
    })
    .await;

    // Trạm Tấu's staff: their own queue, not Yên Bái's dead letter nor its desk.
    let mut tramtau = Pages::new(&gw);
    assert_eq!(tramtau.login("tramtau", "tramtau-dev-matkhau").await.status, 303);
    let page = tramtau.get("/ui/hang-doi").await.body;
    assert!(!page.contains(&yen_bai), "another commune's dead letter");
    assert!(!page.contains("phường Yên Bái"), "another commune's desk");
    assert!(page.contains("xã Trạm Tấu"), "its own desk");
    assert!(!page.contains("Lò Văn"));
    let _ = tram_tau;

    // Yên Bái's staff: their dead letter, its numbers scrubbed.
    let mut yenbai = Pages::new(&gw);
    assert_eq!(yenbai.login("yenbai", "yenbai-dev-matkhau").await.status, 303);
    let page = yenbai.get("/ui/hang-doi").await.body;
    assert!(page.contains(&yen_bai));
    for number in ["015090007777", "0987654321"] {
        assert!(!page.contains(number), "{number} shown");
    }
    assert!(page.contains("[đã ẩn]"));
    let page = yenbai.get(&format!("/ui/ho-so/{yen_bai}")).await.body;
    assert!(!page.contains("015090007777") && !page.contains("0987654321"));

    // An auditor: every unit, none of the peer's words.
    let mut auditor = Pages::new(&gw);
    assert_eq!(auditor.login("kiemtra", "kiemtra-dev-matkhau").await.status, 303);
    for path in ["/ui/hang-doi".to_owned(), format!("/ui/ho-so/{yen_bai}")] {
        let page = auditor.get(&path).await.body;
        assert!(page.contains(&yen_bai), "{path}");
        assert!(!page.contains("Lò Văn") && !page.contains("015090007777"), "{path} shows the peer's words");
        assert!(page.contains("(nội dung phản hồi được ẩn)"), "{path}");
    }

    // The CLI prints the escape sequences as text.
    let out = Command::new(binary())
        .args(["admin", "dead-letters", "--config"])
        .arg(gw.config_path())
        .arg("--url")
        .arg(gw.url(""))
        .arg("--cacert")
        .arg(gw.data_dir().join("tls/dev-ca.pem"))
        .env("MOTCUA_TOKEN", token("admin-dev"))
        .output()
        .expect("the CLI runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(&yen_bai), "{printed}");
    assert!(!printed.contains('\u{1b}'), "raw escape sequences: {printed:?}");
    assert!(printed.contains("\\u{1b}[2J"), "{printed}");
}
