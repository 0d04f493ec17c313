//! The provincial centre's pages in a real browser (headless Chromium through
//! WebDriver) against the real binary: logging in, every page, following a dossier
//! from the overdue list, replaying a dead letter, a commune's staff refused another
//! commune's dossier, an auditor without personal data, a form without its CSRF token
//! refused, and failed logins held. Screenshots go to target/ui-screenshots (or to
//! `MOTCUA_SCREENSHOTS`, which docs/ui is refreshed from).

use std::path::PathBuf;

use axum::http::StatusCode;
use motcua_tests::{Gateway, TestConfig, browser::Browser, eventually, peers::Peer};

/// The sample, all day, with procedure 1.999001 due 3 working seconds after receipt.
fn config() -> TestConfig {
    TestConfig::fast_retries().set("retry.max_attempts", 2).all_day().edit(|t| {
        let procedure: toml::Table = toml::from_str(
            "code = \"1.999001\"\nname = \"Thủ tục thử nghiệm thời hạn\"\nlevels = [\"xa\"]\nprocessing = \"3s\"",
        )
        .unwrap();
        t["procedures"].as_array_mut().unwrap().push(toml::Value::Table(procedure));
    })
}

fn shots() -> PathBuf {
    std::env::var_os("MOTCUA_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| motcua_tests::repo().join("target/ui-screenshots"))
}

async fn submit(gw: &Gateway, id: &str, unit: &str, procedure: Option<&str>) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["MaDonViNhan"] = unit.into();
    if let Some(p) = procedure {
        body["MaTTHC"] = p.into();
    }
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    created["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn officials_supervise_in_the_browser() {
    // Xã Yên Bái's desk refuses every delivery, so its dossiers end as dead letters.
    let (desk, portal) = (Peer::answering(StatusCode::BAD_REQUEST).await, Peer::answering(StatusCode::OK).await);
    let gw = Gateway::start(config().peers(Some(&portal.url()), None, &[("mc-yen-bai", &desk.url())]));
    let late = submit(&gw, "UI-LATE-1", "04252", Some("1.999001")).await;
    let other = submit(&gw, "UI-TRAM-TAU-1", "04606", None).await;
    eventually(20, "the late dossier overdue and its delivery dead", || async {
        let (_, overdue) = gw.get_json("/v1/admin/dossiers?overdue=true", "admin-dev").await;
        let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        let is_overdue = overdue["dossiers"].as_array()?.iter().any(|d| d["code"] == late.as_str());
        let is_dead = dead["dead_letters"].as_array()?.iter().any(|d| d["job"]["dossier"] == late.as_str());
        (is_overdue && is_dead).then_some(())
    })
    .await;

    let base = gw.url("");
    let browser = Browser::start().await;
    // Not logged in: the pages send to the login form.
    browser.goto(&format!("{base}/ui")).await;
    assert!(browser.url().await.ends_with("/ui/dang-nhap"), "{}", browser.url().await);
    browser.screenshot(&shots().join("dang-nhap.png")).await;
    browser.log_in(&base, "trungtam", "sai-mat-khau-roi").await;
    assert!(browser.text_of(".thong-bao").await.contains("không đúng"));

    // The provincial centre.
    browser.log_in(&base, "trungtam", "trungtam-dev-matkhau").await;
    assert_eq!(browser.text_of("h1").await, "Tổng quan");
    assert!(browser.text_of(".nguoi-dung").await.contains("Nguyễn Thị Lan"));
    assert!(browser.all("svg.bieu-do").await.len() == 2, "the chart and the trend");
    let overdue_now: u64 = browser.text_of("#qua-han").await.parse().unwrap();
    assert!(overdue_now >= 1, "the overdue dossier is counted");
    let by_unit = browser.text_of("#bang-don-vi").await;
    browser.screenshot(&shots().join("tong-quan.png")).await;
    assert!(by_unit.contains("Phường Yên Bái") && by_unit.contains("Xã Trạm Tấu"), "{by_unit}");
    browser.screenshot(&shots().join("tong-quan.png")).await;

    // From the overdue list to the dossier.
    browser.goto(&format!("{base}/ui/qua-han")).await;
    let table = browser.text_of("#bang-qua-han").await;
    assert!(table.contains(&late) && table.contains("Chưa gửi"), "{table}");
    browser.screenshot(&shots().join("qua-han.png")).await;
    let link = browser.find(&format!("a[href='/ui/ho-so/{late}']")).await;
    browser.click(&link).await;
    assert_eq!(browser.text_of("#ma-ho-so").await, late);
    let timeline = browser.text_of("#qua-trinh").await;
    assert!(timeline.contains("Tiếp nhận hồ sơ vào hệ thống"), "{timeline}");
    let applicant = browser.text_of("#nguoi-nop").await;
    assert!(applicant.contains("••••"), "the ID number masked but its last four: {applicant}");
    assert!(browser.text_of("#chuyen-gui").await.contains("Không gửi được"));
    browser.screenshot(&shots().join("ho-so.png")).await;

    // The log book (form 07), with its CSV.
    browser.goto(&format!("{base}/ui/so-theo-doi")).await;
    let book = browser.text_of("#so-theo-doi").await;
    assert!(book.contains(&late) && book.contains(&other), "{book}");
    browser.screenshot(&shots().join("so-theo-doi.png")).await;

    // The queue: replay the dead letter.
    browser.goto(&format!("{base}/ui/hang-doi")).await;
    assert!(browser.text_of("#khong-gui-duoc").await.contains(&late));
    browser.screenshot(&shots().join("hang-doi.png")).await;
    let session = browser.cookie("motcua_phien").await.expect("the session cookie");
    let replay = browser.find("button.gui-lai").await;
    browser.click(&replay).await;
    assert!(browser.text_of(".thong-bao").await.contains("Đã đưa lại vào hàng đợi"));

    // A form without its CSRF token is refused, even with the session.
    let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
    let id = eventually(20, "the replayed job dead again", || async {
        let (_, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        dead["dead_letters"].as_array()?.first().and_then(|d| d["id"].as_str().map(str::to_owned))
    })
    .await;
    let _ = dead;
    let forged = gw
        .http
        .post(format!("{base}/ui/hang-doi/{id}/gui-lai"))
        .header("cookie", format!("motcua_phien={session}"))
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("mã xác thực biểu mẫu"));
    let logout = browser.find(".dang-xuat button").await;
    browser.click(&logout).await;
    browser.find("#ten").await;
    assert!(browser.url().await.ends_with("/ui/dang-nhap"));

    // A commune's staff: its own dossier, not another commune's.
    browser.log_in(&base, "yenbai", "yenbai-dev-matkhau").await;
    browser.goto(&format!("{base}/ui/ho-so/{late}")).await;
    assert_eq!(browser.text_of("#ma-ho-so").await, late);
    browser.goto(&format!("{base}/ui/ho-so/{other}")).await;
    assert!(browser.text_of(".thong-bao").await.contains("không thuộc phạm vi"), "refused another commune's dossier");
    browser.goto(&format!("{base}/ui?don-vi=04606")).await;
    assert!(browser.text_of(".thong-bao").await.contains("không được xem"));
    browser.goto(&format!("{base}/ui")).await;
    let logout = browser.find(".dang-xuat button").await;
    browser.click(&logout).await;
    browser.find("#ten").await;

    // An auditor: every unit, no personal data, no replay.
    browser.log_in(&base, "kiemtra", "kiemtra-dev-matkhau").await;
    browser.goto(&format!("{base}/ui/ho-so/{other}")).await;
    assert!(browser.text_of("#nguoi-nop").await.contains("không hiển thị"));
    browser.goto(&format!("{base}/ui/hang-doi")).await;
    assert!(browser.all("button.gui-lai").await.is_empty());
    drop(browser);

    // Failed logins are held per account.
    let client = gw.client_builder().cookie_store(true).build().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let form = client.get(format!("{base}/ui/dang-nhap")).send().await.unwrap().text().await.unwrap();
        let csrf = form.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
        let tried = client
            .post(format!("{base}/ui/dang-nhap"))
            .form(&[("ten", "khongco"), ("mat_khau", "doan-bua-mat-khau"), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        statuses.push(tried.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let logs = gw.logs();
    assert!(logs.contains("action=\"replay\"") || logs.contains("action=replay"), "actions are logged");
    assert!(!logs.contains("doan-bua-mat-khau") && !logs.contains("trungtam-dev-matkhau"), "no password logged");
}
