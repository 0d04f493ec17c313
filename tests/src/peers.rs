//! Real HTTP peers on loopback standing in for desks, the portal and the postal
//! service: they record what they receive and answer as each test scripts them.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// One request a peer received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: Method,
    /// Path and query.
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// How a peer answers a request: given every request so far (the new one last).
pub type Script = Arc<dyn Fn(&[Received]) -> Response + Send + Sync>;

/// Put in a scripted response's extensions to answer only after this long.
#[derive(Debug, Clone, Copy)]
pub struct Delay(pub std::time::Duration);

/// `response`, answered after `delay`.
pub fn delayed(delay: std::time::Duration, response: Response) -> Response {
    let mut response = response;
    response.extensions_mut().insert(Delay(delay));
    response
}

#[derive(Clone)]
struct PeerState {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

/// A peer server.
pub struct Peer {
    /// Its address.
    pub addr: SocketAddr,
    state: PeerState,
    task: tokio::task::JoinHandle<()>,
}

async fn handle(State(state): State<PeerState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let script = state.script.lock().expect("script lock").clone();
    let snapshot = {
        let mut received = state.received.lock().expect("received lock");
        received.push(Received { method, uri, headers, body });
        received.clone()
    };
    let response = script(&snapshot);
    if let Some(Delay(delay)) = response.extensions().get::<Delay>().copied() {
        tokio::time::sleep(delay).await;
    }
    response
}

impl Peer {
    /// Starts a peer answering every request with `script`.
    pub async fn start(script: Script) -> Peer {
        let state = PeerState { received: Arc::default(), script: Arc::new(Mutex::new(script)) };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Peer { addr, state, task }
    }

    /// A peer that answers every request with `status` and an empty JSON object.
    pub async fn answering(status: StatusCode) -> Peer {
        Peer::start(Arc::new(move |_: &[Received]| (status, "{}").into_response())).await
    }

    /// Replaces the script.
    pub fn script(&self, script: Script) {
        *self.state.script.lock().expect("script lock") = script;
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("received lock").clone()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A postal service that accepts every order and answers with a fresh S10 code
/// (`RR` + its count), de-duplicating on `Idempotency-Key` (the order code).
pub fn postal_service() -> Script {
    Arc::new(|received: &[Received]| {
        let last = &received[received.len() - 1];
        let key = last.header("idempotency-key").unwrap_or_default();
        let first =
            received.iter().position(|r| r.header("idempotency-key").as_deref() == Some(key.as_str())).unwrap_or(0);
        let item = motcua_schemas::S10ItemCode::build("RR", first as u32 + 1, "VN").expect("a valid item code");
        let body = format!(
            "<KetQuaDonHang xmlns=\"urn:motcua:postal:v1\"><OrderCode>{key}</OrderCode><ItemCode>{item}</ItemCode></KetQuaDonHang>"
        );
        (StatusCode::OK, [("content-type", "application/xml")], body).into_response()
    })
}

/// The status calls a portal peer received, de-duplicated on `Idempotency-Key`, in
/// the order first received: (key, `TrangThaiHoSo`, body).
pub fn status_calls(portal: &Peer) -> Vec<(String, u64, serde_json::Value)> {
    let mut seen = std::collections::HashSet::new();
    portal
        .received()
        .into_iter()
        .filter(|r| r.uri.path() == "/v1/status")
        .filter_map(|r| {
            let key = r.header("idempotency-key")?;
            let body = r.json();
            seen.insert(key.clone()).then(|| (key, body["TrangThaiHoSo"].as_u64().unwrap_or(0), body))
        })
        .collect()
}
