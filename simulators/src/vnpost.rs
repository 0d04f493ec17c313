//! VNPost on loopback (docs/PEERS.md §2): the client-credentials token endpoint
//! (`/token`), order creation (`/order`) that checks every field and type of `MOrder`
//! and answers 100, 101 (the same `OrderNumber` again) or an error, cancellation
//! (`/cancel`), and the customer's tracking feed (`/tracking`) paged by `lastId`. It
//! can be told to fail orders with `Status` 500, slow down, go down, or serve a page
//! of the feed again.

use std::{
    collections::{BTreeMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine as _;
use serde_json::{Map, Value, json};

/// How the simulated operator is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The customer code orders must carry.
    pub customer_code: String,
    /// `customerKey` and `secretKey` of the token endpoint.
    pub key: String,
    /// The secret.
    pub secret: String,
    /// Province numbers it accepts.
    pub provinces: HashSet<i64>,
    /// An order API that takes wards (docs/PEERS.md §4.6 names `SenderWardId` and
    /// `ReceiverWardId`; no public source shows their type, so this simulator's ward
    /// identifiers are integers): the two fields, and the wards it knows. Without it,
    /// a ward field is not a field of `MOrder`.
    pub wards: Option<((String, String), HashSet<i64>)>,
    /// A provincial LGSP in front (docs/PEERS.md §2.1, the variant): the token call
    /// carries `Authorization: Bearer <this key>` instead of Basic credentials.
    pub token_key: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            customer_code: "HCC-LAOCAI".into(),
            key: "motcua-key".into(),
            secret: "motcua-secret".into(),
            provinces: [33, 34, 10, 1].into_iter().collect(),
            wards: None,
            token_key: None,
        }
    }
}

/// The switches a test flips.
#[derive(Debug, Default, Clone)]
pub struct Switches {
    /// Answer 503 to everything.
    pub down: bool,
    /// Answer `Status` 500 to this many more orders.
    pub fail_orders: usize,
    /// Wait this long before answering an order (after taking it).
    pub order_delay: Option<Duration>,
    /// Wait this long before answering a tracking page.
    pub tracking_delay: Option<Duration>,
    /// A hostile or broken VNPost, for tests (no public source shows one): pad every
    /// tracking page with a field of this many bytes.
    pub pad_tracking: Option<usize>,
    /// Serve the next tracking page from the start of the feed, as a replay.
    pub replay: bool,
}

/// An order the operator holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The body as received.
    pub body: Value,
    /// Cancelled.
    pub cancelled: bool,
}

#[derive(Default)]
struct Books {
    tokens: HashSet<String>,
    grants: usize,
    orders: BTreeMap<String, Order>,
    order_calls: usize,
    item_codes: HashSet<String>,
    feed: Vec<Value>,
    cancels: Vec<String>,
    violations: Vec<String>,
    switches: Switches,
    tracking_calls: usize,
}

type Shared = Arc<(Setup, Mutex<Books>)>;

/// A running operator.
#[derive(Clone)]
pub struct VnpostSim {
    /// Its address.
    pub addr: SocketAddr,
    shared: Shared,
}

/// `{Status, Message}`, `Status` a number as the SDK's `MResult` has it.
fn reply(status: &str, message: &str) -> Response {
    let code = status.parse::<i64>().map_or_else(|_| Value::String(status.to_owned()), Value::from);
    axum::Json(json!({ "Status": code, "Message": message })).into_response()
}

impl VnpostSim {
    /// Starts an operator on a loopback port.
    pub async fn start(setup: Setup) -> std::io::Result<VnpostSim> {
        let shared: Shared = Arc::new((setup, Mutex::new(Books::default())));
        let router = Router::new()
            .route("/token", post(grant))
            .route("/order", post(order))
            .route("/cancel", get(cancel))
            .route("/tracking", get(tracking))
            .with_state(shared.clone());
        let addr = crate::serve::spawn(router).await?;
        Ok(VnpostSim { addr, shared })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.shared.1.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Flips the switches.
    pub fn set(&self, change: impl FnOnce(&mut Switches)) {
        change(&mut self.books().switches);
    }

    /// The orders held, by `OrderNumber`.
    pub fn orders(&self) -> BTreeMap<String, Order> {
        self.books().orders.clone()
    }

    /// Order requests received, repeats included.
    pub fn order_calls(&self) -> usize {
        self.books().order_calls
    }

    /// `OrderNumber`s cancelled, in order.
    pub fn cancels(&self) -> Vec<String> {
        self.books().cancels.clone()
    }

    /// Tokens granted.
    pub fn grants(&self) -> usize {
        self.books().grants
    }

    /// Requests refused for not being what VNPost accepts.
    pub fn violations(&self) -> Vec<String> {
        self.books().violations.clone()
    }

    /// Tracking pages served.
    pub fn tracking_calls(&self) -> usize {
        self.books().tracking_calls
    }

    /// Adds an event for `order_number` to the feed; returns its id.
    pub fn track(&self, order_number: &str, status_code: i64, message: &str) -> String {
        self.track_at(order_number, status_code, message, jiff::Timestamp::now().as_millisecond())
    }

    /// Adds an entry to the feed as given, with the next position as its `_id`
    /// (a broken or hostile feed, for tests); returns its id.
    pub fn track_raw(&self, mut entry: Value) -> String {
        let mut b = self.books();
        let id = format!("65a{:021x}", b.feed.len() + 1);
        entry["_id"] = json!({ "$oid": id });
        b.feed.push(entry);
        id
    }

    /// Adds an event for `order_number` at `event_time` (epoch milliseconds) to the
    /// feed; returns its id.
    pub fn track_at(&self, order_number: &str, status_code: i64, message: &str, event_time: i64) -> String {
        let mut b = self.books();
        let id = format!("65a{:021x}", b.feed.len() + 1);
        let item = b.orders.get(order_number).and_then(|o| o.body.get("ItemCode").cloned()).unwrap_or_default();
        let event = json!({
            "_id": { "$oid": id }, "CustomerCode": self.shared.0.customer_code, "OrderNumber": order_number,
            "EventTime": event_time, "POSID": "330100", "ItemCode": item,
            "StatusCode": status_code, "StatusMessage": message, "Notes": ""
        });
        b.feed.push(event);
        id
    }
}

async fn grant(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let setup = &shared.0;
    let expected = match &setup.token_key {
        Some(key) => format!("Bearer {key}"),
        None => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", setup.key, setup.secret))
        ),
    };
    let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
    if sent != Some(expected.as_str()) || String::from_utf8_lossy(&body) != "grant_type=client_credentials" {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let token: String = (0..32).map(|_| format!("{:x}", rand::random_range(0..16u8))).collect();
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    b.tokens.insert(token.clone());
    b.grants += 1;
    axum::Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 })).into_response()
}

fn authorized(b: &Books, headers: &HeaderMap) -> bool {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    bearer.is_some_and(|t| b.tokens.contains(t))
}

/// True for a UPU S10 code with its check digit.
fn valid_s10(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 13 || !b[..2].iter().all(u8::is_ascii_uppercase) || !b[11..].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    let Some(digits) =
        b[2..11].iter().map(|d| d.is_ascii_digit().then(|| u32::from(d - b'0'))).collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    let sum: u32 = digits[..8].iter().zip([8, 6, 4, 2, 3, 5, 9, 7]).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    digits[8] == check
}

/// `MOrder`'s text fields (docs/PEERS.md §2.2).
const TEXT_FIELDS: [&str; 12] = [
    "CustomerCode",
    "OrderNumber",
    "SenderAddress",
    "SenderName",
    "SenderEmail",
    "SenderTel",
    "SenderDesc",
    "Description",
    "ReceiverName",
    "ReceiverAddress",
    "ReceiverTel",
    "ReceiverEmail",
];
/// The text fields that may be left out.
const OPTIONAL_TEXT: [&str; 4] = ["SenderEmail", "ReceiverEmail", "SenderDesc", "Description"];
/// `MOrder`'s integer fields: VNPost's province and district numbers.
const NUMBER_FIELDS: [&str; 4] = ["SenderProvince", "SenderDistrict", "ReceiverProvince", "ReceiverDistrict"];
/// `MOrder`'s other fields.
const OTHER_FIELDS: [&str; 3] = ["CODAmount", "ItemCode", "FlagConfig"];

/// The problems of an order body (docs/PEERS.md §2.2).
fn check_order(obj: &Map<String, Value>, setup: &Setup) -> Vec<String> {
    let mut problems = Vec::new();
    for key in TEXT_FIELDS {
        match obj.get(key) {
            Some(Value::String(s)) if s.trim().is_empty() && !OPTIONAL_TEXT.contains(&key) => {
                problems.push(format!("{key} is required"))
            }
            Some(Value::String(_)) => {}
            // The SDK serializes nulls: an absent e-mail comes as `null`.
            None | Some(Value::Null) if OPTIONAL_TEXT.contains(&key) => {}
            None => problems.push(format!("{key} is required")),
            other => problems.push(format!("{key} is {other:?}, not a string")),
        }
    }
    for key in NUMBER_FIELDS {
        if !obj.get(key).is_some_and(Value::is_i64) {
            problems.push(format!("{key} is {:?}, not an integer", obj.get(key)));
        }
    }
    for key in ["SenderProvince", "ReceiverProvince"] {
        if let Some(n) = obj.get(key).and_then(Value::as_i64)
            && !setup.provinces.contains(&n)
        {
            problems.push(format!("{key} {n} is not a VNPost province number"));
        }
    }
    if !obj.get("CODAmount").is_none_or(Value::is_number) {
        problems.push("CODAmount is not a number".into());
    }
    if obj.get("CustomerCode").and_then(Value::as_str) != Some(setup.customer_code.as_str()) {
        problems.push("CustomerCode is not this customer's".into());
    }
    if let Some(item) = obj.get("ItemCode")
        && !item.as_str().is_some_and(valid_s10)
    {
        problems.push(format!("ItemCode {item} is not a valid S10 code"));
    }
    let mut ward_fields = Vec::new();
    if let Some(((sender, receiver), wards)) = &setup.wards {
        for key in [sender, receiver] {
            match obj.get(key).and_then(Value::as_i64) {
                Some(w) if wards.contains(&w) => {}
                _ => problems.push(format!("{key} is {:?}, not a ward VNPost knows", obj.get(key))),
            }
            ward_fields.push(key.as_str());
        }
    }
    let known = TEXT_FIELDS.iter().chain(&NUMBER_FIELDS).chain(&OTHER_FIELDS).copied().chain(ward_fields);
    for key in obj.keys() {
        if !known.clone().any(|k| k == key) {
            problems.push(format!("{key} is not a field of MOrder"));
        }
    }
    problems
}

async fn order(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let delay = {
        let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
        if b.switches.down {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        if !authorized(&b, &headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        b.order_calls += 1;
        let Some(obj) = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.as_object().cloned()) else {
            b.violations.push("an order is not a JSON object".into());
            return reply("400", "Dữ liệu không hợp lệ");
        };
        let problems = check_order(&obj, &shared.0);
        if !problems.is_empty() {
            b.violations.extend(problems.iter().map(|p| format!("order: {p}")));
            return reply("400", &problems.join("; "));
        }
        if b.switches.fail_orders > 0 {
            b.switches.fail_orders -= 1;
            return reply("500", "Lỗi hệ thống");
        }
        let number = obj.get("OrderNumber").and_then(Value::as_str).unwrap_or_default().to_owned();
        let item = obj.get("ItemCode").and_then(Value::as_str).map(str::to_owned);
        if let Some(held) = b.orders.get(&number) {
            if held.body.get("ItemCode").and_then(Value::as_str) != item.as_deref() {
                b.violations.push(format!("order {number} sent again with another ItemCode"));
            }
            return reply("101", "Đơn hàng đã tồn tại");
        }
        if let Some(item) = &item
            && !b.item_codes.insert(item.clone())
        {
            b.violations.push(format!("ItemCode {item} used by two orders"));
            return reply("400", "Số hiệu bưu gửi đã được sử dụng");
        }
        b.orders.insert(number, Order { body: Value::Object(obj), cancelled: false });
        b.switches.order_delay
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    reply("100", "Tạo đơn hàng thành công")
}

async fn cancel(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    if b.switches.down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if !authorized(&b, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let keys: Vec<&str> = q.keys().map(String::as_str).collect();
    if keys != ["CustomerCode", "OrderNumber"] || q.get("CustomerCode") != Some(&shared.0.customer_code) {
        b.violations.push(format!("cancel with {keys:?}"));
        return reply("400", "Dữ liệu không hợp lệ");
    }
    let number = q.get("OrderNumber").cloned().unwrap_or_default();
    let Some(order) = b.orders.get_mut(&number) else { return reply("404", "Không tìm thấy đơn hàng") };
    order.cancelled = true;
    b.cancels.push(number);
    reply("100", "Hủy đơn hàng thành công")
}

async fn tracking(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (page, delay) = {
        let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
        if b.switches.down {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        if !authorized(&b, &headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let size = q.get("pagesize").and_then(|s| s.parse::<usize>().ok()).filter(|n| (1..=1000).contains(n));
        let last = q.get("lastId").filter(|l| l.len() == 24 && l.bytes().all(|c| c.is_ascii_hexdigit()));
        let (Some(size), Some(last)) = (size, last.cloned()) else {
            b.violations.push(format!("tracking with {q:?}"));
            return StatusCode::BAD_REQUEST.into_response();
        };
        b.tracking_calls += 1;
        let from = if std::mem::take(&mut b.switches.replay) { "0".repeat(24) } else { last };
        let page: Vec<Value> = b
            .feed
            .iter()
            .filter(|e| e["_id"]["$oid"].as_str().is_some_and(|id| id > from.as_str()))
            .take(size)
            .cloned()
            .collect();
        (page, (b.switches.tracking_delay, b.switches.pad_tracking))
    };
    let (delay, pad) = delay;
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let n = page.len();
    let mut answer = json!({ "_size": n, "_total_pages": 1, "_returned": n, "_embedded": { "rh:doc": page } });
    if let Some(pad) = pad {
        answer["padding"] = "x".repeat(pad).into();
    }
    axum::Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s10_check_digits() {
        assert!(valid_s10("EE123456785VN"));
        assert!(!valid_s10("EE123456784VN"));
        assert!(!valid_s10("E1123456785VN"));
    }
}
