//! The demo's stand-ins for the postal service and a push desk, each a real HTTP
//! server on loopback that records what it receives (the national portal's is
//! `motcua_simulators::dvcqg`).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use motcua_schemas::S10ItemCode;

/// One request a peer received.
#[derive(Debug, Clone)]
pub struct Call {
    /// The path.
    pub path: String,
    /// The `Idempotency-Key`.
    pub key: String,
    /// The body.
    pub body: Bytes,
}

impl Call {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

/// What kind of peer it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Answers orders with a fresh S10 item code.
    Postal,
    /// Answers 201 to dossiers and notices.
    Desk,
}

#[derive(Clone)]
struct PeerState {
    role: Role,
    calls: Arc<Mutex<Vec<Call>>>,
}

/// A running peer.
#[derive(Clone)]
pub struct Peer {
    /// Its address.
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Peer {
    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls received so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

async fn receive(State(state): State<PeerState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let call = Call { path: uri.path().to_owned(), key: key.clone(), body };
    let position = {
        let Ok(mut calls) = state.calls.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
        let earlier = calls.iter().position(|c| c.key == key && c.path == call.path);
        calls.push(call);
        earlier.unwrap_or(calls.len() - 1)
    };
    match state.role {
        Role::Desk => StatusCode::CREATED.into_response(),
        Role::Postal => {
            let Ok(item) = S10ItemCode::build("RR", 1000 + position as u32, "VN") else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let xml = format!(
                "<KetQuaDonHang xmlns=\"urn:motcua:postal:v1\"><OrderCode>{}</OrderCode><ItemCode>{item}</ItemCode></KetQuaDonHang>",
                motcua_adapters::xml::escape(&key)
            );
            ([(header::CONTENT_TYPE, "application/xml")], xml).into_response()
        }
    }
}

/// Starts a peer on a loopback port.
pub async fn start(role: Role) -> std::io::Result<Peer> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(receive).with_state(PeerState { role, calls: calls.clone() });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Peer { addr, calls })
}
