//! `motcua bench`: durable-intake throughput and latency under concurrency, measured
//! against the real gateway (a child process on a fresh data directory) and, in the
//! same run, against a minimal endpoint of the same server stack that answers 201
//! without doing any work — the ceiling of this machine — so the report can give
//! the gateway's throughput as a ratio that holds on a noisy machine.

pub mod ceiling;
pub mod desk;
mod dispatch;
pub mod load;
mod pages;
pub mod payload;
mod report;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use crate::auth::{
    keys,
    tokens::{Claims, mint},
};
use crate::settings::Settings;
pub use dispatch::{DispatchMeasured, run_dispatch};
use load::{Kind, LoadResult, LoadSpec};
use report::mib;
pub use report::{cpu_seconds, dir_size, peak_memory_kib, report};

/// Prints, every ten seconds until aborted, how many of `total` dossiers the preload has
/// sent (those its `budget` no longer holds) and at what rate.
async fn preload_progress(budget: Arc<AtomicU64>, total: u64) {
    let started = std::time::Instant::now();
    let mut every = tokio::time::interval(Duration::from_secs(10));
    every.tick().await;
    loop {
        every.tick().await;
        let sent = total.saturating_sub(budget.load(std::sync::atomic::Ordering::Relaxed));
        let rate = sent as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let left = total.saturating_sub(sent) as f64 / rate.max(1e-9);
        eprintln!(
            "motcua bench: preloading: {sent} of {total} dossiers ({:.0} %), {rate:.0}/s, about {left:.0} s left",
            sent as f64 * 100.0 / total.max(1) as f64
        );
    }
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Setting up failed.
    #[error("{0}")]
    Setup(String),
}

fn setup(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The configuration to start from (the sample by default).
    pub config: PathBuf,
    /// What the load sends.
    pub kind: Kind,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Streams per HTTP/2 connection.
    pub streams_per_connection: usize,
    /// HTTP/2 instead of HTTP/1.1.
    pub http2: bool,
    /// Measured time per target.
    pub duration: Duration,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Skip the ceiling measurement.
    pub no_ceiling: bool,
    /// Portal dossiers ask for `Prefer: return=minimal`.
    pub prefer_minimal: bool,
    /// Dossiers to take in before measuring (not measured).
    pub preload: u64,
    /// Requests per second in all, paced (as fast as possible when absent).
    pub rate: Option<f64>,
    /// Keep the work directory (store, logs) for inspection.
    pub keep: bool,
    /// Gateway nodes sharing the store (the load is split evenly between them).
    pub nodes: usize,
}

/// A child process that is killed when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `motcua <args>` and waits for its `listening on https://ADDR` line.
fn spawn_self(args: &[&str], log: &Path) -> Result<(ChildGuard, SocketAddr), BenchError> {
    let exe = std::env::current_exe().map_err(setup)?;
    let log = std::fs::File::create(log).map_err(setup)?;
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(setup)?;
    let stdout = child.stdout.take().ok_or_else(|| setup("no stdout"))?;
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.map_err(setup)?;
        if let Some(rest) = line.split("listening on https://").nth(1) {
            addr = rest.split(['/', ' ']).next().and_then(|a| a.parse().ok());
        }
        if line == "motcua: ready" {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let addr = addr.ok_or_else(|| setup(format!("{args:?} did not start; see its log")))?;
    Ok((guard, addr))
}

fn client_tls(ca: &Path) -> Result<Arc<rustls::ClientConfig>, BenchError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(setup)? {
        roots.add(cert.map_err(setup)?).map_err(setup)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(crate::server::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn dev_token(settings: &Settings, config_dir: &Path, client: &str) -> Result<String, BenchError> {
    let c = settings.clients.by_id(client).ok_or_else(|| setup(format!("no client {client}")))?;
    let algorithm = *c.algorithms.first().ok_or_else(|| setup("no algorithm"))?;
    let key =
        keys::load_private_pem(&config_dir.join("dev").join(format!("{client}.key.pem")), algorithm).map_err(setup)?;
    let claims = Claims::new(&c.issuer, &c.id, &settings.gateway.audience, 3600);
    mint(&claims, &key, algorithm, c.keys.first().and_then(|k| k.kid.as_deref())).map_err(setup)
}

/// The configuration the benchmarked gateway runs on: the given file on ephemeral
/// ports and a fresh data directory, with the benchmark clients' rate limits lifted,
/// and — for the dispatch measurement — every push desk at `desk_url`.
fn bench_config(source: &Path, data_dir: &Path, desk_url: Option<&str>) -> Result<String, BenchError> {
    use crate::config::relocate::{entries_where, relocated};
    let mut table = relocated(source, data_dir).map_err(setup)?;
    for client in table.get_mut("clients").and_then(toml::Value::as_array_mut).into_iter().flatten() {
        if let Some(client) = client.as_table_mut() {
            let mut rate = toml::Table::new();
            rate.insert("per_second".into(), 1_000_000.into());
            rate.insert("burst".into(), 1_000_000.into());
            client.insert("rate".into(), rate.into());
        }
    }
    if let Some(url) = desk_url {
        for desk in entries_where(&mut table, "desks", "mode", "push") {
            desk.insert("url".into(), url.into());
            desk.insert("timeout_secs".into(), 120.into());
        }
    }
    toml::to_string(&table).map_err(setup)
}

/// One measured target.
#[derive(Debug, Clone)]
pub struct Measured {
    /// What was measured.
    pub label: String,
    /// The figures.
    pub result: LoadResult,
}

/// Reads a counter or histogram sum from OpenMetrics text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Timed fetches of each web page after a run.
const PAGE_FETCHES: usize = 5;

/// Runs the benchmark and returns the ceiling (if measured) and gateway figures.
pub async fn run(options: &BenchOptions) -> Result<(Option<Measured>, Measured, String), BenchError> {
    let workdir = tempfile_dir()?;
    let data_dir = workdir.join("data");
    let config_path = workdir.join("gateway.toml");
    // The mixed scenario delivers to a local push desk while taking in; the others
    // address pull desks, so that intake alone is measured.
    let with_dispatch = options.kind == Kind::Mixed;
    // A preloaded store is one whose dossiers were delivered long ago: the preload goes
    // to push desks served by the local desk, and the outbox drains before measuring.
    let local_desk = if with_dispatch || options.preload > 0 {
        let (addr, desk) = desk::start().await.map_err(setup)?;
        desk.open();
        Some((format!("http://{addr}"), desk))
    } else {
        None
    };
    std::fs::write(
        &config_path,
        bench_config(&options.config, &data_dir, local_desk.as_ref().map(|(u, _)| u.as_str()))?,
    )
    .map_err(setup)?;
    let settings = Settings::load(&config_path).map_err(setup)?;
    let config_dir = options.config.parent().unwrap_or(Path::new(".")).to_owned();

    let config_arg = config_path.display().to_string();
    let serve = ["serve", "--config", config_arg.as_str()];
    let (mut gateway, mut gateway_addr) = spawn_self(&serve, &workdir.join("gateway.log"))?;
    let ca = data_dir.join("tls/dev-ca.pem");
    let tls = client_tls(&ca)?;
    let others = other_nodes(options, &settings, &workdir, local_desk.as_ref().map(|(u, _)| u.as_str()))?;
    let spec = |addr| LoadSpec {
        addr,
        tls: tls.clone(),
        http2: options.http2,
        concurrency: options.concurrency,
        streams_per_connection: options.streams_per_connection,
        duration: options.duration,
        warmup: options.warmup,
        kind: options.kind,
        portal_token: dev_token(&settings, &config_dir, "portal-dev").unwrap_or_default(),
        postal_token: dev_token(&settings, &config_dir, "postal-dev").unwrap_or_default(),
        run_id: format!("{}", jiff::Timestamp::now().as_millisecond()),
        postal_serials: Arc::new(AtomicU64::new(jiff::Timestamp::now().as_second() as u64 % 50_000_000)),
        units: if with_dispatch { payload::PUSH_UNITS } else { payload::PULL_UNITS },
        budget: None,
        rate: options.rate,
        prefer_minimal: options.prefer_minimal,
    };

    let ceiling = if options.no_ceiling {
        None
    } else {
        let cert = data_dir.join("tls/server.pem").display().to_string();
        let key = data_dir.join("tls/server.key.pem").display().to_string();
        let (ceiling_child, ceiling_addr) =
            spawn_self(&["bench-ceiling", "--cert", &cert, "--key", &key], &workdir.join("ceiling.log"))?;
        let mut unpaced = spec(ceiling_addr);
        unpaced.rate = None;
        let result = load::run(unpaced).await;
        drop(ceiling_child);
        Some(Measured { label: "ceiling (same TLS/HTTP stack, answers 201, no work)".into(), result })
    };
    let mut preload_note = String::new();
    if options.preload > 0 {
        let mut preload = spec(gateway_addr);
        preload.kind = Kind::Portal;
        preload.units = payload::PUSH_UNITS;
        preload.rate = None;
        preload.duration = Duration::from_secs(24 * 3600);
        preload.warmup = Duration::ZERO;
        preload.run_id = format!("pre{}", preload.run_id);
        let budget = Arc::new(AtomicU64::new(options.preload));
        preload.budget = Some(budget.clone());
        // A million dossiers take minutes: say how far the preload is every ten seconds.
        let progress = tokio::spawn(preload_progress(budget, options.preload));
        let loaded = load::run(preload).await;
        progress.abort();
        eprintln!("motcua bench: preloaded {} dossiers at {:.0}/s", loaded.latencies_us.len(), loaded.throughput());
        if let Some((_, desk)) = &local_desk {
            while desk.accepted() < loaded.latencies_us.len() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            eprintln!("motcua bench: the outbox drained; {} dossiers delivered", desk.accepted());
        }
        // Measure a gateway that holds the store, not one that has just built it: kill
        // the preloading process and start afresh, which also times recovery.
        let building_peak = peak_memory_kib(gateway.0.id());
        drop(gateway);
        let restarted = std::time::Instant::now();
        (gateway, gateway_addr) = spawn_self(&serve, &workdir.join("gateway-restarted.log"))?;
        let start_time = restarted.elapsed().as_secs_f64();
        // Recovery (sled loading its page table) has a peak of its own; reset the
        // high-water mark so that the figure below is the peak while serving.
        let recovery_peak = peak_memory_kib(gateway.0.id());
        let reset = std::fs::write(format!("/proc/{}/clear_refs", gateway.0.id()), "5").is_ok();
        preload_note = format!(
            "preload: {} dossiers at {:.0}/s, drained to the local desk; peak memory while preloading {} MiB\n\
             killed (SIGKILL) and started again on the full store in {start_time:.1} s; peak memory of that \
             start (recovery) {} MiB{}\n",
            loaded.latencies_us.len(),
            loaded.throughput(),
            mib(building_peak),
            mib(recovery_peak),
            if reset { "; the figure below is the peak after it, while serving" } else { "" },
        );
    }
    let admin = dev_token(&settings, &config_dir, "admin-dev")?;
    let scrape = || async {
        let answers = load::probe(gateway_addr, tls.clone(), &admin, "/metrics", 1).await;
        answers.first().map(|(_, body, _)| String::from_utf8_lossy(body).into_owned()).unwrap_or_default()
    };
    let depth_of = |text: &str| metric(text, "motcua_outbox_depth");
    let mut warmup = spec(gateway_addr);
    warmup.duration = options.warmup;
    warmup.warmup = Duration::ZERO;
    warmup.run_id = format!("warm{}", warmup.run_id);
    let _ = run_on_nodes(warmup, &others).await;
    let before = scrape().await;
    let cpu_before = cpu_seconds(gateway.0.id());
    // Only the scenario that dispatches reports the outbox; the others leave the
    // gateway alone while measuring.
    let sampling = {
        let (tls, admin, every) = (tls.clone(), admin.clone(), Duration::from_secs(1));
        let until = if with_dispatch { options.duration } else { Duration::ZERO };
        tokio::spawn(async move {
            let mut depths = Vec::new();
            let started = std::time::Instant::now();
            while started.elapsed() < until {
                tokio::time::sleep(every).await;
                let answers = load::probe(gateway_addr, tls.clone(), &admin, "/metrics", 1).await;
                let text = answers.first().map(|(_, b, _)| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                depths.push(metric(&text, "motcua_outbox_depth"));
            }
            depths
        })
    };
    let mut measured = spec(gateway_addr);
    measured.warmup = Duration::ZERO;
    let result = run_on_nodes(measured, &others).await;
    let cpu_used = cpu_seconds(gateway.0.id()).zip(cpu_before).map(|(after, before)| after - before);
    let after = scrape().await;
    let depths = sampling.await.unwrap_or_default();
    let elapsed = result.elapsed.as_secs_f64().max(1e-9);
    let commits = metric(&after, "motcua_store_commits_total") - metric(&before, "motcua_store_commits_total");
    let batched =
        metric(&after, "motcua_store_commit_batch_size_sum") - metric(&before, "motcua_store_commit_batch_size_sum");
    let stats_path = "/v1/stats?unit=15&from=2020-01-01&to=2099-12-31";
    let answers = load::probe(gateway_addr, tls.clone(), &admin, stats_path, 21).await;
    let mut times: Vec<f64> = answers.iter().skip(1).map(|(_, _, t)| t.as_secs_f64() * 1000.0).collect();
    times.sort_by(f64::total_cmp);
    let stored = answers
        .last()
        .and_then(|(_, body, _)| serde_json::from_slice::<serde_json::Value>(body).ok())
        .and_then(|v| v["received"].as_u64())
        .unwrap_or(0);
    // The peak of intake and statistics first; the pages, which read across the whole
    // store, have a figure of their own.
    let peak = peak_memory_kib(gateway.0.id());
    let pages = pages::time_pages(gateway_addr, tls.clone(), PAGE_FETCHES).await;
    let pages_peak = peak_memory_kib(gateway.0.id());
    // sled's tree and the value log beside it that holds the records.
    let size = dir_size(&data_dir.join("store")) + dir_size(&data_dir.join("values"));
    drop(gateway);
    drop(others);
    let mut notes = preload_note;
    if options.nodes > 1 {
        notes += &format!(
            "{} nodes on one store, the load split evenly; the store figures are the first node's\n",
            options.nodes
        );
    }
    if let Some(cpu) = cpu_used.filter(|_| options.nodes == 1 && !result.latencies_us.is_empty()) {
        // Steadier than the throughput on a shared machine: what each dossier cost.
        notes += &format!(
            "gateway CPU: {:.0} µs per dossier (user and system, {:.2} cores while measured)\n",
            cpu * 1e6 / result.latencies_us.len() as f64,
            cpu / elapsed,
        );
    }
    notes += &format!(
        "store: {:.0} group commits/s (each one flush + fdatasync), {:.1} commands per commit on average\n\
         gateway peak memory (VmHWM): {} MiB; store on disk: {:.1} MiB for {stored} dossiers\n\
         GET {stats_path} over those {stored} dossiers: median {:.2} ms, max {:.2} ms ({} calls)",
        commits / elapsed,
        if commits > 0.0 { batched / commits } else { 0.0 },
        mib(peak),
        size as f64 / 1_048_576.0,
        times.get(times.len() / 2).copied().unwrap_or(0.0),
        times.last().copied().unwrap_or(0.0),
        times.len(),
    );
    match pages {
        Ok(pages) => {
            notes.push_str(&format!("\npages over those {stored} dossiers ({PAGE_FETCHES} fetches each):"));
            for page in pages {
                notes.push_str(&format!(
                    " {} median {:.2} ms, max {:.2} ms ({});",
                    page.path, page.median_ms, page.max_ms, page.status
                ));
            }
            notes.push_str(&format!(" peak memory with them {} MiB", mib(pages_peak)));
        }
        Err(why) => notes.push_str(&format!("\npages not timed: {why}")),
    }
    if let (true, Some((_, desk))) = (with_dispatch, &local_desk) {
        notes.push_str(&format!(
            "\ndispatch during intake: outbox depth at the start {:.0}, sampled each second {:?}, at the end {:.0}; the local desk accepted {} dossiers",
            depth_of(&before),
            depths.iter().map(|d| *d as u64).collect::<Vec<_>>(),
            depth_of(&after),
            desk.accepted()
        ));
    }
    if options.keep {
        notes.push_str(&format!("\nwork directory kept: {}", workdir.display()));
    } else {
        let _ = std::fs::remove_dir_all(&workdir);
    }
    Ok((ceiling, Measured { label: "gateway (durable intake)".into(), result }, notes))
}

/// A node beside the first: its process, address and TLS client configuration.
type Node = (ChildGuard, SocketAddr, Arc<rustls::ClientConfig>);

/// Starts the nodes beside the first, each with its own data directory on the same store.
fn other_nodes(
    options: &BenchOptions,
    settings: &Settings,
    workdir: &Path,
    desk_url: Option<&str>,
) -> Result<Vec<Node>, BenchError> {
    if options.nodes > 1 && settings.boot.store.backend != crate::config::file::StoreBackend::Postgres {
        return Err(setup("several nodes share a store only with [store] backend = \"postgres\""));
    }
    let mut nodes = Vec::new();
    for i in 1..options.nodes {
        let data_dir = workdir.join(format!("data-{i}"));
        let config_path = workdir.join(format!("gateway-{i}.toml"));
        std::fs::write(&config_path, bench_config(&options.config, &data_dir, desk_url)?).map_err(setup)?;
        let config_arg = config_path.display().to_string();
        let log = workdir.join(format!("gateway-{i}.log"));
        let (child, addr) = spawn_self(&["serve", "--config", config_arg.as_str()], &log)?;
        nodes.push((child, addr, client_tls(&data_dir.join("tls/dev-ca.pem"))?));
    }
    Ok(nodes)
}

/// Runs `spec` against its node and the `others` at once, the concurrency and the rate
/// split evenly, and merges what they measured.
async fn run_on_nodes(spec: LoadSpec, others: &[Node]) -> LoadResult {
    if others.is_empty() {
        return load::run(spec).await;
    }
    let nodes = others.len() + 1;
    let mut targets = vec![(spec.addr, spec.tls.clone())];
    targets.extend(others.iter().map(|(_, addr, tls)| (*addr, tls.clone())));
    let runs: Vec<_> = targets
        .into_iter()
        .enumerate()
        .map(|(i, (addr, tls))| {
            let mut part = spec.clone();
            part.addr = addr;
            part.tls = tls;
            part.concurrency = (spec.concurrency / nodes).max(1);
            part.rate = spec.rate.map(|rate| rate / nodes as f64);
            part.run_id = format!("{}n{i}", spec.run_id);
            tokio::spawn(load::run(part))
        })
        .collect();
    let mut merged = LoadResult::default();
    for run in runs {
        let Ok(part) = run.await else { continue };
        merged.elapsed = merged.elapsed.max(part.elapsed);
        merged.latencies_us.extend(part.latencies_us);
        for (status, count) in part.statuses {
            *merged.statuses.entry(status).or_default() += count;
        }
        merged.transport_errors += part.transport_errors;
    }
    merged.latencies_us.sort_unstable();
    merged
}

fn tempfile_dir() -> Result<PathBuf, BenchError> {
    let dir = std::env::temp_dir().join(format!(
        "motcua-bench-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir).map_err(setup)?;
    Ok(dir)
}
