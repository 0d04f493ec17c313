//! The listeners: an accept loop per address over hyper's automatic HTTP/1.1 and
//! HTTP/2 server, behind rustls, with a deadline on every stage before the first
//! request (TCP to TLS, TLS to a first request, whatever the protocol), an idle
//! timeout between requests, a connection limit overall and per source address, and
//! graceful shutdown that lets in-flight requests finish.

pub mod tls;

mod watch_conn;

use std::{
    collections::HashMap,
    convert::Infallible,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Body};
use hyper::{Request, body::Incoming};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{net::TcpListener, sync::watch};
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::settings::Listeners;
use tls::PeerCertificate;

/// What the listener knows about a connection, given to every request on it.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The peer's address.
    pub remote: SocketAddr,
    /// The client certificate, if one was presented and verified.
    pub certificate: Option<PeerCertificate>,
}

/// One listener's setup.
pub struct Listener {
    /// The bound socket.
    pub socket: TcpListener,
    /// TLS, unless plain HTTP.
    pub tls: Option<TlsAcceptor>,
    /// The routes it serves.
    pub router: Router,
    /// Source addresses the per-address connection cap does not apply to (the
    /// province's own load balancers and proxies).
    pub uncapped: Vec<ipnet::IpNet>,
}

/// Open connections per source address, each released when its connection ends.
#[derive(Default)]
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in [`PerAddress`].
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot { table: self.clone(), ip })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Resolves once `rx` turns true (or its sender is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

fn http_builder(limits: &Listeners) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Serves `listener` until `shutdown` turns true, then stops accepting, asks every
/// connection to finish its in-flight requests, and waits for them (at most
/// `grace`).
pub async fn serve(listener: Listener, limits: &Listeners, mut shutdown: watch::Receiver<bool>, grace: Duration) {
    let builder = Arc::new(http_builder(limits));
    let handshake_timeout = Duration::from_secs(limits.tls_handshake_timeout_secs);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let deadlines = watch_conn::Deadlines {
        first_request: Duration::from_secs(limits.header_read_timeout_secs),
        idle: Duration::from_secs(limits.idle_timeout_secs),
    };
    let tracker = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
            _ = stopped(&mut shutdown) => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.socket.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let address_slot = if listener.uncapped.iter().any(|net| net.contains(&remote.ip())) {
            None
        } else {
            match per_address.take(remote.ip(), limits.max_connections_per_ip) {
                Some(slot) => Some(slot),
                None => {
                    tracing::warn!(peer = %remote.ip(), "connection refused: too many open from this address");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let (builder, tls, router, mut stop) =
            (builder.clone(), listener.tls.clone(), listener.router.clone(), shutdown.clone());
        tracker.spawn(async move {
            let _slots = (permit, address_slot);
            match tls {
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => stream,
                        _ => return,
                    };
                    let certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(|der| PeerCertificate::from_der(der));
                    let info = ConnInfo { remote, certificate };
                    serve_connection(&builder, TokioIo::new(stream), info, router, deadlines, &mut stop).await;
                }
                None => {
                    let info = ConnInfo { remote, certificate: None };
                    serve_connection(&builder, TokioIo::new(stream), info, router, deadlines, &mut stop).await;
                }
            }
        });
    }
    drop(listener.socket);
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!("some connections were still busy after the shutdown grace period");
    }
}

async fn serve_connection<I>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    info: ConnInfo,
    router: Router,
    deadlines: watch_conn::Deadlines,
    stop: &mut watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let activity = Arc::new(watch_conn::Activity::default());
    let seen = activity.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        let router = router.clone();
        let busy = seen.begin();
        async move {
            let response = router.oneshot(request.map(Body::new)).await.unwrap_or_else(|e| match e {});
            drop(busy);
            Ok::<_, Infallible>(response)
        }
    });
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopped(stop) => connection.as_mut().graceful_shutdown(),
        verdict = activity.expired(deadlines) => match verdict {
            // Nothing was asked in time: drop the connection without ceremony.
            watch_conn::Expired::BeforeFirstRequest => return,
            watch_conn::Expired::Idle => connection.as_mut().graceful_shutdown(),
        },
    }
    let _ = connection.await;
}

/// The caller's address: the peer, or with `tls = "off"` behind a trusted proxy the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(parts: &axum::http::request::Parts, settings: &crate::settings::Settings) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnInfo>()?.remote.ip();
    let proxies = &settings.boot.trusted_proxies;
    if settings.boot.tls != crate::settings::TlsMode::Off || !proxies.iter().any(|p| p.contains(&peer)) {
        return Some(peer);
    }
    let forwarded =
        parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let chain: Vec<IpAddr> = forwarded.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    Some(chain.into_iter().rev().find(|ip| !proxies.iter().any(|p| p.contains(ip))).unwrap_or(peer))
}
