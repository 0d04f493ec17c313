//! Running the gateway: open the store, prepare TLS, bind the listeners, serve until
//! asked to stop (or until the store fails), then drain and close the store.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::watch};
use tokio_rustls::TlsAcceptor;

use crate::app::App;
use crate::outbound::{Outbound, OutboundError};
use crate::server::{self, Listener, tls};
use crate::settings::{Settings, TlsMode};
use crate::store::{Store, StoreError, StoreMetrics};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The data directory is unusable.
    #[error("data directory {path}: {error}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Outbound clients could not be prepared.
    #[error(transparent)]
    Outbound(#[from] OutboundError),
    /// The checkpoints' signing key could not be read or made.
    #[error(transparent)]
    AuditKey(#[from] crate::audit::key::KeyError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Asked to stop; everything drained.
    Stopped,
    /// The store could not make writes durable; the process must exit non-zero so a
    /// supervisor restarts it.
    StoreFailed,
}

/// What a started gateway reports about itself.
#[derive(Debug, Clone)]
pub struct Started {
    /// The main listener's address.
    pub addr: SocketAddr,
    /// The admin listener's address.
    pub admin_addr: Option<SocketAddr>,
    /// True when the main listener speaks TLS.
    pub tls: bool,
    /// The development CA, with `tls = "dev"`.
    pub dev_ca: Option<std::path::PathBuf>,
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, RunError> {
    TcpListener::bind(addr).await.map_err(|error| RunError::Bind { addr, error })
}

/// Runs the gateway until `stop` resolves. `on_start` is told where it listens. With
/// `reload_from`, SIGHUP re-reads that file and puts it in force if it is valid.
pub async fn run(
    settings: Settings,
    reload_from: Option<std::path::PathBuf>,
    stop: impl Future<Output = ()>,
    on_start: impl FnOnce(&Started),
) -> Result<Ended, RunError> {
    let data_dir = settings.boot.data_dir.clone();
    crate::files::private_dir(&data_dir)
        .map_err(|error| RunError::DataDir { path: data_dir.display().to_string(), error })?;

    let (tls_files, dev_ca) = match &settings.boot.tls {
        TlsMode::Off => (None, None),
        TlsMode::Dev => {
            let dev = tls::ensure_dev_certificate(&data_dir)?;
            (Some((dev.cert, dev.key)), Some(dev.ca))
        }
        TlsMode::Files { cert, key } => (Some((cert.clone(), key.clone())), None),
    };
    let acceptor = match &tls_files {
        Some((cert, key)) => {
            Some(TlsAcceptor::from(tls::server_config(cert, key, settings.boot.client_ca_file.as_deref())?))
        }
        None => None,
    };

    let outbound = Arc::new(Outbound::new(&settings)?);
    let (notes_tx, notes_rx) = tokio::sync::mpsc::unbounded_channel();
    let (clock_tx, clock_rx) = tokio::sync::mpsc::unbounded_channel();
    let store_metrics = StoreMetrics::default();
    let metrics = Arc::new(crate::metrics::Metrics::new(&store_metrics));
    if let Some(expires) = tls_files.as_ref().and_then(|(cert, _)| tls::not_after(cert)) {
        metrics.tls_not_after.set(expires);
    }
    let store = Store::open(&data_dir, &settings.boot.store, store_metrics, vec![notes_tx, clock_tx])?;
    if let Err(e) = settings.boot.record() {
        tracing::warn!(error = %e, "cannot record the restart-only settings for check-config");
    }
    crate::stats::build_months(&store).await?;
    crate::outbox::index_dead_letters(&store).await?;
    let main_socket = bind(settings.boot.listen).await?;
    let admin_socket = match settings.boot.admin_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let started = Started {
        addr: main_socket.local_addr().map_err(|error| RunError::Bind { addr: settings.boot.listen, error })?,
        admin_addr: admin_socket.as_ref().and_then(|s| s.local_addr().ok()),
        tls: acceptor.is_some(),
        dev_ca,
    };
    let (limits, request_timeout) = (settings.boot.listeners, settings.limits.request_timeout_secs);
    let audit_key = crate::audit::key::AuditKey::open_or_create(&settings.audit.key_file)?;
    let app = App::new(settings, store.clone(), Arc::new(crate::clock::SystemClock), metrics, outbound);
    app.core().set_audit_key(audit_key);
    on_start(&started);

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let grace = Duration::from_secs(request_timeout + 5);
    let main = tokio::spawn({
        let uncapped = app.settings().boot.trusted_proxies.clone();
        let listener = Listener {
            socket: main_socket,
            tls: acceptor,
            router: crate::http::router(app.clone(), crate::ui::router(app.clone())),
            uncapped,
        };
        let rx = shutdown_rx.clone();
        async move { server::serve(listener, &limits, rx, grace).await }
    });
    let admin = admin_socket.map(|socket| {
        let listener =
            Listener { socket, tls: None, router: crate::http::admin_router(app.clone()), uncapped: Vec::new() };
        let rx = shutdown_rx.clone();
        tokio::spawn(async move { server::serve(listener, &limits, rx, grace).await })
    });
    let pruning = tokio::spawn(prune_limiters(app.clone()));
    let reloading = reload_from.map(|path| tokio::spawn(reload_on_sighup(app.clone(), path)));
    let singletons = tokio::spawn(crate::lead::run(app.clone(), notes_rx, clock_rx, shutdown_rx.clone(), grace));

    let ended = tokio::select! {
        _ = stop => Ended::Stopped,
        _ = store.wait_failed() => Ended::StoreFailed,
    };
    tracing::info!(?ended, "shutting down: finishing in-flight requests");
    let _ = shutdown_tx.send(true);
    let _ = main.await;
    if let Some(admin) = admin {
        let _ = admin.await;
    }
    let _ = singletons.await;
    pruning.abort();
    if let Some(reloading) = reloading {
        reloading.abort();
    }
    store.close().await;
    tracing::info!("store closed");
    Ok(ended)
}

async fn prune_limiters(app: Arc<App>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        app.limiters().prune();
    }
}

async fn reload_on_sighup(app: Arc<App>, path: std::path::PathBuf) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; configuration reload is off");
        return;
    };
    while hangups.recv().await.is_some() {
        match Settings::load(&path) {
            Ok(settings) => match app.reload(settings) {
                Ok(warnings) => {
                    for warning in warnings {
                        tracing::warn!(%warning, "kept from the running configuration");
                    }
                    tracing::info!(path = %path.display(), "configuration reloaded");
                }
                Err(reason) => tracing::error!(%reason, "configuration refused; the running one stays"),
            },
            Err(e) => tracing::error!(problems = %e, "configuration refused; the running one stays"),
        }
    }
}
