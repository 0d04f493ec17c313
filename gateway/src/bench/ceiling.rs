//! The ceiling endpoint: the gateway's own listener stack (tokio, rustls, hyper's
//! automatic HTTP/1.1 and HTTP/2 server, axum routing) answering 201 to every
//! request after reading its body, with no other work.

use std::{net::SocketAddr, path::Path, time::Duration};

use axum::{Router, body::Bytes, http::StatusCode};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::config::file::LimitsSection;
use crate::server::{self, Listener, tls};

async fn created(_body: Bytes) -> StatusCode {
    StatusCode::CREATED
}

/// Serves the ceiling endpoint on `listen` until `stop` resolves; `on_start` gets
/// the bound address.
pub async fn serve(
    listen: SocketAddr,
    cert: &Path,
    key: &Path,
    stop: impl std::future::Future<Output = ()>,
    on_start: impl FnOnce(SocketAddr),
) -> Result<(), tls::TlsError> {
    let config = tls::server_config(cert, key, None)?;
    let socket = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| tls::TlsError::Io { path: listen.to_string(), error })?;
    let addr = socket.local_addr().map_err(|error| tls::TlsError::Io { path: listen.to_string(), error })?;
    let listener = Listener {
        socket,
        tls: Some(TlsAcceptor::from(config)),
        router: Router::new().fallback(created),
        uncapped: Vec::new(),
    };
    on_start(addr);
    let (tx, rx) = watch::channel(false);
    let l = LimitsSection::default();
    let limits = crate::settings::Listeners {
        header_read_timeout_secs: l.header_read_timeout_secs,
        tls_handshake_timeout_secs: l.tls_handshake_timeout_secs,
        idle_timeout_secs: l.idle_timeout_secs,
        max_connections: l.max_connections,
        max_connections_per_ip: l.max_connections_per_ip,
    };
    let serving = tokio::spawn(async move { server::serve(listener, &limits, rx, Duration::from_secs(1)).await });
    stop.await;
    let _ = tx.send(true);
    let _ = serving.await;
    Ok(())
}
