//! The demo's push desk: a real HTTP server on loopback that answers 201 and records
//! what it receives (the national portal and VNPost are `motcua_simulators`).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};

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

#[derive(Clone)]
struct PeerState {
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
    let call = Call { path: uri.path().to_owned(), key, body };
    let Ok(mut calls) = state.calls.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    calls.push(call);
    StatusCode::CREATED.into_response()
}

/// Starts a peer on a loopback port.
pub async fn start() -> std::io::Result<Peer> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(receive).with_state(PeerState { calls: calls.clone() });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Peer { addr, calls })
}
