//! `motcua bench` runs end to end in CI — briefly, on few connections, and without
//! timing anything: every scenario completes, every request is answered 2xx, and the
//! report carries the parts `docs/BENCHMARKS.md` quotes.

use std::process::Command;

use motcua_tests::{gateway::tools_binary as binary, repo};

fn bench(args: &[&str]) -> String {
    let config = repo().join("config/gateway.toml");
    let out = Command::new(binary())
        .arg("bench")
        .args(["--connections", "4", "--duration", "1", "--warmup", "0", "--config"])
        .arg(&config)
        .args(args)
        .output()
        .expect("motcua bench starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The `errors` cell of the table row that starts with `label`.
fn errors_of(report: &str, label: &str) -> String {
    let row = report.lines().find(|l| l.starts_with(&format!("| {label}"))).unwrap_or_else(|| panic!("{report}"));
    row.trim_end_matches('|').rsplit('|').next().unwrap_or_default().trim().to_owned()
}

#[test]
fn intake_into_a_preloaded_store_is_measured_against_the_ceiling_without_errors() {
    let report = bench(&["--scenario", "portal", "--preload", "200"]);
    assert_eq!(errors_of(&report, "ceiling"), "0", "{report}");
    assert_eq!(errors_of(&report, "gateway (durable intake)"), "0", "{report}");
    for part in ["ratio to ceiling:", "killed (SIGKILL) and started again", "group commits/s", "peak memory (VmHWM)"] {
        assert!(report.contains(part), "{part:?} missing from:\n{report}");
    }
    // The pages are timed as a logged-in operator sees them, each answered 200.
    let pages = report.lines().find(|l| l.starts_with("pages over those")).unwrap_or_else(|| panic!("{report}"));
    for page in ["/ui", "/ui/qua-han", "/ui/so-theo-doi", "/ui/hang-doi"] {
        assert!(pages.contains(&format!(" {page} median ")), "{page} missing from {pages}");
    }
    assert_eq!(pages.matches("(200);").count(), 4, "{pages}");
}

#[test]
fn mixed_intake_reports_the_outbox_while_the_local_desk_takes_delivery() {
    let report = bench(&["--scenario", "mixed", "--no-ceiling", "--rate", "50"]);
    assert_eq!(errors_of(&report, "gateway (durable intake)"), "0", "{report}");
    assert!(report.contains("dispatch during intake: outbox depth"), "{report}");
}

#[test]
fn the_dispatch_scenario_delivers_its_whole_backlog() {
    let report = bench(&["--scenario", "dispatch", "--count", "200"]);
    assert!(report.contains("| dossiers delivered | 200 |"), "{report}");
}
