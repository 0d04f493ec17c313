//! A national public service portal (DVCQG) on loopback (docs/PEERS.md §1): login and
//! the service envelope (`/auth`, `/service`), a provincial connector's bare arrays
//! (`/connector/ThemMoi`, `/connector/CapNhat`, `/connector/DongBoTienTrinh`), an
//! LGSP's token endpoint (`/token`), the pull services (`pull`) and the catalogue
//! through a connector (`catalogue`). It checks every request as the portal would, keeps
//! what it took, lists dossiers for the gateway to pull, and can be told to expire
//! sessions, answer "already exists", answer HTTP 200 with an error, or go down.

pub mod catalogue;
pub mod check;
pub mod pull;

pub use pull::{Listed, PullSetup};

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Map, Value, json};

/// How the simulated portal is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The account the gateway logs in with.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The `dstcode` header every request must carry, if any.
    pub dstcode: Option<String>,
    /// How long a session lives.
    pub session_ttl: Duration,
    /// The LGSP client in front of the portal (`client_id`, `client_secret`), if any.
    pub lgsp: Option<(String, String)>,
    /// The pull services' account and key.
    pub pull: PullSetup,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            username: "motcua".into(),
            password: "mat-khau-thu".into(),
            dstcode: None,
            session_ttl: Duration::from_secs(600),
            lgsp: None,
            pull: PullSetup::default(),
        }
    }
}

/// A sync the portal took.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    /// `DongBoHoSoMC`, `CapNhatTienDoHoSoMC` or `DongBoTrangThaiHoSo`.
    pub service: String,
    /// `isUpdating` of a record sync.
    pub updating: bool,
    /// The record or step.
    pub item: Value,
}

/// The switches a test flips.
#[derive(Debug, Default, Clone)]
pub struct Switches {
    /// Answer 503 to everything.
    pub down: bool,
    /// Answer HTTP 200 `error_code` 1 to this many more syncs.
    pub errors: usize,
    /// Answer every sync HTTP 200 `error_code` 1.
    pub always_error: bool,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// A hostile or broken portal, for tests (no public source shows one): pad every
    /// `DanhSachHoSo` answer with a field of this many bytes.
    pub pad_lists: Option<usize>,
}

#[derive(Default)]
struct Books {
    sessions: HashMap<String, Instant>,
    logins: usize,
    tokens: HashMap<String, Instant>,
    token_grants: usize,
    records: BTreeMap<String, Value>,
    steps: BTreeMap<String, Vec<Value>>,
    taken: Vec<Taken>,
    violations: Vec<String>,
    answers: BTreeMap<String, usize>,
    switches: Switches,
    listed: Vec<Listed>,
    fetched: BTreeMap<String, usize>,
    pull_sessions: HashMap<String, Instant>,
    pull_logins: usize,
    catalogue: BTreeMap<String, Value>,
}

type Shared = Arc<(Setup, Mutex<Books>)>;

/// A running simulated portal.
#[derive(Clone)]
pub struct DvcqgSim {
    /// Its address.
    pub addr: SocketAddr,
    shared: Shared,
}

fn answer(code: &str, message: &str) -> Response {
    (StatusCode::OK, axum::Json(json!({ "error_code": code, "message": message }))).into_response()
}

fn token() -> String {
    (0..32).map(|_| format!("{:x}", rand::random_range(0..16u8))).collect()
}

impl DvcqgSim {
    /// Starts a portal on a loopback port.
    pub async fn start(setup: Setup) -> std::io::Result<DvcqgSim> {
        let books = Books { catalogue: catalogue::procedures(), ..Books::default() };
        let shared: Shared = Arc::new((setup, Mutex::new(books)));
        let router = Router::new()
            .route("/auth", post(login))
            .route("/service", post(service))
            .route("/connector/ThemMoi", post(connector_create))
            .route("/connector/CapNhat", post(connector_update))
            .route("/connector/DongBoTienTrinh", post(connector_progress))
            .route("/token", post(grant))
            .route(pull::LOGIN, post(pull::login))
            .route(pull::SERVICES, post(pull::services))
            .route(catalogue::LIST, axum::routing::get(catalogue::list))
            .route(catalogue::DETAIL, axum::routing::get(catalogue::detail))
            .with_state(shared.clone());
        let addr = crate::serve::spawn(router).await?;
        Ok(DvcqgSim { addr, shared })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Books> {
        self.shared.1.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Flips the switches.
    pub fn set(&self, change: impl FnOnce(&mut Switches)) {
        change(&mut self.state().switches);
    }

    /// Ends every session now, the pull's too, as a portal restart or a short
    /// session lifetime would.
    pub fn expire_sessions(&self) {
        let mut s = self.state();
        s.sessions.clear();
        s.pull_sessions.clear();
    }

    /// Logins to the pull services so far.
    pub fn pull_logins(&self) -> usize {
        self.state().pull_logins
    }

    /// Holds `record` already — one of the portal's own dossiers, or one synced
    /// before — so that a create is answered "already exists".
    pub fn hold(&self, record: Value) {
        let code = record.get("MaHoSo").and_then(Value::as_str).unwrap_or_default().to_owned();
        self.state().records.insert(code, record);
    }

    /// Lists a dossier for the gateway to pull.
    pub fn list(&self, listed: Listed) {
        self.state().listed.push(listed);
    }

    /// Gives the details of a dossier listed with `no_details` from now on.
    pub fn give_details(&self, listed_code: &str) {
        for l in self.state().listed.iter_mut() {
            if l.code() == listed_code {
                l.no_details = false;
            }
        }
    }

    /// Lists a dossier listed `undated` with its date from now on.
    pub fn give_date(&self, listed_code: &str) {
        for l in self.state().listed.iter_mut() {
            if l.code() == listed_code {
                l.undated = false;
            }
        }
    }

    /// The latest record of `code`.
    pub fn record(&self, code: &str) -> Option<Value> {
        self.state().records.get(code).cloned()
    }

    /// The steps taken for `code`, in order.
    pub fn steps(&self, code: &str) -> Vec<Value> {
        self.state().steps.get(code).cloned().unwrap_or_default()
    }

    /// Every sync taken, in order.
    pub fn taken(&self) -> Vec<Taken> {
        self.state().taken.clone()
    }

    /// Requests refused for not being what the portal accepts.
    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Logins so far.
    pub fn logins(&self) -> usize {
        self.state().logins
    }

    /// LGSP tokens granted so far.
    pub fn token_grants(&self) -> usize {
        self.state().token_grants
    }

    /// How often each answer was given, by `error_code` (`"503"` when down).
    pub fn answers(&self) -> BTreeMap<String, usize> {
        self.state().answers.clone()
    }

    /// How often the details of `code` were fetched.
    pub fn fetched(&self, code: &str) -> usize {
        self.state().fetched.get(code).copied().unwrap_or(0)
    }
}

/// The checks every request shares: down, delay, the LGSP token, `dstcode`.
async fn gate(shared: &Shared, headers: &HeaderMap, envelope: bool) -> Result<(), Response> {
    let (down, delay) = {
        let s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
        (s.switches.down, s.switches.delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    if down {
        *s.answers.entry("503".into()).or_default() += 1;
        return Err((StatusCode::SERVICE_UNAVAILABLE, "Hệ thống đang bảo trì").into_response());
    }
    let setup = &shared.0;
    if setup.lgsp.is_some() {
        let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let fresh = bearer.and_then(|t| s.tokens.get(t)).is_some_and(|until| *until > Instant::now());
        if !fresh {
            return Err((StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "invalid_token" }))).into_response());
        }
    }
    if envelope {
        if headers.get("charset").and_then(|v| v.to_str().ok()) != Some("utf-8") {
            s.violations.push("the Charset: utf-8 header is missing".into());
            return Err(answer("99", "Thiếu header Charset"));
        }
        if let Some(code) = &setup.dstcode
            && headers.get("dstcode").and_then(|v| v.to_str().ok()) != Some(code.as_str())
        {
            s.violations.push("the dstcode header is missing or wrong".into());
            return Err(answer("99", "Sai dstcode"));
        }
    }
    Ok(())
}

fn json_object(body: &Bytes, violations: &mut Vec<String>) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Some(obj),
        _ => {
            violations.push("the body is not a JSON object".into());
            None
        }
    }
}

async fn login(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&shared, &headers, true).await {
        return r;
    }
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let Some(obj) = json_object(&body, &mut s.violations) else { return answer("99", "Dữ liệu không hợp lệ") };
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    if keys != ["password", "username"] || !obj.values().all(Value::is_string) {
        s.violations.push(format!("login body {keys:?} is not {{username, password}} as strings"));
        return answer("99", "Dữ liệu không hợp lệ");
    }
    let setup = &shared.0;
    if obj.get("username").and_then(Value::as_str) != Some(&setup.username)
        || obj.get("password").and_then(Value::as_str) != Some(&setup.password)
    {
        return answer("1", "Sai tên đăng nhập hoặc mật khẩu");
    }
    let session = token();
    s.sessions.insert(session.clone(), Instant::now() + setup.session_ttl);
    s.logins += 1;
    (StatusCode::OK, axum::Json(json!({ "error_code": "0", "session": session, "message": "Đăng nhập thành công" })))
        .into_response()
}

async fn grant(State(shared): State<Shared>, body: Bytes) -> Response {
    let Some((id, secret)) = shared.0.lgsp.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let form: HashMap<String, String> = String::from_utf8_lossy(&body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace('+', " ")))
        .collect();
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(&id)
        && form.get("client_secret") == Some(&secret);
    if !ok {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let access = token();
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    s.tokens.insert(access.clone(), Instant::now() + Duration::from_secs(3600));
    s.token_grants += 1;
    axum::Json(json!({ "access_token": access, "token_type": "Bearer", "expires_in": 3600 })).into_response()
}

fn give(s: &mut Books, code: &str, message: &str) -> Response {
    *s.answers.entry(code.to_owned()).or_default() += 1;
    answer(code, message)
}

/// A forced failure, if one is due.
fn forced(s: &mut Books) -> Option<Response> {
    if s.switches.always_error || s.switches.errors > 0 {
        s.switches.errors = s.switches.errors.saturating_sub(1);
        return Some(give(s, "1", "Lỗi hệ thống, vui lòng thử lại sau"));
    }
    None
}

fn take_records(s: &mut Books, data: Option<&Value>, updating: bool) -> Response {
    let Some(items) = data.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        s.violations.push("DongBoHoSoMC data is not a non-empty list".into());
        return give(s, "99", "Dữ liệu không hợp lệ");
    };
    let problems: Vec<String> = items.iter().flat_map(check::record).collect();
    if !problems.is_empty() {
        s.violations.extend(problems.iter().map(|p| format!("DongBoHoSoMC: {p}")));
        return give(s, "99", &format!("Dữ liệu không hợp lệ: {}", problems.join("; ")));
    }
    if let Some(r) = forced(s) {
        return r;
    }
    for item in items {
        let code = item.get("MaHoSo").and_then(Value::as_str).unwrap_or_default();
        // The portal's own dossiers (those it lists for pulling) are held from the start.
        let held = s.records.contains_key(code)
            || s.listed.iter().any(|l| l.detail.get("MaHoSo").and_then(Value::as_str) == Some(code));
        if held && !updating {
            return give(s, "-3", &format!("Hồ sơ {code} đã tồn tại trên hệ thống"));
        }
        if !held && updating {
            return give(s, "2", &format!("Không tìm thấy hồ sơ {code} để cập nhật"));
        }
    }
    for item in items {
        let code = item.get("MaHoSo").and_then(Value::as_str).unwrap_or_default().to_owned();
        s.records.insert(code, item.clone());
        s.taken.push(Taken { service: "DongBoHoSoMC".into(), updating, item: item.clone() });
    }
    give(s, "0", "Đồng bộ hồ sơ thành công")
}

fn take_steps(s: &mut Books, data: Option<&Value>) -> Response {
    let Some(items) = data.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        s.violations.push("CapNhatTienDoHoSoMC data is not a non-empty list".into());
        return give(s, "99", "Dữ liệu không hợp lệ");
    };
    let mut problems: Vec<String> = items.iter().flat_map(check::step).collect();
    if items.len() > check::MAX_STEPS {
        problems.push(format!("{} steps in one request (at most {})", items.len(), check::MAX_STEPS));
    }
    if !problems.is_empty() {
        s.violations.extend(problems.iter().map(|p| format!("CapNhatTienDoHoSoMC: {p}")));
        return give(s, "99", &format!("Dữ liệu không hợp lệ: {}", problems.join("; ")));
    }
    if let Some(r) = forced(s) {
        return r;
    }
    for item in items {
        let code = item.get("MaHoSo").and_then(Value::as_str).unwrap_or_default();
        let listed = s.listed.iter().any(|l| l.detail.get("MaHoSo").and_then(Value::as_str) == Some(code));
        if !s.records.contains_key(code) && !listed {
            return give(s, "2", &format!("Không tìm thấy hồ sơ {code}"));
        }
    }
    for item in items {
        let code = item.get("MaHoSo").and_then(Value::as_str).unwrap_or_default().to_owned();
        s.steps.entry(code).or_default().push(item.clone());
        s.taken.push(Taken { service: "CapNhatTienDoHoSoMC".into(), updating: false, item: item.clone() });
    }
    give(s, "0", "Cập nhật tiến độ thành công")
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

async fn service(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&shared, &headers, true).await {
        return r;
    }
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let Some(obj) = json_object(&body, &mut s.violations) else {
        return give(&mut s, "99", "Dữ liệu không hợp lệ");
    };
    let session = text(&obj, "session").unwrap_or_default();
    if s.sessions.get(&session).is_none_or(|until| *until <= Instant::now()) {
        return give(&mut s, "-1", "Phiên làm việc không hợp lệ hoặc đã hết hạn");
    }
    if text(&obj, "madonvi").is_none_or(|u| u.is_empty()) {
        s.violations.push("the envelope has no madonvi".into());
        return give(&mut s, "99", "Thiếu mã đơn vị");
    }
    let service = text(&obj, "service").unwrap_or_default();
    match service.as_str() {
        "DongBoHoSoMC" => {
            let updating = match obj.get("isUpdating") {
                Some(Value::String(u)) if u == "True" => true,
                Some(Value::String(u)) if u == "False" => false,
                other => {
                    s.violations.push(format!("isUpdating {other:?} is not \"True\" or \"False\""));
                    return give(&mut s, "99", "Dữ liệu không hợp lệ");
                }
            };
            take_records(&mut s, obj.get("data"), updating)
        }
        "CapNhatTienDoHoSoMC" => take_steps(&mut s, obj.get("data")),
        "DongBoTrangThaiHoSo" => {
            let problems = check::promotion_status(&obj);
            if !problems.is_empty() {
                s.violations.extend(problems.iter().map(|p| format!("DongBoTrangThaiHoSo: {p}")));
                return give(&mut s, "99", &format!("Dữ liệu không hợp lệ: {}", problems.join("; ")));
            }
            if let Some(r) = forced(&mut s) {
                return r;
            }
            let item = obj.get("data").cloned().unwrap_or_default();
            s.taken.push(Taken { service: "DongBoTrangThaiHoSo".into(), updating: false, item });
            give(&mut s, "0", "Đồng bộ trạng thái thành công")
        }
        "DongBoDanhGia" => {
            let problems = check::ratings(&obj);
            if !problems.is_empty() {
                s.violations.extend(problems.iter().map(|p| format!("DongBoDanhGia: {p}")));
                return give(&mut s, "99", &format!("Dữ liệu không hợp lệ: {}", problems.join("; ")));
            }
            if let Some(r) = forced(&mut s) {
                return r;
            }
            for item in obj.get("data").and_then(Value::as_array).into_iter().flatten() {
                s.taken.push(Taken { service: "DongBoDanhGia".into(), updating: false, item: item.clone() });
            }
            give(&mut s, "0", "Đồng bộ đánh giá thành công")
        }
        other => {
            s.violations.push(format!("unknown service {other:?}"));
            give(&mut s, "99", "Dịch vụ không tồn tại")
        }
    }
}

async fn connector(shared: Shared, headers: HeaderMap, body: Bytes, kind: &str) -> Response {
    if let Err(r) = gate(&shared, &headers, false).await {
        return r;
    }
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let data: Option<Value> = serde_json::from_slice(&body).ok().filter(Value::is_array);
    if data.is_none() {
        s.violations.push(format!("{kind}: the body is not a JSON array"));
        return give(&mut s, "99", "Dữ liệu không hợp lệ");
    }
    match kind {
        "create" => take_records(&mut s, data.as_ref(), false),
        "update" => take_records(&mut s, data.as_ref(), true),
        _ => take_steps(&mut s, data.as_ref()),
    }
}

async fn connector_create(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    connector(shared, headers, body, "create").await
}

async fn connector_update(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    connector(shared, headers, body, "update").await
}

async fn connector_progress(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    connector(shared, headers, body, "progress").await
}
