//! The channels that tell citizens, on loopback: an SMS provider of the shape the
//! sample configuration sets (Bearer key, JSON `{to, text, sender}`, `{"code":"00"}`
//! when sent) and Zalo OA's template messages (`access_token` header, `{phone,
//! template_id, template_data, tracking_id}`, `{"error":0}`), each strict about what
//! it takes: the key, the body's fields and nothing else, a Vietnamese mobile number in
//! international form, a known template with exactly its parameters, none empty.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, routing::post};
use serde_json::{Value, json};

/// One message a channel took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The number, as sent (`84…`).
    pub phone: String,
    /// The SMS text, or the Zalo template id.
    pub text: String,
    /// Zalo's parameters.
    pub data: BTreeMap<String, String>,
}

#[derive(Default)]
struct Books {
    taken: Vec<Taken>,
    violations: Vec<String>,
    failing: u32,
}

struct Setup {
    key: String,
    templates: BTreeMap<String, BTreeSet<String>>,
}

type Shared = Arc<(Setup, Mutex<Books>)>;

/// A running channel.
#[derive(Clone)]
pub struct ChannelSim {
    /// Its address.
    pub addr: SocketAddr,
    shared: Shared,
}

impl ChannelSim {
    /// An SMS provider taking `Authorization: Bearer <key>`.
    pub async fn sms(key: &str) -> ChannelSim {
        ChannelSim::start(key, BTreeMap::new(), Router::new().route("/api/v1/sms/send", post(sms))).await
    }

    /// Zalo OA taking `access_token: <token>` and the templates given, each with its
    /// parameter names.
    pub async fn zalo(token: &str, templates: &[(&str, &[&str])]) -> ChannelSim {
        let templates =
            templates.iter().map(|(id, keys)| (id.to_string(), keys.iter().map(|k| k.to_string()).collect())).collect();
        ChannelSim::start(token, templates, Router::new().route("/message/template", post(zalo))).await
    }

    async fn start(key: &str, templates: BTreeMap<String, BTreeSet<String>>, router: Router<Shared>) -> ChannelSim {
        let shared: Shared = Arc::new((Setup { key: key.to_owned(), templates }, Mutex::default()));
        let addr = crate::serve::spawn(router.with_state(shared.clone())).await.expect("a loopback port");
        ChannelSim { addr, shared }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it took, in order.
    pub fn taken(&self) -> Vec<Taken> {
        self.books().taken.clone()
    }

    /// What it refused and why.
    pub fn violations(&self) -> Vec<String> {
        self.books().violations.clone()
    }

    /// Fails the next `n` messages as the real one does when it is down.
    pub fn fail_next(&self, n: u32) {
        self.books().failing = n;
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.shared.1.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn mobile(phone: &str) -> bool {
    phone.len() == 11
        && phone.starts_with("84")
        && !phone.starts_with("842")
        && phone.bytes().all(|b| b.is_ascii_digit())
}

async fn sms(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> axum::response::Response {
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != format!("Bearer {}", shared.0.key) {
        b.violations.push("no or a wrong API key".into());
        return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({ "code": "401" }))).into_response();
    }
    if b.failing > 0 {
        b.failing -= 1;
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    let keys: BTreeSet<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    let (to, text, sender) = (value["to"].as_str(), value["text"].as_str(), value["sender"].as_str());
    let problem = if keys != BTreeSet::from(["to", "text", "sender"]) {
        Some(format!("fields {keys:?}, not to, text and sender"))
    } else if !to.is_some_and(mobile) {
        Some("to is not a mobile number in 84 form".into())
    } else if text.is_none_or(|t| t.trim().is_empty() || t.chars().count() > 612) {
        Some("text is empty or longer than four SMS".into())
    } else if sender != Some("UBND-TINH") {
        Some("the sender name is not the registered one".into())
    } else {
        None
    };
    if let Some(problem) = problem {
        b.violations.push(problem);
        return axum::Json(json!({ "code": "02", "message": "invalid request" })).into_response();
    }
    b.taken.push(Taken {
        phone: to.unwrap_or_default().to_owned(),
        text: text.unwrap_or_default().to_owned(),
        data: BTreeMap::new(),
    });
    axum::Json(json!({ "code": "00", "message": "sent" })).into_response()
}

async fn zalo(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> axum::response::Response {
    let mut b = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    if headers.get("access_token").and_then(|v| v.to_str().ok()) != Some(shared.0.key.as_str()) {
        b.violations.push("no or a wrong access_token".into());
        return axum::Json(json!({ "error": -124, "message": "Access token is invalid" })).into_response();
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    let keys: BTreeSet<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    let id = value["template_id"].as_str().unwrap_or_default();
    let data: BTreeMap<String, String> = value["template_data"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    let problem = if keys != BTreeSet::from(["phone", "template_id", "template_data", "tracking_id"]) {
        Some(format!("fields {keys:?}"))
    } else if !value["phone"].as_str().is_some_and(mobile) {
        Some("phone is not a mobile number in 84 form".into())
    } else if !shared.0.templates.contains_key(id) {
        Some(format!("template {id} is not approved"))
    } else if data.keys().cloned().collect::<BTreeSet<_>>() != shared.0.templates[id] {
        Some(format!("template {id} takes other parameters"))
    } else if data.values().any(|v| v.trim().is_empty()) {
        Some("a template parameter is empty".into())
    } else {
        None
    };
    if let Some(problem) = problem {
        b.violations.push(problem);
        return axum::Json(json!({ "error": -108, "message": "invalid parameters" })).into_response();
    }
    b.taken.push(Taken { phone: value["phone"].as_str().unwrap_or_default().to_owned(), text: id.to_owned(), data });
    axum::Json(json!({ "error": 0, "message": "Success", "data": { "msg_id": "a1b2c3", "quota": {} } })).into_response()
}
