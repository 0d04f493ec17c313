//! Test configurations: the sample configuration, made to run anywhere (ephemeral
//! ports, absolute key paths, a temporary data directory) and then edited per test.

use toml::{Table, Value};

use crate::repo;

/// A configuration under construction.
#[derive(Debug, Clone)]
pub struct TestConfig {
    /// The TOML document.
    pub table: Table,
}

fn absolutize(value: &mut Value) {
    if let Value::String(path) = value
        && !path.starts_with('/')
    {
        *path = repo().join("config").join(&*path).display().to_string();
    }
}

impl TestConfig {
    /// The sample configuration on ephemeral loopback ports.
    pub fn sample() -> TestConfig {
        let mut table: Table = toml::from_str(&crate::repo_file("config/gateway.toml")).expect("the sample parses");
        let gateway = table["gateway"].as_table_mut().expect("[gateway]");
        gateway.insert("listen".into(), "127.0.0.1:0".into());
        gateway.insert("admin_listen".into(), "127.0.0.1:0".into());
        absolutize(gateway.get_mut("signing_key_file").expect("signing key"));
        for file in table.get_mut("unit_files").and_then(Value::as_array_mut).into_iter().flatten() {
            absolutize(file);
        }
        if let Some(file) =
            table.get_mut("ui").and_then(Value::as_table_mut).and_then(|ui| ui.get_mut("operators_file"))
        {
            absolutize(file);
        }
        for client in table["clients"].as_array_mut().expect("[[clients]]") {
            let client = client.as_table_mut().expect("client table");
            for key in ["key_file", "jwks_file"] {
                if let Some(v) = client.get_mut(key) {
                    absolutize(v);
                }
            }
        }
        TestConfig { table }
    }

    /// Applies an edit to the document.
    pub fn edit(mut self, f: impl FnOnce(&mut Table)) -> TestConfig {
        f(&mut self.table);
        self
    }

    /// Sets a value at a dotted path of tables (`limits.body_bytes`).
    pub fn set(self, path: &str, value: impl Into<Value>) -> TestConfig {
        let value = value.into();
        self.edit(|t| {
            let mut parts: Vec<&str> = path.split('.').collect();
            let last = parts.pop().expect("a path");
            let mut at = t;
            for part in parts {
                at = at.entry(part).or_insert_with(|| Value::Table(Table::new())).as_table_mut().expect("a table");
            }
            at.insert(last.into(), value);
        })
    }

    /// Sets a field of the desk `id`.
    pub fn desk(self, id: &str, key: &str, value: impl Into<Value>) -> TestConfig {
        let value = value.into();
        self.edit(|t| {
            let desk = t["desks"]
                .as_array_mut()
                .and_then(|d| d.iter_mut().find(|d| d.get("id").and_then(Value::as_str) == Some(id)))
                .unwrap_or_else(|| panic!("no desk {id}"));
            let desk = desk.as_table_mut().expect("desk table");
            if value.as_str() == Some("") {
                desk.remove(key);
            } else {
                desk.insert(key.into(), value);
            }
        })
    }

    /// Sets a field of the client `id`.
    pub fn client(self, id: &str, key: &str, value: impl Into<Value>) -> TestConfig {
        let value = value.into();
        self.edit(|t| {
            let client = t["clients"]
                .as_array_mut()
                .and_then(|c| c.iter_mut().find(|c| c.get("id").and_then(Value::as_str) == Some(id)))
                .unwrap_or_else(|| panic!("no client {id}"));
            client.as_table_mut().expect("client table").insert(key.into(), value);
        })
    }

    /// Adds a client (a TOML table).
    pub fn add_client(self, client: Table) -> TestConfig {
        self.edit(|t| t["clients"].as_array_mut().expect("[[clients]]").push(Value::Table(client)))
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        toml::to_string(&self.table).expect("a TOML document renders")
    }
}

impl TestConfig {
    /// The sample with fast retries (50 ms base, 500 ms cap) and a short call timeout.
    pub fn fast_retries() -> TestConfig {
        TestConfig::sample()
            .set("retry.base_ms", 50)
            .set("retry.cap_ms", 500)
            .set("retry.timeout_secs", 2)
            .set("retry.max_attempts", 50)
    }
}

impl TestConfig {
    /// Office hours all day, every day (24-hour working days, no holidays), so that
    /// deadlines can be tested in seconds and minutes at any time of day.
    pub fn all_day(self) -> TestConfig {
        self.edit(|t| {
            let calendar = t["calendar"].as_table_mut().expect("[calendar]");
            calendar.insert("working_day_hours".into(), 24.into());
            let all_day = Value::Array(vec![Value::String("00:00-24:00".into())]);
            let mut hours = Table::new();
            for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
                hours.insert(day.into(), all_day.clone());
            }
            calendar.insert("office_hours".into(), Value::Table(hours));
            // Periods with hours of their own (winter hours) would override these.
            calendar.remove("periods");
            calendar.remove("years");
        })
    }

    /// Points the portal, postal service and desks at peers (`None` leaves one as is).
    pub fn peers(self, portal: Option<&str>, postal: Option<&str>, desks: &[(&str, &str)]) -> TestConfig {
        let mut config = self;
        if let Some(url) = portal {
            config = config.set("portal.url", url);
        }
        if let Some(url) = postal {
            config = config.set("postal.url", url);
        }
        for (desk, url) in desks {
            config = config.desk(desk, "url", *url);
        }
        config
    }
}

impl TestConfig {
    /// Lifts every client's rate limit (for tests that load the gateway).
    pub fn unthrottled(self) -> TestConfig {
        self.edit(|t| {
            for client in t["clients"].as_array_mut().expect("[[clients]]") {
                let mut rate = Table::new();
                rate.insert("per_second".into(), 100_000.into());
                rate.insert("burst".into(), 100_000.into());
                client.as_table_mut().expect("client table").insert("rate".into(), Value::Table(rate));
            }
        })
    }
}

/// The environment the national portal's account comes from in tests.
pub fn dvcqg_env() -> Vec<(String, String)> {
    vec![
        ("MOTCUA_DVCQG_USER".into(), "motcua".into()),
        ("MOTCUA_DVCQG_PASSWORD".into(), "mat-khau-thu".into()),
        ("MOTCUA_LGSP_SECRET".into(), "bi-mat-lgsp".into()),
        ("MOTCUA_DVCQG_PULL_USER".into(), "motcua-gplx".into()),
        ("MOTCUA_DVCQG_PULL_PASSWORD".into(), "mat-khau-keo".into()),
    ]
}

impl TestConfig {
    /// The portal as the national portal at `url` (the simulator's session
    /// transport), with the reply table the simulator's answers need, the unit id
    /// `000.07.20.H38` mapped to Trạm Tấu (04606), and `[portal.dvcqg.pull]` when
    /// `pull_every_secs` is given. Run with [`dvcqg_env`].
    pub fn dvcqg(self, url: &str, pull_every_secs: Option<u64>) -> TestConfig {
        let mut section: Table = toml::from_str(
            r#"
transport = "session"
auth_path = "/auth"
service_path = "/service"
username_env = "MOTCUA_DVCQG_USER"
password_env = "MOTCUA_DVCQG_PASSWORD"
madonvi = "000.00.00.H38"
replies = [
  { error_code = -1, message_contains = "phiên", verdict = "session" },
  { error_code = -3, message_contains = "đã tồn tại", verdict = "exists" },
  { error_code = 3, message_contains = "đã tồn tại", verdict = "exists" },
  { error_code = 99, verdict = "permanent" },
]
units = [{ portal = "000.07.20.H38", unit = "04606" }]
constants = { NoiNopHoSo = "2", DSKetNoiCSDL = [{ MaCSDL = "7" }] }
fee_constants = { HinhThucThu = "1", LoaiPhiLePhi = "1" }
"#,
        )
        .expect("the section parses");
        if let Some(secs) = pull_every_secs {
            let pull: Table = toml::from_str(&format!(
                "units = [\"000.07.20.H38\"]\ninterval_secs = {secs}\nlookback_days = 3\n\
                 username_env = \"MOTCUA_DVCQG_PULL_USER\"\npassword_env = \"MOTCUA_DVCQG_PULL_PASSWORD\"\n"
            ))
            .expect("the pull parses");
            section.insert("pull".into(), Value::Table(pull));
        }
        self.set("portal.url", url)
            .set("portal.id", "dvcqg")
            .set("portal.protocol", "dvcqg")
            .set("portal.dvcqg", section)
    }

    /// As [`TestConfig::dvcqg`], through a provincial connector behind an LGSP.
    pub fn dvcqg_connector(self, url: &str) -> TestConfig {
        let section: Table = toml::from_str(&format!(
            r#"
transport = "connector"
create_path = "/connector/ThemMoi"
update_path = "/connector/CapNhat"
progress_path = "/connector/DongBoTienTrinh"
oauth = {{ token_url = "{url}/token", client_id = "motcua-lgsp", client_secret_env = "MOTCUA_LGSP_SECRET" }}
replies = [{{ error_code = -3, message_contains = "đã tồn tại", verdict = "exists" }}]
"#
        ))
        .expect("the section parses");
        self.set("portal.url", url)
            .set("portal.id", "dvcqg")
            .set("portal.protocol", "dvcqg")
            .set("portal.dvcqg", section)
    }
}

/// The environment VNPost's client credentials come from in tests.
pub fn vnpost_env() -> Vec<(String, String)> {
    vec![("MOTCUA_VNPOST_KEY".into(), "motcua-key".into()), ("MOTCUA_VNPOST_SECRET".into(), "motcua-secret".into())]
}

impl TestConfig {
    /// The postal peer as VNPost at `url` (the simulator), the gateway its client:
    /// client credentials, waybill codes from the pool, two tracking events a page,
    /// VNPost's numbers for Lào Cai (33) and Trạm Tấu (3320), the Trạm Tấu desk's
    /// address. Run with [`vnpost_env`].
    pub fn vnpost(self, url: &str) -> TestConfig {
        let section: Table = toml::from_str(&format!(
            r#"
customer_code = "HCC-LAOCAI"
auth = {{ kind = "oauth", token_url = "{url}/token", key_env = "MOTCUA_VNPOST_KEY", secret_env = "MOTCUA_VNPOST_SECRET" }}
order_path = "/order"
cancel_path = "/cancel"
tracking_path = "/tracking"
page_size = 2
poll_interval_secs = 1
item_codes_from_pool = true
pool_low_water = 5
statuses = [{{ status = 500, verdict = "retry" }}]
otherwise = "permanent"
tracking = [
  {{ status_code = 2, meaning = "picked_up" }},
  {{ status_code = 4, meaning = "delivered" }},
  {{ status_code = 5, meaning = "undeliverable" }},
]
codes = [{{ unit = "15", province = 33 }}, {{ unit = "04606", district = 3320 }}]
desks = [{{ desk = "mc-tram-tau", address = "Tổ 1, xã Trạm Tấu", phone = "02163878123", unit = "04606" }}]
"#
        ))
        .expect("the section parses");
        self.set("postal.url", url)
            .set("postal.id", "vnpost")
            .set("postal.protocol", "vnpost")
            .set("postal.vnpost", section)
    }
}

/// The environment the payment platform's secret comes from in tests (the samples').
pub fn payment_env() -> Vec<(String, String)> {
    vec![("MOTCUA_PAYGOV_SECRET".into(), "bi-mat-thu-nghiem-15".into())]
}

impl TestConfig {
    /// Fees paid online through the payment platform at `url` (the simulator), as the
    /// samples' partner, every unit's fees to one provincial account, a payment asked
    /// after one second after opening. Run with [`payment_env`].
    pub fn payment(self, url: &str) -> TestConfig {
        let section: Table = toml::from_str(&format!(
            r#"
init_url = "{url}/init"
query_url = "{url}/query"
partner = "LAOCAI_DVC"
secret_env = "MOTCUA_PAYGOV_SECRET"
ip = "10.15.1.20"
query_after_secs = 1
query_every_secs = 1
accounts = [{{ unit = "15", account = "3711000123456", bank_code = "01201001", name = "Văn phòng UBND tỉnh Lào Cai" }}]
"#
        ))
        .expect("the section parses");
        self.set("payment", section)
    }
}
