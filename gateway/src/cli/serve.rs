//! `motcua serve`: run the gateway until SIGINT or SIGTERM.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use motcua_gateway::{
    run::{Ended, run},
    settings::Settings,
    telemetry::{self, LogFormat},
};
use serde_json::json;

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

/// Serves with the configuration at `path`. With JSON logs, a failure to start or
/// to run is itself a JSON line.
pub fn run_serve(path: &Path, log_format: LogFormat) -> anyhow::Result<ExitCode> {
    telemetry::init(log_format);
    match serve(path, log_format) {
        Err(e) if log_format == LogFormat::Json => {
            tracing::error!(error = %format!("{e:#}"), "the gateway stopped");
            Ok(ExitCode::FAILURE)
        }
        other => other,
    }
}

fn serve(path: &Path, format: LogFormat) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(path)?;
    for warning in &settings.warnings {
        tracing::warn!(%warning, "not fit for production");
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let ended = runtime.block_on(run(settings, Some(path.to_owned()), stop_signal(), |started| {
        let scheme = if started.tls { "https" } else { "http" };
        let url = format!("{scheme}://{}", started.addr);
        telemetry::announce(format, "listening", &format!("listening on {url}"), json!({ "url": url }));
        if let Some(admin) = started.admin_addr {
            let probes = format!("http://{admin}");
            let text = format!("probes on {probes}/healthz and /readyz");
            telemetry::announce(format, "probes", &text, json!({ "url": probes }));
        }
        if let Some(ca) = &started.dev_ca {
            let text = format!("development certificate; trust it with: curl --cacert {} …", ca.display());
            telemetry::announce(
                format,
                "development certificate",
                &text,
                json!({ "ca_file": ca.display().to_string() }),
            );
        }
        telemetry::announce(format, "ready", "ready", json!({}));
    }))?;
    Ok(match ended {
        Ended::Stopped => ExitCode::SUCCESS,
        Ended::StoreFailed => ExitCode::from(70),
    })
}
