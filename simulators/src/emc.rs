//! The national monitoring service of the one-stop desks (EMC, `TrackingMCDT`) on
//! loopback: each message checked field by field against the body one public
//! integration sends (every field present and no other, codes from their enums, the
//! province's `SiteId`, `User` a JSON text of four fields), and kept.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::StatusCode, response::IntoResponse, routing::post};
use serde_json::Value;

#[derive(Default)]
struct Books {
    taken: Vec<Value>,
    violations: Vec<String>,
}

type Shared = Arc<(i64, Mutex<Books>)>;

/// A running service.
#[derive(Clone)]
pub struct EmcSim {
    /// Its address.
    pub addr: SocketAddr,
    shared: Shared,
}

const FIELDS: [&str; 13] = [
    "CodeProfile",
    "SiteId",
    "CodeTTHC",
    "NameTTHC",
    "MaHoSo",
    "Status",
    "FormsReception",
    "FormsPayments",
    "Level",
    "IsFromDVCQG",
    "IsDVCBC",
    "Data",
    "User",
];

/// What is wrong with one message, for the province `site_id`.
pub fn check(v: &Value, site_id: i64) -> Vec<String> {
    let mut problems = Vec::new();
    let keys: BTreeSet<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    if keys != FIELDS.into_iter().collect() {
        return vec![format!("fields {keys:?}, not the tracking body's")];
    }
    let text = |k: &str| v[k].as_str().unwrap_or("\u{0}");
    let one_of = |k: &str, allowed: &[&str], problems: &mut Vec<String>| {
        if !allowed.contains(&text(k)) {
            problems.push(format!("{k} {:?} is not one of {allowed:?}", v[k]));
        }
    };
    if v["SiteId"].as_i64() != Some(site_id) {
        problems.push("SiteId is not the province's".into());
    }
    one_of("Status", &["0", "1", "2", "3", "4"], &mut problems);
    one_of("FormsReception", &["1", "2"], &mut problems);
    one_of("FormsPayments", &["0", "1", "2"], &mut problems);
    one_of("Level", &["0", "1", "3", "4"], &mut problems);
    one_of("IsFromDVCQG", &["0", "1"], &mut problems);
    one_of("IsDVCBC", &["0", "1", "2"], &mut problems);
    if text("MaHoSo").is_empty() || text("CodeProfile").is_empty() || text("CodeTTHC").is_empty() {
        problems.push("MaHoSo, CodeProfile and CodeTTHC are required".into());
    }
    let user: Value = serde_json::from_str(text("User")).unwrap_or_default();
    let user_keys: BTreeSet<&str> =
        user.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    if user_keys != BTreeSet::from(["ID_local", "ID_QG", "TYPE", "LOCATION"]) {
        problems.push("User is not a JSON text of ID_local, ID_QG, TYPE, LOCATION".into());
    }
    if !v["Data"].is_null() && !v["Data"].is_string() {
        problems.push("Data is neither null nor a text".into());
    }
    problems
}

impl EmcSim {
    /// Starts a service for the province `site_id`.
    pub async fn start(site_id: i64) -> EmcSim {
        let shared: Shared = Arc::new((site_id, Mutex::default()));
        let router = Router::new().route("/TrackingMCDT", post(take)).with_state(shared.clone());
        let addr = crate::serve::spawn(router).await.expect("a loopback port");
        EmcSim { addr, shared }
    }

    /// Its `TrackingMCDT` address.
    pub fn url(&self) -> String {
        format!("http://{}/TrackingMCDT", self.addr)
    }

    /// The messages taken, in order.
    pub fn taken(&self) -> Vec<Value> {
        self.shared.1.lock().unwrap_or_else(|e| e.into_inner()).taken.clone()
    }

    /// What it refused.
    pub fn violations(&self) -> Vec<String> {
        self.shared.1.lock().unwrap_or_else(|e| e.into_inner()).violations.clone()
    }
}

async fn take(State(shared): State<Shared>, body: Bytes) -> axum::response::Response {
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    let problems = check(&value, shared.0);
    if !problems.is_empty() {
        b.violations.extend(problems);
        return (StatusCode::BAD_REQUEST, "invalid").into_response();
    }
    b.taken.push(value);
    (StatusCode::OK, "true").into_response()
}
