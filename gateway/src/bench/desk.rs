//! A local push desk for the dispatch measurement: it holds every delivery until
//! its gate opens, then accepts each dossier once (de-duplicating on
//! `Idempotency-Key`) and counts them.

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};

/// What the desk has seen.
#[derive(Default)]
pub struct DeskState {
    open: AtomicBool,
    accepted: Mutex<HashSet<String>>,
}

impl DeskState {
    /// Lets held and future deliveries through.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    /// Dossiers accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.lock().map(|a| a.len()).unwrap_or(0)
    }
}

async fn receive(State(state): State<Arc<DeskState>>, headers: HeaderMap, _body: Bytes) -> StatusCode {
    while !state.open.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let first = state.accepted.lock().map(|mut a| a.insert(key)).unwrap_or(false);
    if first { StatusCode::CREATED } else { StatusCode::CONFLICT }
}

/// Starts the desk on a loopback port.
pub async fn start() -> std::io::Result<(SocketAddr, Arc<DeskState>)> {
    let state = Arc::new(DeskState::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(receive).with_state(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, state))
}
