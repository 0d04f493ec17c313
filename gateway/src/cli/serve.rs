//! `motcua serve`: run the gateway until SIGINT or SIGTERM.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use motcua_gateway::{
    config::Settings,
    run::{Ended, run},
    telemetry::{self, LogFormat},
};

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        }
        _ => std::future::pending().await,
    }
}

/// Serves with the configuration at `path`.
pub fn run_serve(path: &Path, log_format: LogFormat) -> anyhow::Result<ExitCode> {
    telemetry::init(log_format);
    let settings = Settings::load(path)?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let ended = runtime.block_on(run(settings, Some(path.to_owned()), stop_signal(), |started| {
        let scheme = if started.tls { "https" } else { "http" };
        println!("motcua: listening on {scheme}://{}", started.addr);
        if let Some(admin) = started.admin_addr {
            println!("motcua: probes on http://{admin}/healthz and /readyz");
        }
        if let Some(ca) = &started.dev_ca {
            println!("motcua: development certificate; trust it with: curl --cacert {} …", ca.display());
        }
        println!("motcua: ready");
    }))?;
    Ok(match ended {
        Ended::Stopped => ExitCode::SUCCESS,
        Ended::StoreFailed => ExitCode::from(70),
    })
}
