//! The national payment platform (PayGov) on loopback (docs/PAYMENT.md; samples
//! `simulators/peers/paygov-*.json`): `INIT` checked key by key against the sample —
//! every value a string, the receipt block whole, `MaXacThuc` the partner's — and
//! answered with a payment page; `QUERY` checked the same way and answered with the
//! payment's state. A test plays the citizen: it pays a payment, and gets
//! the callback the platform would send, signed, to post to the gateway itself.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, response::IntoResponse, routing::post};
use serde_json::{Map, Value, json};

const INIT_SAMPLE: &str = include_str!("../peers/paygov-init.request.json");
const QUERY_SAMPLE: &str = include_str!("../peers/paygov-query.request.json");

/// How the simulated platform is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `MaDoiTac` the gateway must be.
    pub partner: String,
    /// The shared secret.
    pub secret: String,
    /// Answer `INIT` through a connector's wrapping (`{error_code, message: "<JSON>"}`)
    /// rather than the platform's own `{MaLoi, UrlThanhToan}`.
    pub wrapped: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup { partner: "LAOCAI_DVC".into(), secret: "bi-mat-thu-nghiem-15".into(), wrapped: false }
    }
}

/// A payment the platform opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The `INIT` as it came.
    pub init: Value,
    /// Paid (`Some(transaction)`), or not yet.
    pub paid: Option<String>,
}

#[derive(Default)]
struct Books {
    opened: BTreeMap<String, Opened>,
    violations: Vec<String>,
    queries: usize,
    refuse_inits: bool,
}

type Shared = Arc<(Setup, Mutex<Books>)>;

/// A running platform.
#[derive(Clone)]
pub struct PaygovSim {
    /// Its address.
    pub addr: SocketAddr,
    shared: Shared,
}

/// `MaXacThuc` of `fields` under `secret` (SHA-256 hex, `|`-joined, the secret last).
pub fn signature(fields: &[&str], secret: &str) -> String {
    let text = format!("{}|{secret}", fields.join("|"));
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// Every scalar a string, as the sample's are; `None` when so.
fn strings_only(v: &Value, at: &str) -> Option<String> {
    match v {
        Value::String(_) => None,
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| strings_only(v, &format!("{at}/{i}"))),
        Value::Object(obj) => obj.iter().find_map(|(k, v)| strings_only(v, &format!("{at}/{k}"))),
        other => Some(format!("{at} is {other}, not a string")),
    }
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The problems of an `INIT` (docs/PAYMENT.md): the sample's keys at every level,
/// strings only, an amount, the partner and its signature.
fn check_init(init: &Value, setup: &Setup) -> Vec<String> {
    let sample: Value = serde_json::from_str(INIT_SAMPLE).unwrap_or_default();
    let mut problems = Vec::new();
    if keys(init) != keys(&sample) {
        problems.push(format!("INIT keys {:?} are not the sample's", keys(init)));
    }
    if keys(&init["ThongTinBienLai"]) != keys(&sample["ThongTinBienLai"]) {
        problems.push("ThongTinBienLai keys are not the sample's".into());
    }
    for (list, item) in [("PhiLePhi", 0), ("DSKhoanNop", 0)] {
        let ours = &init["ThongTinBienLai"][list];
        let theirs = &sample["ThongTinBienLai"][list][item];
        if !ours.as_array().is_some_and(|l| !l.is_empty() && l.iter().all(|x| keys(x) == keys(theirs))) {
            problems.push(format!("ThongTinBienLai.{list} is not a list of the sample's items"));
        }
    }
    if let Some(p) = strings_only(init, "") {
        problems.push(p);
    }
    let Some(obj) = init.as_object() else { return problems };
    if text(obj, "LoaiBanTin") != "INIT" || text(obj, "MaDoiTac") != setup.partner || text(obj, "MaTienTe") != "VND" {
        problems.push("LoaiBanTin, MaDoiTac or MaTienTe is not INIT, the partner, VND".into());
    }
    let amount = text(obj, "SoTien");
    if amount.parse::<u64>().map_or(true, |n| n == 0) {
        problems.push(format!("SoTien {amount:?} is not an amount in đồng"));
    }
    let lines: u64 = init["ThongTinBienLai"]["PhiLePhi"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["SoTien"].as_str()?.parse::<u64>().ok())
        .sum();
    if amount.parse::<u64>().ok() != Some(lines) {
        problems.push("the fee lines do not add up to SoTien".into());
    }
    let time = text(obj, "ThoiGianGD");
    if time.len() != 14 || !time.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(format!("ThoiGianGD {time:?} is not yyyyMMddHHmmss"));
    }
    let order = [
        "LoaiBanTin",
        "PhienBan",
        "MaDoiTac",
        "MaThamChieu",
        "SoTien",
        "LoaiHinhThanhToan",
        "MaKenhThanhToan",
        "MaThietBi",
        "NgonNgu",
        "MaTienTe",
        "MaNganHang",
        "ThongTinGiaoDich",
        "ThoiGianGD",
        "Ip",
    ];
    let fields: Vec<&str> = order.iter().map(|k| text(obj, k)).collect();
    if text(obj, "MaXacThuc") != signature(&fields, &setup.secret) {
        problems.push("MaXacThuc is not the partner's signature".into());
    }
    problems
}

impl PaygovSim {
    /// Starts a platform on a loopback port.
    pub async fn start(setup: Setup) -> std::io::Result<PaygovSim> {
        let shared: Shared = Arc::new((setup, Mutex::new(Books::default())));
        let router = Router::new().route("/init", post(init)).route("/query", post(query)).with_state(shared.clone());
        let addr = crate::serve::spawn(router).await?;
        Ok(PaygovSim { addr, shared })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.shared.1.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The payments opened, by reference.
    pub fn opened(&self) -> BTreeMap<String, Opened> {
        self.books().opened.clone()
    }

    /// Requests refused for not being what the platform accepts.
    pub fn violations(&self) -> Vec<String> {
        self.books().violations.clone()
    }

    /// `QUERY` calls answered.
    pub fn queries(&self) -> usize {
        self.books().queries
    }

    /// Refuse every `INIT` from now on (`MaLoi` 99), or take them again.
    pub fn refuse_inits(&self, refuse: bool) {
        self.books().refuse_inits = refuse;
    }

    /// The citizen pays `reference` (transaction `transaction`); the callback the
    /// platform then sends, signed with `secret` (the partner's, or another to forge).
    pub fn pay(&self, reference: &str, transaction: &str, secret: Option<&str>) -> Option<Value> {
        let mut b = self.books();
        let opened = b.opened.get_mut(reference)?;
        opened.paid = Some(transaction.to_owned());
        let amount = opened.init["SoTien"].as_str().and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
        let description = opened.init["ThongTinGiaoDich"].as_str().unwrap_or_default().to_owned();
        drop(b);
        Some(self.callback(reference, "00", amount, transaction, &description, secret))
    }

    /// A callback of `reference` as the platform builds it (`MaLoi` `result`, `amount`).
    pub fn callback(
        &self,
        reference: &str,
        result: &str,
        amount: u64,
        transaction: &str,
        description: &str,
        secret: Option<&str>,
    ) -> Value {
        let setup = &self.shared.0;
        let time = "20261201093512";
        let amount_text = amount.to_string();
        let fields =
            ["CONFIRM", result, &setup.partner, reference, &amount_text, "VND", transaction, "VCB", time, description];
        json!({
            "LoaiBanTin": "CONFIRM", "MaLoi": result, "MaDoiTac": setup.partner, "MaThamChieu": reference,
            "SoTien": amount, "MaTienTe": "VND", "MaGiaoDich": transaction, "MaNganHang": "VCB",
            "ThoiGianGD": time, "ThongTinGiaoDich": description,
            "MaXacThuc": signature(&fields, secret.unwrap_or(&setup.secret)),
        })
    }
}

async fn init(State(shared): State<Shared>, body: Bytes) -> axum::response::Response {
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        b.violations.push("an INIT is not JSON".into());
        return axum::Json(json!({ "MaLoi": "99" })).into_response();
    };
    let problems = check_init(&value, &shared.0);
    let reference = value["MaThamChieu"].as_str().unwrap_or_default().to_owned();
    if !problems.is_empty() {
        b.violations.extend(problems.iter().map(|p| format!("INIT: {p}")));
        return axum::Json(json!({ "MaLoi": "99" })).into_response();
    }
    if b.refuse_inits {
        return axum::Json(json!({ "MaLoi": "99" })).into_response();
    }
    if b.opened.get(&reference).is_some_and(|o| o.init != value) {
        b.violations.push(format!("INIT {reference} sent again with other content"));
        return axum::Json(json!({ "MaLoi": "99" })).into_response();
    }
    b.opened.entry(reference.clone()).or_insert(Opened { init: value, paid: None });
    let page = format!("https://thanhtoan.dichvucong.example/payment?ref={reference}");
    if shared.0.wrapped {
        let message = json!({ "UrlThanhToan": page }).to_string();
        return axum::Json(json!({ "error_code": "0", "message": message })).into_response();
    }
    axum::Json(json!({ "MaLoi": "00", "UrlThanhToan": page })).into_response()
}

async fn query(State(shared): State<Shared>, body: Bytes) -> axum::response::Response {
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let sample: Value = serde_json::from_str(QUERY_SAMPLE).unwrap_or_default();
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(obj) = value.as_object().filter(|_| keys(&value) == keys(&sample) && strings_only(&value, "").is_none())
    else {
        b.violations.push("a QUERY is not the sample's keys as strings".into());
        return axum::Json(json!({ "MaLoi": "99" })).into_response();
    };
    let setup = &shared.0;
    let fields: Vec<&str> =
        ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"].iter().map(|k| text(obj, k)).collect();
    if text(obj, "LoaiBanTin") != "QUERY" || text(obj, "MaXacThuc") != signature(&fields, &setup.secret) {
        b.violations.push("a QUERY is not signed by the partner".into());
        return axum::Json(json!({ "MaLoi": "99" })).into_response();
    }
    b.queries += 1;
    let reference = text(obj, "MaThamChieu").to_owned();
    let Some(opened) = b.opened.get(&reference) else { return axum::Json(json!({ "MaLoi": "01" })).into_response() };
    let state = if opened.paid.is_some() { "1" } else { "3" };
    let amount = opened.init["SoTien"].as_str().and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
    // The answer's MaXacThuc rule is not public: this one signs the reference and the
    // state, and the gateway does not rely on it.
    let answer_signature = signature(&[&reference, state], &setup.secret);
    axum::Json(json!({
        "MaLoi": "00", "MoTaLoi": "", "MaDoiTac": setup.partner, "MaThamChieu": reference,
        "ThoiGianGD": "20261201093512", "MaXacThuc": answer_signature, "LoaiBanTin": "QUERY",
        "SoTien": amount, "MaTienTe": "VND", "MaGiaoDich": opened.paid.clone().unwrap_or_default(),
        "MaNganHang": "VCB", "ThongTinGiaoDich": opened.init["ThongTinGiaoDich"], "TrangThaiGD": state,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_init_passes_and_its_signature_is_reproduced() {
        let sample: Value = serde_json::from_str(INIT_SAMPLE).unwrap();
        assert_eq!(check_init(&sample, &Setup::default()), Vec::<String>::new());
        let mut forged = sample.clone();
        forged["SoTien"] = "50001".into();
        assert!(!check_init(&forged, &Setup::default()).is_empty());
    }
}
