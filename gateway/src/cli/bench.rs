//! `motcua bench` and its ceiling endpoint.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use motcua_gateway::bench::{self, BenchOptions, load::Kind};

/// Options of `motcua bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to send.
    #[arg(long, value_enum, default_value_t = Scenario::Portal)]
    pub scenario: Scenario,
    /// Requests in flight at once (connections with HTTP/1.1).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Use HTTP/2.
    #[arg(long)]
    pub http2: bool,
    /// Streams per HTTP/2 connection.
    #[arg(long, default_value_t = 16)]
    pub streams: usize,
    /// Seconds to measure each target.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up before measuring.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Skip measuring the ceiling.
    #[arg(long)]
    pub no_ceiling: bool,
    /// Send portal dossiers with `Prefer: return=minimal` (docs/CONTRACT.md §3).
    #[arg(long)]
    pub prefer_minimal: bool,
    /// The configuration to benchmark.
    #[arg(long, default_value = super::DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Also write the report to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Dossiers to deliver in the dispatch scenario.
    #[arg(long, default_value_t = 20_000)]
    pub count: u64,
    /// Dossiers to take in before measuring (for intake into a full store).
    #[arg(long, default_value_t = 0)]
    pub preload: u64,
    /// Pace the load at this many requests per second in all.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Keep the work directory (store, configuration, logs) for inspection.
    #[arg(long)]
    pub keep: bool,
    /// Gateway nodes sharing the store, the load split evenly between them (more than
    /// one needs `[store] backend = "postgres"`).
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
}

/// Scenarios.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Scenario {
    /// Portal JSON intake.
    Portal,
    /// Postal XML intake.
    Postal,
    /// Both, alternating, to push desks served by a local desk while dispatch runs.
    Mixed,
    /// Dispatch: deliver a backlog to a local push desk and time it.
    Dispatch,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

/// Runs the benchmark and prints its report.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let options = BenchOptions {
        config: args.config,
        kind: match args.scenario {
            Scenario::Portal | Scenario::Dispatch => Kind::Portal,
            Scenario::Postal => Kind::Postal,
            Scenario::Mixed => Kind::Mixed,
        },
        concurrency: args.connections,
        streams_per_connection: args.streams,
        http2: args.http2,
        duration: Duration::from_secs(args.duration),
        warmup: Duration::from_secs(args.warmup),
        no_ceiling: args.no_ceiling,
        prefer_minimal: args.prefer_minimal,
        preload: args.preload,
        rate: args.rate,
        keep: args.keep,
        nodes: args.nodes.max(1),
    };
    let report = if matches!(args.scenario, Scenario::Dispatch) {
        let m = runtime()?.block_on(bench::run_dispatch(&options, args.count))?;
        format!(
            "scenario: dispatch to a local push desk; {} dossiers taken in at {:.0}/s over {} connections, held by the desk, then released\n\n\
             | measure | value |\n|---|---:|\n| dossiers delivered | {} |\n| time to deliver all | {:.2} s |\n| dispatch throughput | {:.0} dossiers/s |\n",
            m.dossiers,
            m.intake.throughput(),
            options.concurrency,
            m.dossiers,
            m.drain.as_secs_f64(),
            m.rate()
        )
    } else {
        let (ceiling, gateway, notes) = runtime()?.block_on(bench::run(&options))?;
        bench::report(&options, ceiling.as_ref(), &gateway, &notes)
    };
    print!("{report}");
    if let Some(path) = args.report {
        std::fs::write(&path, &report).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Serves the ceiling endpoint until SIGTERM/SIGKILL.
pub fn ceiling(listen: SocketAddr, cert: PathBuf, key: PathBuf) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(bench::ceiling::serve(listen, &cert, &key, std::future::pending(), |addr| {
        println!("motcua: listening on https://{addr}");
        println!("motcua: ready");
    }))?;
    Ok(ExitCode::SUCCESS)
}
