//! Serving a simulator's router on a loopback port.

use std::net::SocketAddr;

/// Binds `127.0.0.1:0` and serves `router` in the background; returns the address.
pub async fn spawn(router: axum::Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}
