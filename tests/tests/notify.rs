//! Citizens told, against the real binary: e-mail through a real SMTP server
//! (aiosmtpd, STARTTLS and AUTH required), SMS through a provider configured as data,
//! Zalo OA template messages. An overdue dossier's apology reaches its applicant by
//! e-mail and SMS with the new date; an applicant who did not agree, and one who said
//! stop, get nothing; the citizen's address and number never reach the logs.

use motcua_simulators::notify::ChannelSim;
use motcua_tests::{
    Gateway, TestConfig, eventually,
    smtp::{PASSWORD, SmtpServer, USER, body_text},
};
use serde_json::{Value, json};

const SMS_KEY: &str = "khoa-sms-thu-nghiem-2026";
const ZALO_TOKEN: &str = "zalo-oa-token-thu-nghiem";

fn config(smtp: &SmtpServer, sms: &ChannelSim, zalo: &ChannelSim) -> TestConfig {
    TestConfig::fast_retries().all_day().edit(|t| {
        let procedure: toml::Table = toml::from_str(
            r#"
            code = "1.999001"
            name = "Thủ tục thử nghiệm thời hạn"
            levels = ["xa"]
            processing = "6s"
            "#,
        )
        .unwrap();
        t["procedures"].as_array_mut().unwrap().push(toml::Value::Table(procedure));
        let channels: toml::Table = toml::from_str(&format!(
            r#"
            [email]
            host = "localhost"
            port = {port}
            security = "starttls"
            username_env = "MOTCUA_SMTP_USER"
            password_env = "MOTCUA_SMTP_PASSWORD"
            from = "Trung tâm Phục vụ hành chính công tỉnh Lào Cai <motcua@laocai.gov.vn>"
            ca_file = "{ca}"

            [sms]
            url = "{sms}/api/v1/sms/send"
            headers = {{ Authorization = "Bearer ${{MOTCUA_SMS_KEY}}" }}
            body = '{{"to": "{{phone}}", "text": "{{message}}", "sender": "UBND-TINH"}}'
            success_contains = '"code":"00"'

            [zalo]
            url = "{zalo}/message/template"
            access_token_env = "MOTCUA_ZALO_TOKEN"
            [zalo.templates.apology]
            id = "248731"
            data = {{ ho_ten = "{{ho_ten}}", ma_ho_so = "{{ma_ho_so}}", ngay_hen_moi = "{{ngay_hen_tra_moi}}" }}
            "#,
            port = smtp.port,
            ca = smtp.ca.display(),
            sms = sms.url(),
            zalo = zalo.url(),
        ))
        .unwrap();
        let notify = t["notify"].as_table_mut().unwrap();
        for (k, v) in channels {
            notify.insert(k, v);
        }
    })
}

fn env() -> Vec<(String, String)> {
    [
        ("MOTCUA_SMTP_USER", USER),
        ("MOTCUA_SMTP_PASSWORD", PASSWORD),
        ("MOTCUA_SMS_KEY", SMS_KEY),
        ("MOTCUA_ZALO_TOKEN", ZALO_TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn submit(gw: &Gateway, id: &str, consent: bool, email: &str, phone: &str) -> String {
    let mut body = motcua_tests::samples::portal(id);
    body["MaTTHC"] = "1.999001".into();
    body["MaDonViNhan"] = "04252".into();
    body["ChuHoSo"]["Email"] = email.into();
    body["ChuHoSo"]["SoDienThoai"] = phone.into();
    body["DongYNhanThongBao"] = consent.into();
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    created["code"].as_str().unwrap().to_owned()
}

async fn event(gw: &Gateway, code: &str, body: Value) {
    let (status, answer) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "mc-yen-bai-dev", &body).await;
    assert_eq!(status, 200, "{answer}");
}

fn mails_to(smtp: &SmtpServer, address: &str) -> Vec<String> {
    smtp.messages().into_iter().filter(|m| m.contains(&format!("X-Envelope-To: {address}"))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overdue_dossiers_apology_reaches_its_applicant_by_email_and_sms_and_a_refusal_is_kept() {
    let smtp = SmtpServer::start();
    let sms = ChannelSim::sms(SMS_KEY).await;
    let zalo = ChannelSim::zalo(ZALO_TOKEN, &[("248731", &["ho_ten", "ma_ho_so", "ngay_hen_moi"])]).await;
    let gw = Gateway::start_with_env(config(&smtp, &sms, &zalo), env());

    let agreed = submit(&gw, "NOTIFY-1", true, "lo.thi.mai@example.vn", "0987654321").await;
    let refused = submit(&gw, "NOTIFY-2", false, "vang.a.chu@example.vn", "0912000111").await;
    let stopping = submit(&gw, "NOTIFY-3", true, "sung.thi.say@example.vn", "0868111222").await;

    // Received: e-mail and SMS to the one who agreed, nothing to the one who did not.
    eventually(20, "the receipt messages", || async {
        (mails_to(&smtp, "lo.thi.mai@example.vn").len() == 1 && sms.taken().iter().any(|m| m.phone == "84987654321"))
            .then_some(())
    })
    .await;
    let received = body_text(&mails_to(&smtp, "lo.thi.mai@example.vn")[0]);
    assert!(received.contains(&format!("Mã hồ sơ: {agreed}")), "{received}");
    assert!(received.contains("Kính gửi Ông/Bà Giàng A Sử"), "{received}");

    // The third says stop, with its code and the last four characters of the ID.
    eventually(20, "the third's receipt", || async {
        (mails_to(&smtp, "sung.thi.say@example.vn").len() == 1).then_some(())
    })
    .await;
    let stop = gw
        .client_builder()
        .build()
        .unwrap()
        .post(gw.url(&format!("/v1/public/notifications/stop?code={stopping}&id_last4=1234")))
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 200);
    let wrong = gw
        .client_builder()
        .build()
        .unwrap()
        .post(gw.url(&format!("/v1/public/notifications/stop?code={agreed}&id_last4=9999")))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404, "a wrong ID ending stops nothing");

    let now = || jiff::Timestamp::now().to_string();
    for code in [&agreed, &refused, &stopping] {
        event(&gw, code, json!({ "event_id": format!("{code}-r"), "type": "received", "at": now() })).await;
        event(&gw, code, json!({ "event_id": format!("{code}-p"), "type": "processing", "at": now() })).await;
    }
    eventually(20, "the dossiers overdue", || async {
        let (_, d) = gw.get_json(&format!("/v1/dossiers/{agreed}"), "admin-dev").await;
        (d["overdue"] == true).then_some(())
    })
    .await;
    let new_date = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(72);
    let shown = motcua_schemas::time::to_vn(new_date).strftime("%d/%m/%Y %H:%M").to_string();
    for code in [&agreed, &refused, &stopping] {
        event(
            &gw,
            code,
            json!({ "event_id": format!("{code}-a"), "type": "apology", "at": now(),
                    "new_appointment": new_date.to_string(), "reason": "Chờ ý kiến của cơ quan liên quan" }),
        )
        .await;
    }
    eventually(25, "the apology by e-mail, SMS and Zalo", || async {
        (mails_to(&smtp, "lo.thi.mai@example.vn").len() == 2
            && sms.taken().iter().filter(|m| m.phone == "84987654321").count() == 2
            && !zalo.taken().is_empty())
        .then_some(())
    })
    .await;
    let mails = mails_to(&smtp, "lo.thi.mai@example.vn");
    let apology = body_text(&mails[1]);
    assert!(mails[1].contains("Subject:"), "{}", mails[1]);
    assert!(apology.contains(&format!("Thời gian hẹn trả kết quả mới: {shown}")), "{apology}");
    assert!(apology.contains("Lý do: Chờ ý kiến của cơ quan liên quan"), "{apology}");
    let texts: Vec<String> = sms.taken().into_iter().filter(|m| m.phone == "84987654321").map(|m| m.text).collect();
    assert!(texts[1].contains(&format!("Hẹn trả kết quả mới: {shown}")), "{texts:?}");
    let z = &zalo.taken()[0];
    assert_eq!((z.phone.as_str(), z.text.as_str()), ("84987654321", "248731"));
    assert_eq!(z.data["ngay_hen_moi"], shown);
    assert_eq!(z.data["ma_ho_so"], agreed);

    // Nothing ever reached the one who did not agree, nor the one who said stop after
    // the receipt; the channels saw nothing they would refuse.
    assert!(mails_to(&smtp, "vang.a.chu@example.vn").is_empty());
    assert!(!sms.taken().iter().any(|m| m.phone == "84912000111"));
    assert_eq!(mails_to(&smtp, "sung.thi.say@example.vn").len(), 1, "only the receipt, before the stop");
    assert_eq!(sms.taken().iter().filter(|m| m.phone == "84868111222").count(), 1);
    assert_eq!(zalo.taken().len(), 1);
    assert_eq!((sms.violations(), zalo.violations()), (Vec::<String>::new(), Vec::<String>::new()));

    // Each message sent is in the dossier's history; no address or number is logged.
    let (_, dossier) = gw.get_json(&format!("/v1/dossiers/{agreed}"), "admin-dev").await;
    let notes = dossier["history"].as_array().unwrap().iter().filter(|h| h["details"]["mark"] == "notified").count();
    assert_eq!(notes, 5, "received and apology by e-mail and SMS, the apology by Zalo");
    let logs = gw.logs();
    for secret in ["lo.thi.mai@example.vn", "0987654321", "84987654321", SMS_KEY, ZALO_TOKEN, PASSWORD] {
        assert!(!logs.contains(secret), "{secret} is in the logs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_sms_provider_is_retried_and_the_message_goes_once() {
    let smtp = SmtpServer::start();
    let sms = ChannelSim::sms(SMS_KEY).await;
    let zalo = ChannelSim::zalo(ZALO_TOKEN, &[("248731", &["ho_ten", "ma_ho_so", "ngay_hen_moi"])]).await;
    sms.fail_next(2);
    let gw = Gateway::start_with_env(config(&smtp, &sms, &zalo), env());
    let code = submit(&gw, "NOTIFY-RETRY", true, "lo.thi.mai@example.vn", "0987654321").await;
    eventually(20, "the SMS after two failures", || async { (!sms.taken().is_empty()).then_some(()) }).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(sms.taken().len(), 1);
    assert!(sms.taken()[0].text.contains(&code));
}
