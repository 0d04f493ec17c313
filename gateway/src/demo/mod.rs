//! `motcua demo`: the whole flow in under a minute. It starts the gateway on a
//! temporary data directory with the sample network (procedures of 12 working
//! seconds, office hours all day, deadline leads in seconds), real HTTP peers on
//! loopback — the national portal's simulator, its payment platform, the postal
//! service and a push desk (the pull desk is played by the demo itself) — sends
//! dossiers through every channel (the portal's own push and pull included), drives
//! them through their lives (one pays its fee online), and prints a timeline, a table
//! of final statuses and the statistics. It succeeds when every dossier ended where it should.

mod peers;
mod report;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use motcua_schemas::Status;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::auth::{
    keys,
    tokens::{Claims, mint},
};
use crate::config::relocate::relocated;
use crate::settings::Settings;
use motcua_simulators::{
    dvcqg::{DvcqgSim, Listed},
    paygov::PaygovSim,
    vnpost::VnpostSim,
};
use report::{Outcome, report};

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DemoError(String);

fn fail(e: impl std::fmt::Display) -> DemoError {
    DemoError(e.to_string())
}

/// Processing time of every procedure in the demo.
const PROCESSING: &str = "12s";

struct Demo {
    started: Instant,
    http: reqwest::Client,
    base: String,
    settings: Arc<Settings>,
    config_dir: PathBuf,
}

impl Demo {
    fn say(&self, who: &str, what: impl std::fmt::Display) {
        println!("[{:>5.1}s] {who:<2} {what}", self.started.elapsed().as_secs_f64());
    }

    fn token(&self, client: &str) -> Result<String, DemoError> {
        let c = self.settings.clients.by_id(client).ok_or_else(|| fail(format!("no client {client}")))?;
        let algorithm = *c.algorithms.first().ok_or_else(|| fail("no algorithm"))?;
        let key = keys::load_private_pem(&self.config_dir.join("dev").join(format!("{client}.key.pem")), algorithm)
            .map_err(fail)?;
        let claims = Claims::new(&c.issuer, &c.id, &self.settings.gateway.audience, 600);
        mint(&claims, &key, algorithm, c.keys.first().and_then(|k| k.kid.as_deref())).map_err(fail)
    }

    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        client: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, String), DemoError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(self.token(client)?);
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.map_err(fail)?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.map_err(fail)?))
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        client: &str,
        body: Option<Value>,
    ) -> Result<Value, DemoError> {
        let body = body.map(|b| ("application/json", serde_json::to_vec(&b).unwrap_or_default()));
        let (status, text) = self.request(method, path, client, body).await?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(fail(format!("{path} answered {status}: {text}")));
        }
        Ok(value)
    }

    /// Pushes a record as the national portal does; returns the gateway's code.
    async fn push(&self, record: &Value) -> Result<String, DemoError> {
        let envelope =
            json!({ "service": "DongBoHoSoMC", "isUpdating": "False", "madonvi": PORTAL_UNIT, "data": [record] });
        let response = self
            .http
            .post(format!("{}/v1/dvcqg/dossiers", self.base))
            .basic_auth(PUSH_CLIENT, Some(PUSH_SECRET))
            .json(&envelope)
            .send()
            .await
            .map_err(fail)?;
        let reply: Value = response.json().await.map_err(fail)?;
        if reply["error_code"] != 0 {
            return Err(fail(format!("the push was refused: {reply}")));
        }
        let code = record["MaHoSo"].as_str().unwrap_or_default();
        self.code_of(code).await?.ok_or_else(|| fail(format!("no dossier for {code}")))
    }

    /// The gateway's code of the dossier the portal knows as `portal_code`.
    async fn code_of(&self, portal_code: &str) -> Result<Option<String>, DemoError> {
        let list = self.json(reqwest::Method::GET, "/v1/admin/dossiers?unit=04606", "admin-dev", None).await?;
        Ok(list["dossiers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["external_ref"] == portal_code)
            .and_then(|d| d["code"].as_str().map(str::to_owned)))
    }

    async fn dossier(&self, code: &str) -> Result<Value, DemoError> {
        self.json(reqwest::Method::GET, &format!("/v1/dossiers/{code}"), "admin-dev", None).await
    }

    async fn event(
        &self,
        who: &str,
        code: &str,
        desk_client: &str,
        kind: &str,
        extra: Value,
    ) -> Result<Value, DemoError> {
        let mut body = json!({ "event_id": format!("demo-{code}-{kind}"), "type": kind, "at": jiff::Timestamp::now().to_string() });
        if let (Some(b), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(extra.clone());
        }
        let after = self
            .json(reqwest::Method::POST, &format!("/v1/desk/dossiers/{code}/events"), desk_client, Some(body))
            .await?;
        self.say(
            who,
            format!("{kind:<22} → status {:>2} {}", after["status"], after["status_name"].as_str().unwrap_or_default()),
        );
        Ok(after)
    }

    async fn until<T, F, Fut>(&self, what: &str, seconds: u64, mut check: F) -> Result<T, DemoError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, DemoError>>,
    {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(value) = check().await? {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(fail(format!("gave up waiting for {what}")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The citizen pays dossier `code` at the payment platform's page; the platform's
/// callback reaches the gateway and the dossier goes back to processing.
async fn pay_online(demo: &Demo, payments: &PaygovSim, code: &str) -> Result<(), DemoError> {
    let reference = demo
        .until("the payment opened at the platform", 10, || async {
            Ok(payments.opened().into_iter().find(|(_, o)| o.init["ThongTinBienLai"]["MaHoSo"] == code).map(|(r, _)| r))
        })
        .await?;
    let callback = payments
        .pay(&reference, "PP261201093512000457", None)
        .ok_or_else(|| fail("the platform has no such payment"))?;
    let response =
        demo.http.post(format!("{}/v1/paygov/confirm", demo.base)).json(&callback).send().await.map_err(fail)?;
    let reply: Value = response.json().await.map_err(fail)?;
    if reply["MaLoi"] != "00" {
        return Err(fail(format!("the platform's callback was refused: {reply}")));
    }
    let status = demo
        .until("the payment recorded", 10, || async {
            let d = demo.dossier(code).await?;
            Ok((d["status"] == 4).then_some(d["status"].clone()))
        })
        .await?;
    demo.say("A", format!("the citizen pays 8,000 đồng online (PayGov {reference}) → status {status}"));
    Ok(())
}

/// A dossier as the national portal holds it (docs/PEERS.md §1.5): every scalar a string.
fn national_record(code: &str, name: &str, id_number: &str) -> Value {
    let now = motcua_schemas::time::format_portal(jiff::Timestamp::now());
    json!({
        "MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Đăng ký khai sinh", "ChuHoSo": name,
        "LoaiDoiTuong": "1", "SoGiayToChuHoSo": id_number, "SoDienThoai": "0912345678",
        "MaDonViXuLy": PORTAL_UNIT, "NgayNopHoSo": now, "HinhThuc": "0", "KenhThucHien": "2",
        "TaiLieuNop": [{ "TenTepDinhKem": "Tờ khai đăng ký khai sinh", "IsDeleted": "False",
                         "MaThanhPhanHoSo": "TP01", "DuongDanTaiTepTin": "https://dichvucong.gov.vn/tep/1" }],
        "DanhSachLePhi": [], "NoiNopHoSo": "2"
    })
}

fn portal_dossier(id: &str, unit: &str, return_method: u8) -> Value {
    let mut body: Value =
        serde_json::from_str(include_str!("../../../schemas/samples/portal-dossier.json")).unwrap_or_default();
    body["MaHoSoCongDVC"] = id.into();
    body["MaDonViNhan"] = unit.into();
    body["HinhThucNhanKetQua"] = return_method.into();
    body
}

fn postal_dossier(item: &str, service: &str, procedure: &str) -> Vec<u8> {
    include_str!("../../../schemas/samples/postal-dossier.xml")
        .replace("EE123456785VN", item)
        .replace("NHAN_HO_SO_VA_TRA_KET_QUA", service)
        .replace("1.001193", procedure)
        .into_bytes()
}

fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// The demo configuration: the sample, relocated, all day, procedures of 12 working
/// seconds, marks 6 s apart, fast retries, peers on loopback.
fn demo_settings(
    source: &Path,
    data_dir: &Path,
    portal: &str,
    postal: &str,
    desk: &str,
    payment: &str,
) -> Result<Settings, DemoError> {
    let mut table = relocated(source, data_dir).map_err(fail)?;
    let hash = crate::auth::password::hash(PUSH_SECRET).map_err(fail)?;
    let push_client: toml::Table = toml::from_str(&format!(
        "id = \"{PUSH_CLIENT}\"\nrole = \"portal\"\nissuer = \"{PUSH_CLIENT}\"\nbasic_hash = \"{hash}\"\nrate = {{ per_second = 50, burst = 100 }}\n"
    ))
    .map_err(fail)?;
    if let Some(clients) = table.get_mut("clients").and_then(toml::Value::as_array_mut) {
        clients.push(push_client.into());
    }
    let national: toml::Table = toml::from_str(&format!(
        r#"
id = "dvcqg"
url = "{portal}"
protocol = "dvcqg"
[dvcqg]
transport = "session"
auth_path = "/auth"
service_path = "/service"
username_env = "DEMO_DVCQG_USER"
password_env = "DEMO_DVCQG_PASSWORD"
madonvi = "000.00.00.H38"
replies = [
  {{ error_code = -1, message_contains = "phiên", verdict = "session" }},
  {{ error_code = -3, message_contains = "đã tồn tại", verdict = "exists" }},
  {{ error_code = 99, verdict = "permanent" }},
]
units = [{{ portal = "{PORTAL_UNIT}", unit = "04606" }}]
constants = {{ NoiNopHoSo = "2" }}
pull = {{ units = ["{PORTAL_UNIT}"], interval_secs = 1, lookback_days = 1, username_env = "DEMO_DVCQG_PULL_USER", password_env = "DEMO_DVCQG_PULL_PASSWORD" }}
"#
    ))
    .map_err(fail)?;
    table.insert("portal".into(), national.into());
    let post_office: toml::Table = toml::from_str(&format!(
        r#"
id = "vnpost"
url = "{postal}"
protocol = "vnpost"
[vnpost]
customer_code = "{customer}"
auth = {{ kind = "oauth", token_url = "{postal}/token", key_env = "DEMO_VNPOST_KEY", secret_env = "DEMO_VNPOST_SECRET" }}
order_path = "/order"
cancel_path = "/cancel"
tracking_path = "/tracking"
poll_interval_secs = 1
item_codes_from_pool = true
pool_low_water = 2
statuses = [{{ status = 500, verdict = "retry" }}]
tracking = [{{ status_code = 2, meaning = "picked_up" }}, {{ status_code = 4, meaning = "delivered" }}]
codes = [{{ unit = "15", province = 33 }}]
desks = [
  {{ desk = "mc-yen-bai", address = "Trụ sở UBND phường Yên Bái", phone = "02163852000", unit = "04252" }},
  {{ desk = "mc-tram-tau", address = "Trụ sở UBND xã Trạm Tấu", phone = "02163878123", unit = "04606" }},
]
"#,
        customer = motcua_simulators::vnpost::Setup::default().customer_code
    ))
    .map_err(fail)?;
    table.insert("postal".into(), post_office.into());
    let platform: toml::Table = toml::from_str(&format!(
        r#"
init_url = "{payment}/init"
query_url = "{payment}/query"
partner = "{partner}"
secret_env = "DEMO_PAYGOV_SECRET"
ip = "127.0.0.1"
query_after_secs = 5
query_every_secs = 1
accounts = [{{ unit = "15", account = "3711000123456", bank_code = "01201001", name = "Văn phòng UBND tỉnh Yên Bái" }}]
"#,
        partner = motcua_simulators::paygov::Setup::default().partner
    ))
    .map_err(fail)?;
    table.insert("payment".into(), platform.into());
    let calendar =
        table.get_mut("calendar").and_then(toml::Value::as_table_mut).ok_or_else(|| fail("no [calendar]"))?;
    calendar.insert("working_day_hours".into(), 24.into());
    let mut hours = toml::Table::new();
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        hours.insert(day.into(), toml::Value::Array(vec!["00:00-24:00".into()]));
    }
    calendar.insert("office_hours".into(), hours.into());
    // Periods with hours of their own (winter hours) would override these.
    calendar.remove("periods");
    calendar.remove("years");
    for procedure in table.get_mut("procedures").and_then(toml::Value::as_array_mut).into_iter().flatten() {
        if let Some(p) = procedure.as_table_mut() {
            p.insert("processing".into(), PROCESSING.into());
            p.remove("cutoff");
        }
    }
    let mut set = |section: &str, key: &str, value: toml::Value| {
        if let Some(t) = table.get_mut(section).and_then(toml::Value::as_table_mut) {
            t.insert(key.into(), value);
        }
    };
    set("deadlines", "due_soon_lead", "6s".into());
    set("deadlines", "explanation_grace", "6s".into());
    set("retry", "base_ms", 100.into());
    set("retry", "cap_ms", 1000.into());
    for d in crate::config::relocate::entries_where(&mut table, "desks", "id", "mc-yen-bai") {
        d.insert("url".into(), desk.into());
    }
    let text = toml::to_string(&table).map_err(fail)?;
    let (account, post_office, platform) = (
        motcua_simulators::dvcqg::Setup::default(),
        motcua_simulators::vnpost::Setup::default(),
        motcua_simulators::paygov::Setup::default(),
    );
    let env = |name: &str| match name {
        "DEMO_DVCQG_USER" => Some(account.username.clone()),
        "DEMO_DVCQG_PASSWORD" => Some(account.password.clone()),
        "DEMO_DVCQG_PULL_USER" => Some(account.pull.username.clone()),
        "DEMO_DVCQG_PULL_PASSWORD" => Some(account.pull.password.clone()),
        "DEMO_VNPOST_KEY" => Some(post_office.key.clone()),
        "DEMO_VNPOST_SECRET" => Some(post_office.secret.clone()),
        "DEMO_PAYGOV_SECRET" => Some(platform.secret.clone()),
        _ => None,
    };
    Settings::parse_with_env(&text, &data_dir.join("demo.toml"), &env).map_err(fail)
}

/// The demo's client for the national portal's pushes, and its Basic password.
const PUSH_CLIENT: &str = "dvcqg-demo";
const PUSH_SECRET: &str = "mat-khau-cua-cong-quoc-gia";
/// The portal's id of the Trạm Tấu desk's unit.
const PORTAL_UNIT: &str = "000.07.20.H38";

/// Runs the demo on the configuration at `config`; true when every dossier ended
/// where it should.
pub async fn run(config: &Path) -> Result<bool, DemoError> {
    let started = Instant::now();
    let workdir = std::env::temp_dir().join(format!(
        "motcua-demo-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    let data_dir = workdir.join("data");
    std::fs::create_dir_all(&data_dir).map_err(fail)?;
    let portal = DvcqgSim::start(motcua_simulators::dvcqg::Setup::default()).await.map_err(fail)?;
    let post = VnpostSim::start(motcua_simulators::vnpost::Setup::default()).await.map_err(fail)?;
    let desk = peers::start().await.map_err(fail)?;
    let payments = PaygovSim::start(motcua_simulators::paygov::Setup::default()).await.map_err(fail)?;
    let settings = demo_settings(config, &data_dir, &portal.url(), &post.url(), &desk.url(), &payments.url())?;
    let settings_for_run = settings.clone();

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (started_tx, started_rx) = oneshot::channel();
    let gateway = tokio::spawn(async move {
        crate::run::run(
            settings_for_run,
            None,
            async {
                let _ = stop_rx.await;
            },
            move |s| {
                let _ = started_tx.send(s.addr);
            },
        )
        .await
    });
    let addr = started_rx.await.map_err(|_| fail("the gateway did not start"))?;
    let ca = std::fs::read(data_dir.join("tls/dev-ca.pem")).map_err(fail)?;
    let http = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).map_err(fail)?)
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(fail)?;
    let demo = Demo {
        started,
        http,
        base: format!("https://{addr}"),
        settings: Arc::new(settings),
        config_dir: config.parent().unwrap_or(Path::new(".")).to_owned(),
    };
    demo.say(
        "",
        format!(
            "gateway on https://{addr}; national portal {}, VNPost {}, push desk mc-yen-bai {}; pull desk mc-tram-tau played here",
            portal.url(),
            post.url(),
            desk.url()
        ),
    );
    demo.say(
        "",
        format!("every procedure takes {PROCESSING} of working time; due-soon 6 s before, explanation 6 s after"),
    );

    let result = script(&demo, &portal, &post, &desk, &payments).await;
    let _ = stop_tx.send(());
    let _ = gateway.await;
    let _ = std::fs::remove_dir_all(&workdir);
    result
}

async fn script(
    demo: &Demo,
    portal: &DvcqgSim,
    post: &VnpostSim,
    desk: &peers::Peer,
    payments: &PaygovSim,
) -> Result<bool, DemoError> {
    use reqwest::Method;
    let mut outcomes = Vec::new();
    let batch: Vec<String> = (1..=5)
        .filter_map(|n| motcua_schemas::S10ItemCode::build("EE", 70_000_000 + n, "VN").ok())
        .map(|c| c.to_string())
        .collect();
    let (status, reply) = demo
        .request(Method::POST, "/v1/admin/waybills", "admin-dev", Some(("text/plain", batch.join("\n").into_bytes())))
        .await?;
    if status != 200 {
        return Err(fail(format!("the waybill import answered {status}: {reply}")));
    }
    demo.say("", format!("{} VNPost waybill codes imported into the pool", batch.len()));

    // C first: its clock runs while the others go through.
    let c = demo
        .json(Method::POST, "/v1/portal/dossiers", "portal-dev", Some(portal_dossier("DEMO-C", "04252", 3)))
        .await?;
    let c_code = c["code"].as_str().unwrap_or_default().to_owned();
    demo.say("C", format!("portal, online result: {c_code} due {}", c["due_at"].as_str().unwrap_or_default()));
    demo.event("C", &c_code, "mc-yen-bai-dev", "received", json!({})).await?;
    demo.event("C", &c_code, "mc-yen-bai-dev", "processing", json!({})).await?;

    // A: portal, toàn trình, result by post.
    let a = demo
        .json(Method::POST, "/v1/portal/dossiers", "portal-dev", Some(portal_dossier("DEMO-A", "04252", 2)))
        .await?;
    let a_code = a["code"].as_str().unwrap_or_default().to_owned();
    demo.say("A", format!("portal, result by post: {a_code} → desk {}", a["desk"].as_str().unwrap_or_default()));
    demo.until("A at the push desk", 10, || async {
        Ok(desk.calls().iter().any(|c| c.path == "/v1/dossiers" && c.key == a_code).then_some(()))
    })
    .await?;
    demo.say("A", "delivered to the push desk mc-yen-bai");
    demo.event("A", &a_code, "mc-yen-bai-dev", "received", json!({})).await?;
    demo.event("A", &a_code, "mc-yen-bai-dev", "payment_requested", json!({ "amount": 8000 })).await?;
    pay_online(demo, payments, &a_code).await?;
    demo.event(
        "A",
        &a_code,
        "mc-yen-bai-dev",
        "result_ready",
        json!({ "result_documents": [{ "name": "Giấy khai sinh (bản chính)" }] }),
    )
    .await?;
    let item = demo
        .until("the postal return order", 10, || async {
            let d = demo.dossier(&a_code).await?;
            let created = d["postal"]["orders"][0]["state"] == "created";
            Ok(d["postal"]["return_item"].as_str().filter(|_| created).map(str::to_owned))
        })
        .await?;
    demo.say(
        "A",
        format!("postal return order created with VNPost (OrderNumber {a_code}), S10 item {item} from the pool"),
    );
    post.track(&a_code, 2, "Bưu cục đã nhận bưu gửi");
    post.track(&a_code, 4, "Phát thành công");
    let status = demo
        .until("the delivery read from the tracking feed", 10, || async {
            let d = demo.dossier(&a_code).await?;
            Ok((d["status"] == 10).then_some(d["status"].clone()))
        })
        .await?;
    demo.say("A", format!("post delivers the result (read from VNPost's tracking feed) → status {status}"));
    demo.json(Method::POST, &format!("/v1/portal/dossiers/{a_code}/rating"), "portal-dev", Some(json!({ "level": 3 })))
        .await?;
    demo.say("A", "the citizen rates the service: rất hài lòng");
    outcomes.push(Outcome {
        label: "A",
        story: "portal → push desk → fee paid online → result by post",
        code: a_code,
        expected: Status::Returned,
        expect_overdue: false,
    });

    // B: postal dossier to the pull desk, with a supplement.
    let item_b =
        motcua_schemas::S10ItemCode::build("EE", (jiff::Timestamp::now().as_second() % 90_000_000) as u32, "VN")
            .map_err(fail)?;
    let (status, reply) = demo
        .request(
            Method::POST,
            "/v1/postal/dossiers",
            "postal-dev",
            Some(("application/xml", postal_dossier(item_b.as_str(), "NHAN_HO_SO", "1.004873"))),
        )
        .await?;
    let b_code = xml_text(&reply, "MaHoSo").ok_or_else(|| fail(format!("postal intake answered {status}: {reply}")))?;
    demo.say(
        "B",
        format!("post, item {item_b}: {b_code}, appointment {}", xml_text(&reply, "NgayHenTra").unwrap_or_default()),
    );
    let inbox = demo.json(Method::GET, "/v1/desk/inbox?max=10", "mc-tram-tau-dev", None).await?;
    demo.say(
        "B",
        format!("pull desk mc-tram-tau polls its inbox: {} item(s)", inbox["items"].as_array().map_or(0, Vec::len)),
    );
    demo.json(Method::POST, &format!("/v1/desk/inbox/{b_code}/ack"), "mc-tram-tau-dev", None).await?;
    demo.event("B", &b_code, "mc-tram-tau-dev", "received", json!({})).await?;
    let asked = demo
        .event(
            "B",
            &b_code,
            "mc-tram-tau-dev",
            "supplement_requested",
            json!({ "items": ["Bản sao giấy tờ tùy thân"] }),
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resumed = demo.event("B", &b_code, "mc-tram-tau-dev", "supplement_received", json!({})).await?;
    demo.say(
        "B",
        format!(
            "the clock stood still: due {} → {}",
            asked["due_at"].as_str().unwrap_or_default(),
            resumed["due_at"].as_str().unwrap_or_default()
        ),
    );
    demo.event("B", &b_code, "mc-tram-tau-dev", "result_ready", json!({})).await?;
    demo.event("B", &b_code, "mc-tram-tau-dev", "returned_at_desk", json!({})).await?;
    outcomes.push(Outcome {
        label: "B",
        story: "post → pull desk, supplement, at the desk",
        code: b_code,
        expected: Status::Returned,
        expect_overdue: false,
    });

    // D, pushed by the national portal in its own record shape, is refused at the
    // desk; E, listed by the portal and pulled by the gateway, is withdrawn.
    let d_record = national_record("DEMO-D-0001", "Đinh Văn Dũng", "015190004321");
    portal.hold(d_record.clone());
    let d_code = demo.push(&d_record).await?;
    demo.say("D", format!("pushed by the national portal (HTTP Basic, its record shape): {d_code}"));
    demo.event(
        "D",
        &d_code,
        "mc-tram-tau-dev",
        "refused",
        json!({ "reason": "Hồ sơ không thuộc thẩm quyền giải quyết" }),
    )
    .await?;
    outcomes.push(Outcome {
        label: "D",
        story: "national portal push → refused at the desk",
        code: d_code,
        expected: Status::NotReceived,
        expect_overdue: false,
    });
    // Listed as the portal's pull services list (owner, ID number and files in the
    // row; procedure and unit in the details), for a procedure of the catalogue.
    let mut e = Listed::sample(PORTAL_UNIT, "DEMO-E-0001", motcua_schemas::time::to_vn(jiff::Timestamp::now()).date());
    e.row["hoTen"] = "Lường Thị Én".into();
    e.row["soCmnd"] = "015190005678".into();
    e.detail["MaTTHC"] = "1.001193".into();
    e.detail["HinhThucNhanKQ"] = "0".into();
    portal.list(e);
    let e_code =
        demo.until("E pulled from the national portal", 15, || async { demo.code_of("DEMO-E-0001").await }).await?;
    demo.say("E", format!("pulled from the national portal's list: {e_code}"));
    demo.event("E", &e_code, "mc-tram-tau-dev", "received", json!({})).await?;
    demo.event("E", &e_code, "mc-tram-tau-dev", "withdrawn", json!({})).await?;
    outcomes.push(Outcome {
        label: "E",
        story: "national portal pull → withdrawn",
        code: e_code,
        expected: Status::Withdrawn,
        expect_overdue: false,
    });

    // C: the due-soon notice reaches the desk, which apologizes in time; the overdue
    // mark follows; the desk explains; the result goes out online.
    let notice = |kind: &'static str| {
        let code = c_code.clone();
        move || {
            let code = code.clone();
            async move {
                Ok(desk
                    .calls()
                    .iter()
                    .any(|n| n.path == "/v1/notices" && n.json()["kind"] == kind && n.json()["code"] == code.as_str())
                    .then_some(()))
            }
        }
    };
    demo.until("C's due-soon notice", 30, notice("due_soon")).await?;
    demo.say("C", "due-soon notice at the desk");
    let appointment = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2)).to_string();
    demo.event(
        "C",
        &c_code,
        "mc-yen-bai-dev",
        "apology",
        json!({ "new_appointment": appointment, "reason": "Cần xác minh thêm thông tin" }),
    )
    .await?;
    let c_portal = c_code.clone();
    demo.until("C's apology at the national portal", 10, || async {
        let steps = portal.steps(&c_portal);
        let apology = |s: &Value| s["NoiDungXuLy"].as_str().is_some_and(|t| t.ends_with("Cần xác minh thêm thông tin"));
        Ok(steps.iter().any(apology).then_some(()))
    })
    .await?;
    demo.say("C", "Mẫu 04 apology issued; the national portal has it as a progress step with the new appointment");
    demo.until("C's overdue mark", 30, notice("overdue")).await?;
    demo.say("C", "overdue: notices to the desk and to the provincial centre");
    demo.event(
        "C",
        &c_code,
        "mc-yen-bai-dev",
        "explanation",
        json!({ "text": "Báo cáo giải trình gửi Chủ tịch UBND xã" }),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    demo.event("C", &c_code, "mc-yen-bai-dev", "result_ready", json!({ "result_documents": [{ "name": "Kết quả (bản điện tử)", "url": "https://mc-yen-bai.example.vn/kq/c" }] })).await?;
    demo.until("C's online result accepted by the portal", 15, || async {
        Ok((demo.dossier(&c_code).await?["status"] == 10).then_some(()))
    })
    .await?;
    demo.say("C", "the portal accepted the online result → status 10");
    outcomes.push(Outcome {
        label: "C",
        story: "portal, overdue with an apology, online result",
        code: c_code,
        expected: Status::Returned,
        expect_overdue: true,
    });

    report(demo, &outcomes, portal, post).await
}
