//! What a run prints, and the measurements of the gateway's process it reads.

use std::path::Path;

use super::{BenchOptions, Measured};

/// KiB shown in MiB.
pub(super) fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "unknown".into())
}

/// The peak resident memory of a process, from `/proc/<pid>/status`.
pub fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time the process `pid` has used so far (user and system), in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields after it start past its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let (user, system): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    let ticks = rustix::param::clock_ticks_per_second();
    (ticks > 0).then(|| (user + system) as f64 / ticks as f64)
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A Markdown report of one run.
pub fn report(options: &BenchOptions, ceiling: Option<&Measured>, gateway: &Measured, notes: &str) -> String {
    let protocol = if options.http2 {
        format!("HTTP/2 ({} streams per connection)", options.streams_per_connection)
    } else {
        "HTTP/1.1 keep-alive".into()
    };
    let mut out = format!(
        "scenario: {:?}{}; {} requests in flight over {protocol}; {} s measured after {} s warm-up\n\n",
        options.kind,
        if options.prefer_minimal { " (Prefer: return=minimal)" } else { "" },
        options.concurrency,
        options.duration.as_secs(),
        options.warmup.as_secs()
    );
    out.push_str("| target | req/s | p50 ms | p99 ms | p99.9 ms | errors |\n|---|---:|---:|---:|---:|---|\n");
    for m in ceiling.into_iter().chain(std::iter::once(gateway)) {
        let r = &m.result;
        let errors = if r.errors() == 0 {
            "0".to_owned()
        } else {
            let by_status: Vec<String> =
                r.statuses.iter().filter(|(s, _)| !(200..300).contains(*s)).map(|(s, n)| format!("{s}: {n}")).collect();
            format!(
                "{} ({}{})",
                r.errors(),
                by_status.join(", "),
                if r.transport_errors > 0 { format!(" transport: {}", r.transport_errors) } else { String::new() }
            )
        };
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {errors} |\n",
            m.label,
            r.throughput(),
            r.percentile_ms(50.0),
            r.percentile_ms(99.0),
            r.percentile_ms(99.9)
        ));
    }
    if let Some(c) = ceiling {
        out.push_str(&format!(
            "\nratio to ceiling: {:.3}\n",
            gateway.result.throughput() / c.result.throughput().max(1e-9)
        ));
    }
    out.push_str(&format!("\n{notes}\n"));
    out
}
