//! The dispatch scenario: a backlog taken in while the local desk holds every call,
//! then released at once, timed until the desk has every dossier.

use std::{
    path::Path,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use super::load::{self, Kind, LoadResult, LoadSpec};
use super::{
    BenchError, BenchOptions, bench_config, client_tls, desk, dev_token, payload, setup, spawn_self, tempfile_dir,
};
use crate::settings::Settings;

/// What the dispatch measurement found.
#[derive(Debug, Clone)]
pub struct DispatchMeasured {
    /// Dossiers taken in before the desk opened.
    pub dossiers: usize,
    /// Intake of the backlog.
    pub intake: LoadResult,
    /// Time from opening the desk until it had every dossier.
    pub drain: Duration,
}

impl DispatchMeasured {
    /// Dossiers delivered per second once the desk opened.
    pub fn rate(&self) -> f64 {
        self.dossiers as f64 / self.drain.as_secs_f64().max(1e-9)
    }
}

/// Dispatch throughput: takes in `count` dossiers for push desks while the local
/// desk holds every call, then opens the desk and times how long the gateway takes
/// to deliver them all.
pub async fn run_dispatch(options: &BenchOptions, count: u64) -> Result<DispatchMeasured, BenchError> {
    let workdir = tempfile_dir()?;
    let data_dir = workdir.join("data");
    let config_path = workdir.join("gateway.toml");
    let (desk_addr, desk) = desk::start().await.map_err(setup)?;
    let desk_url = format!("http://{desk_addr}");
    std::fs::write(&config_path, bench_config(&options.config, &data_dir, Some(&desk_url))?).map_err(setup)?;
    let settings = Settings::load(&config_path).map_err(setup)?;
    let config_dir = options.config.parent().unwrap_or(Path::new(".")).to_owned();
    let config_arg = config_path.display().to_string();
    let serve = ["serve", "--config", config_arg.as_str()];
    let (gateway, gateway_addr) = spawn_self(&serve, &workdir.join("gateway.log"))?;
    let spec = LoadSpec {
        addr: gateway_addr,
        tls: client_tls(&data_dir.join("tls/dev-ca.pem"))?,
        http2: options.http2,
        concurrency: options.concurrency,
        streams_per_connection: options.streams_per_connection,
        duration: Duration::from_secs(3600),
        warmup: Duration::ZERO,
        kind: Kind::Portal,
        portal_token: dev_token(&settings, &config_dir, "portal-dev")?,
        postal_token: dev_token(&settings, &config_dir, "postal-dev")?,
        run_id: format!("{}", jiff::Timestamp::now().as_millisecond()),
        postal_serials: Arc::new(AtomicU64::new(0)),
        units: payload::PUSH_UNITS,
        budget: Some(Arc::new(AtomicU64::new(count))),
        rate: None,
        prefer_minimal: options.prefer_minimal,
    };
    let intake = load::run(spec).await;
    let dossiers = intake.latencies_us.len();
    let started = std::time::Instant::now();
    desk.open();
    while desk.accepted() < dossiers {
        if started.elapsed() > Duration::from_secs(600) {
            return Err(setup(format!("only {} of {dossiers} dossiers delivered after 10 minutes", desk.accepted())));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain = started.elapsed();
    drop(gateway);
    let _ = std::fs::remove_dir_all(&workdir);
    Ok(DispatchMeasured { dossiers, intake, drain })
}
