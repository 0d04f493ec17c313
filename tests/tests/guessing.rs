//! Guessing passwords and keeping sessions, against the real binary (issue 21, items
//! 4–9): Argon2id checks bounded and made only for a source that may still try; a
//! held source refused without any check, right password or not; an unknown client id
//! checked against a decoy; concurrent logins reserved before they are checked; a
//! stranger unable to lock an operator out; logout, a password change and a rotated
//! session key ending sessions; a rotated Basic secret refused at once.

use std::{net::IpAddr, process::Command};

use base64::Engine as _;
use motcua_tests::{Gateway, TestConfig, eventually, gateway::binary, pages::Pages, tokens::token};
use toml::Table;

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn push_client(password: &str) -> Table {
    let hash = motcua_gateway::auth::password::hash(password).expect("a hash");
    toml::from_str(&format!(
        "id = \"dvcqg-push\"\nrole = \"portal\"\nissuer = \"dvcqg-push\"\nbasic_hash = \"{hash}\"\nrate = {{ per_second = 1000, burst = 1000 }}\n"
    ))
    .expect("a client table")
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// `GET /v1/admin/queue` with HTTP Basic from `address`: 401 wrong, 429 held, 403 a
/// portal authenticated (it is not an admin).
async fn basic_call(gw: &Gateway, address: IpAddr, authorization: &str) -> u16 {
    let client = gw.client_builder().local_address(address).build().expect("a client");
    let response =
        client.get(gw.url("/v1/admin/queue")).header("authorization", authorization).send().await.expect("an answer");
    response.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn password_checks_are_bounded_and_a_held_source_is_never_checked() {
    let config = TestConfig::sample()
        .set("gateway.public_rate", toml::Value::Table(toml::from_str("per_second = 10000\nburst = 10000").unwrap()))
        .add_client(push_client("mat-khau-dung"));
    let gw = Gateway::start(config);
    let memory_before = gw.memory_kib("VmHWM");
    let checks_before = gw.metric("motcua_password_checks").await;

    // 96 wrong passwords at once from one address: only as many are checked as the
    // address may fail, the others are held without a check.
    let wrong = basic("dvcqg-push", "sai-mat-khau");
    let calls = (0..96).map(|_| basic_call(&gw, loopback(1), &wrong));
    let statuses = futures_util::future::join_all(calls).await;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(refused + held, 96, "{statuses:?}");
    assert!(refused <= 10, "{refused} wrong passwords checked from one address");
    let checks = gw.metric("motcua_password_checks").await - checks_before;
    assert!(checks <= 10.0, "{checks} password checks for one address");
    let grown_mib = (gw.memory_kib("VmHWM").saturating_sub(memory_before)) / 1024;
    assert!(grown_mib < 200, "the gateway grew by {grown_mib} MiB");

    // Held: even the right password is refused, and costs no check.
    let right = basic("dvcqg-push", "mat-khau-dung");
    let checks_before = gw.metric("motcua_password_checks").await;
    assert_eq!(basic_call(&gw, loopback(1), &right).await, 429);
    assert_eq!(gw.metric("motcua_password_checks").await, checks_before);

    // An unknown client id costs a check, as a known one does.
    assert_eq!(basic_call(&gw, loopback(2), &basic("khong-co-ai", "mat-khau")).await, 401);
    assert_eq!(gw.metric("motcua_password_checks").await, checks_before + 1.0);

    // Another address is not held.
    assert_eq!(basic_call(&gw, loopback(3), &right).await, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_logins_are_counted_before_they_are_checked() {
    let gw = Gateway::start(TestConfig::sample());
    let checks_before = gw.metric("motcua_password_checks").await;
    let attempts = (0..30).map(|i| {
        let gw = &gw;
        async move {
            let password = if i == 17 { "trungtam-dev-matkhau" } else { "sai-mat-khau" };
            Pages::new(gw).login("trungtam", password).await.status
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checks = gw.metric("motcua_password_checks").await - checks_before;
    assert!(checks <= 5.0, "{checks} passwords checked though five attempts are allowed: {statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 401).count() <= 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| [303, 401, 429].contains(s)), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_cannot_lock_an_operator_out() {
    let gw = Gateway::start(TestConfig::sample());
    // The operator's own place.
    assert_eq!(Pages::at(&gw, loopback(1)).login("trungtam", "trungtam-dev-matkhau").await.status, 303);

    // A stranger holds only its own attempts at the account.
    let stranger = loopback(2);
    for _ in 0..5 {
        assert_eq!(Pages::at(&gw, stranger).login("trungtam", "sai").await.status, 401);
    }
    assert_eq!(Pages::at(&gw, stranger).login("trungtam", "trungtam-dev-matkhau").await.status, 429);
    assert_eq!(Pages::at(&gw, loopback(1)).login("trungtam", "trungtam-dev-matkhau").await.status, 303);

    // A guesser spread over many addresses: past the account's limit, only the places
    // the operator logged in from are let in.
    let guesses = (10u8..30).flat_map(|a| (0..5).map(move |_| a)).map(|a| {
        let gw = &gw;
        async move { Pages::at(gw, loopback(a)).login("trungtam", "sai").await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(Pages::at(&gw, loopback(99)).login("trungtam", "trungtam-dev-matkhau").await.status, 429);
    assert_eq!(Pages::at(&gw, loopback(1)).login("trungtam", "trungtam-dev-matkhau").await.status, 303);
    // Another account is not held.
    assert_eq!(Pages::at(&gw, loopback(99)).login("tramtau", "tramtau-dev-matkhau").await.status, 303);

    // An administrator forgives the failures.
    let out = Command::new(binary())
        .args(["operator", "unlock", "--name", "trungtam", "--config"])
        .arg(gw.config_path())
        .arg("--url")
        .arg(gw.url(""))
        .arg("--cacert")
        .arg(gw.data_dir().join("tls/dev-ca.pem"))
        .env("MOTCUA_TOKEN", token("admin-dev"))
        .output()
        .expect("the CLI runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(Pages::at(&gw, loopback(99)).login("trungtam", "trungtam-dev-matkhau").await.status, 303);
}

/// The sample with the operators in a file of the test's own (so it can change) and
/// the session key from `MOTCUA_UI_KEY_1`.
fn own_operators(gw_dir: &std::path::Path, password_hash_of_trungtam: Option<&str>, key_env: &str) -> TestConfig {
    let mut operators = motcua_tests::repo_file("config/dev/operators.toml");
    if let Some(hash) = password_hash_of_trungtam {
        let start = operators.find("name = \"trungtam\"").expect("trungtam");
        let at = start + operators[start..].find("password_hash = ").expect("a hash");
        let end = at + operators[at..].find('\n').expect("a line");
        operators.replace_range(at..end, &format!("password_hash = \"{hash}\""));
    }
    let path = gw_dir.join("operators.toml");
    std::fs::write(&path, operators).expect("the operators file is written");
    TestConfig::sample().set("ui.operators_file", path.display().to_string()).set("ui.session_key_env", key_env)
}

async fn reload(gw: &Gateway, config: TestConfig) {
    let before = gw.logs().matches("configuration reloaded").count();
    gw.rewrite_config(config);
    gw.signal(libc::SIGHUP);
    eventually(10, "the reload", || async {
        (gw.logs().matches("configuration reloaded").count() > before).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_a_password_change_and_a_rotated_key_end_sessions() {
    let keys = vec![
        ("MOTCUA_UI_KEY_1".to_owned(), "khoa-phien-thu-nhat-cua-trang-quan-tri-0001".to_owned()),
        ("MOTCUA_UI_KEY_2".to_owned(), "khoa-phien-thu-hai-cua-trang-quan-tri-00002".to_owned()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start_with_env(own_operators(dir.path(), None, "MOTCUA_UI_KEY_1"), keys);

    // Logging out anywhere ends every session of the operator, and its CSRF token.
    let (mut first, mut second) = (Pages::new(&gw), Pages::new(&gw));
    assert_eq!(first.login("trungtam", "trungtam-dev-matkhau").await.status, 303);
    assert_eq!(second.login("trungtam", "trungtam-dev-matkhau").await.status, 303);
    let page = first.get("/ui").await;
    assert_eq!(page.status, 200);
    let csrf = motcua_tests::pages::csrf_of(&page.body).expect("the page's token");
    let second_csrf = motcua_tests::pages::csrf_of(&second.get("/ui").await.body).expect("a token");
    assert_eq!(first.post("/ui/dang-xuat", &csrf).await.status, 303);
    assert_eq!(first.get("/ui").await.status, 303, "the logged-out cookie still works");
    assert_eq!(second.get("/ui").await.status, 303, "the other session still works");
    assert_eq!(second.post("/ui/hang-doi/1/gui-lai", &second_csrf).await.status, 403);

    // A changed password ends the sessions made with the old one.
    let mut session = Pages::new(&gw);
    assert_eq!(session.login("trungtam", "trungtam-dev-matkhau").await.status, 303);
    assert_eq!(session.get("/ui").await.status, 200);
    let hash = motcua_gateway::auth::password::hash("mat-khau-moi-cua-trung-tam").unwrap();
    reload(&gw, own_operators(dir.path(), Some(&hash), "MOTCUA_UI_KEY_1")).await;
    assert_eq!(session.get("/ui").await.status, 303, "a session of the old password");
    assert_eq!(session.login("trungtam", "mat-khau-moi-cua-trung-tam").await.status, 303);
    assert_eq!(session.get("/ui").await.status, 200);

    // A rotated session key ends every session signed with the old one.
    reload(&gw, own_operators(dir.path(), Some(&hash), "MOTCUA_UI_KEY_2")).await;
    assert_eq!(session.get("/ui").await.status, 303, "a session of the old key");
    assert_eq!(session.login("trungtam", "mat-khau-moi-cua-trung-tam").await.status, 303);
    assert_eq!(session.get("/ui").await.status, 200);
    gw.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_basic_secret_stops_working_at_once() {
    let gw = Gateway::start(TestConfig::sample().add_client(push_client("mat-khau-cu")));
    let old = basic("dvcqg-push", "mat-khau-cu");
    assert_eq!(basic_call(&gw, loopback(1), &old).await, 403, "authenticated (and remembered)");
    reload(&gw, TestConfig::sample().add_client(push_client("mat-khau-moi"))).await;
    assert_eq!(basic_call(&gw, loopback(1), &old).await, 401, "the rotated-out secret");
    assert_eq!(basic_call(&gw, loopback(1), &basic("dvcqg-push", "mat-khau-moi")).await, 403);
}
