//! The operators' kit in `deploy/` against the real binary and Debian's `promtool`: the
//! alert rules load and pass their unit tests; the `/metrics` output of a gateway with the
//! portal's pull, VNPost and online payment configured passes `promtool check metrics`;
//! every metric the rules and the Grafana dashboard read is one the gateway exports; and
//! that real output, replayed in promtool's harness for half an hour with the gateway's
//! clocks running, fires only what its situation calls for (an empty waybill pool under
//! its low-water mark), and the stalled-round alert for both feeds once their rounds stop.

use std::{collections::BTreeSet, path::Path, process::Command};

use motcua_simulators::{
    dvcqg::{DvcqgSim, Setup as PortalSetup},
    paygov::{PaygovSim, Setup as PaySetup},
    vnpost::{Setup as PostSetup, VnpostSim},
};
use motcua_tests::{
    Gateway, TestConfig,
    config::{dvcqg_env, payment_env, vnpost_env},
    eventually, repo,
};

const PROMTOOL: &str = "promtool";

fn promtool(args: &[&str], dir: &Path, stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(PROMTOOL)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (tests/run installs Debian's prometheus package)");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("promtool reads");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("promtool ends");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// An OpenMetrics exposition in the Prometheus text format: a counter family `x` is
/// described as `x_total`, the name of its samples; `# EOF` and `# UNIT` go.
fn as_text_format(exposition: &str) -> String {
    let counters: BTreeSet<String> =
        families(exposition).into_iter().filter(|(_, t)| t == "counter").map(|(f, _)| f).collect();
    let mut out = String::new();
    for line in exposition.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(name).then(|| format!("{tag}{name}_total {tail}"))
        });
        out += renamed.as_deref().unwrap_or(line);
        out.push('\n');
    }
    out
}

/// The metric families of an exposition, from its `# TYPE` lines, with their type.
fn families(exposition: &str) -> Vec<(String, String)> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' ').map(|(n, t)| (n.to_owned(), t.to_owned())))
        .collect()
}

/// The families the gateway registers, `motcua_` and the name given to the registry.
fn registered() -> BTreeSet<String> {
    let source = std::fs::read_to_string(repo().join("gateway/src/metrics.rs")).expect("the metrics module");
    source
        .split("registry.register(")
        .skip(1)
        .filter_map(|call| call.trim_start().strip_prefix('"')?.split('"').next().map(|n| format!("motcua_{n}")))
        .collect()
}

/// Every `motcua_…` name in `text`.
fn names_read(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("motcua_") {
        let start = at + found;
        let end = start
            + text[start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len() - start);
        // `motcua_` inside a longer word (a job name, a file) is not a metric.
        if start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            out.insert(text[start..end].to_owned());
        }
        at = end;
    }
    out
}

/// Whether the series `name` belongs to one of `families` (counters end in `_total`,
/// histograms' series in `_bucket`, `_sum`, `_count`).
fn exported(name: &str, families: &[(String, String)]) -> bool {
    families.iter().any(|(family, kind)| match kind.as_str() {
        "counter" => name == format!("{family}_total"),
        "histogram" => ["_bucket", "_sum", "_count"].iter().any(|s| name == format!("{family}{s}")),
        _ => name == family,
    })
}

/// The samples of an exposition: series (name and labels) and value.
fn samples(exposition: &str) -> Vec<(String, String, f64)> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            Some((name.to_owned(), labels.to_owned(), value))
        })
        .collect()
}

/// A promtool unit-test file replaying `exposition` from `now` for 40 minutes: gauges that
/// hold a time (seconds since the epoch) are shifted so that the test's zero is `now`,
/// the rounds' last success is that zero, advancing with the clock when `rounds_run`.
fn replay(exposition: &str, now: i64, rounds_run: bool, expected: &str) -> String {
    let clocks = [
        "motcua_peer_round_ok_seconds",
        "motcua_tls_certificate_not_after_seconds",
        "motcua_audit_checkpoint_end_seconds",
    ];
    let mut series = String::from("      - series: 'up{job=\"motcua\", instance=\"gw\"}'\n        values: '1x40'\n");
    for (name, labels, value) in samples(exposition) {
        let labels = if labels.is_empty() { String::new() } else { format!("{labels},") };
        let values = if clocks.contains(&name.as_str()) {
            match (name.as_str(), rounds_run) {
                // A round succeeded just before the scrape: its time is the test's zero.
                ("motcua_peer_round_ok_seconds", true) => "0+60x40".to_owned(),
                ("motcua_peer_round_ok_seconds", false) => "0x40".to_owned(),
                _ => format!("{}x40", value - now as f64),
            }
        } else {
            format!("{value}x40")
        };
        series += &format!(
            "      - series: '{name}{{{labels}job=\"motcua\", instance=\"gw\"}}'\n        values: '{values}'\n",
            labels = labels.replace('\'', "''")
        );
    }
    format!(
        "rule_files:\n  - {rules}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{series}    alert_rule_test:\n{expected}",
        rules = repo().join("deploy/prometheus/motcua.rules.yml").display()
    )
}

/// `alert_rule_test` entries at 30 minutes: every alert of the rules quiet but those given.
fn expect_only(rules: &str, firing: &[(&str, &str)]) -> String {
    let alerts: BTreeSet<&str> = rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
    let mut out = String::new();
    for alert in alerts {
        let fired: Vec<&str> = firing.iter().filter(|(a, _)| *a == alert).map(|(_, e)| *e).collect();
        out += &format!("      - eval_time: 30m\n        alertname: {alert}\n        exp_alerts:");
        if fired.is_empty() {
            out += " []\n";
        } else {
            out += "\n";
            for e in fired {
                out += e;
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_alert_rules_and_the_dashboard_read_what_the_real_gateway_exports() {
    let deploy = repo().join("deploy/prometheus");
    let (ok, out) = promtool(&["check", "rules", "motcua.rules.yml"], &deploy, None);
    assert!(ok, "promtool check rules: {out}");
    let (ok, out) = promtool(&["test", "rules", "motcua.rules.test.yml"], &deploy, None);
    assert!(ok, "promtool test rules: {out}");

    let portal = DvcqgSim::start(PortalSetup::default()).await.expect("the portal starts");
    let post = VnpostSim::start(PostSetup::default()).await.expect("VNPost starts");
    let pay = PaygovSim::start(PaySetup::default()).await.expect("the platform starts");
    let config = TestConfig::fast_retries()
        .all_day()
        .unthrottled()
        .dvcqg(&portal.url(), Some(1))
        .vnpost(&post.url())
        .payment(&pay.url());
    let mut env = dvcqg_env();
    env.extend(vnpost_env());
    env.extend(payment_env());
    let gw = Gateway::start_with_env(config, env);
    gw.submit_portal("KIT-1", "04606").await;

    let scrape =
        || async { reqwest::get(gw.admin_url("/metrics")).await.expect("metrics").text().await.expect("text") };
    let exposition = eventually(20, "both feeds' rounds and the pool's gauges in the metrics", || async {
        let text = scrape().await;
        let ready = ["source=\"dvcqg_pull\"", "source=\"vnpost_tracking\""]
            .iter()
            .all(|s| text.lines().any(|l| l.starts_with("motcua_peer_round_ok_seconds{") && l.contains(s)))
            && text.lines().any(|l| l.starts_with("motcua_waybills_low_water 5"));
        ready.then_some(text)
    })
    .await;
    let now = jiff::Timestamp::now().as_second();
    assert!(exposition.trim_end().ends_with("# EOF"), "OpenMetrics text, whole");

    // promtool lints the Prometheus text format: the same exposition as Prometheus reads
    // it, counters' metadata named as their samples and without the end marker.
    let (ok, out) = promtool(&["check", "metrics"], &deploy, Some(&as_text_format(&exposition)));
    assert!(ok, "promtool check metrics on the real output:\n{out}");

    // Families with labels appear once something is counted: what the gateway registers
    // is read from its metrics module, and each one the real output shows has its type.
    let families = families(&exposition);
    let registered = registered();
    for (family, _) in &families {
        assert!(registered.contains(family), "{family} is exported but not registered in gateway/src/metrics.rs");
    }
    for gauge in [
        "motcua_waybills_free",
        "motcua_peer_round_ok_seconds",
        "motcua_payments_open",
        "motcua_tls_certificate_not_after_seconds",
    ] {
        assert!(families.iter().any(|(f, t)| f == gauge && t == "gauge"), "{gauge} is in the real output");
    }
    let rules = std::fs::read_to_string(deploy.join("motcua.rules.yml")).expect("the rules");
    let dashboard = std::fs::read_to_string(repo().join("deploy/grafana/motcua.json")).expect("the dashboard");
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 10), "a dashboard of panels");
    let known = |name: &str| {
        exported(name, &families)
            || ["_total", "_bucket", "_sum", "_count", ""].iter().any(|s| {
                name.strip_suffix(s)
                    .is_some_and(|base| registered.contains(base) && !families.iter().any(|(f, _)| f == base))
            })
    };
    for (what, text) in [("the alert rules", &rules), ("the dashboard", &dashboard)] {
        let unknown: Vec<String> = names_read(text).into_iter().filter(|n| !known(n)).collect();
        assert!(unknown.is_empty(), "{what} read series the gateway does not export: {unknown:?}");
    }
    // Every family the gateway registers is on the dashboard.
    let shown = names_read(&dashboard);
    let missing: Vec<&String> = registered
        .iter()
        .filter(|family| {
            !shown.iter().any(|n| {
                n == *family
                    || n.strip_prefix(family.as_str())
                        .is_some_and(|s| ["_total", "_bucket", "_sum", "_count"].contains(&s))
            })
        })
        .collect();
    assert!(missing.is_empty(), "registered but not on the dashboard: {missing:?}");

    // The real output, rounds running: only the empty pool (0 free, low water 5) alerts.
    let pool_low = "          - exp_labels: { severity: warning }\n            exp_annotations:\n              \
        summary: \"Only 0 free waybill codes left\"\n              description: \"Import a new batch of codes \
        from VNPost (POST /v1/admin/waybills) before the pool runs out and postal orders stop.\"\n";
    let dir = gw.dir().join("promtool");
    std::fs::create_dir_all(&dir).expect("a directory");
    let healthy = replay(&exposition, now, true, &expect_only(&rules, &[("MotcuaWaybillPoolLow", pool_low)]));
    std::fs::write(dir.join("healthy.test.yml"), &healthy).expect("written");
    let (ok, out) = promtool(&["test", "rules", "healthy.test.yml"], &dir, None);
    assert!(ok, "the real output, rounds running:\n{out}");

    // The same output with both feeds' rounds stopped: both stalled after 15 minutes.
    let stalled_of = |source: &str| {
        format!(
            "          - exp_labels: {{ severity: warning, source: {source} }}\n            exp_annotations:\n              \
            summary: \"No successful {source} round for 30m 0s\"\n              description: \"The national portal's pull \
            (dvcqg_pull) or VNPost's tracking feed (vnpost_tracking) has failed for ten rounds: new dossiers or parcels' \
            progress are not coming in. The gateway's log names the cause.\"\n"
        )
    };
    let (pull, feed) = (stalled_of("dvcqg_pull"), stalled_of("vnpost_tracking"));
    let firing =
        [("MotcuaWaybillPoolLow", pool_low), ("MotcuaPeerRoundStalled", &pull), ("MotcuaPeerRoundStalled", &feed)];
    let stalled = replay(&exposition, now, false, &expect_only(&rules, &firing));
    std::fs::write(dir.join("stalled.test.yml"), &stalled).expect("written");
    let (ok, out) = promtool(&["test", "rules", "stalled.test.yml"], &dir, None);
    assert!(ok, "the real output, rounds stopped:\n{out}");
}
