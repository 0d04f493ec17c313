//! `motcua demo` runs the whole flow and exits 0 when every dossier ended where it
//! should.

use std::process::Command;

use motcua_tests::{gateway::tools_binary as binary, repo};

#[test]
fn the_demo_shows_every_dossier_ending_where_it_should() {
    let started = std::time::Instant::now();
    let out =
        Command::new(binary()).args(["demo", "--config"]).arg(repo().join("config/gateway.toml")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every dossier ended where it should"), "{stdout}");
    for line in [
        "postal return order created",
        "the clock stood still",
        "Mẫu 04 apology issued",
        "overdue: notices",
        "pushed by the national portal",
        "pulled from the national portal",
        "0 of its rules broken",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    assert!(started.elapsed().as_secs() < 60, "the demo took {:?}", started.elapsed());
}

#[test]
fn the_gateway_a_province_runs_has_no_demo_and_no_bench() {
    for command in ["demo", "bench", "bench-ceiling"] {
        let out = Command::new(motcua_tests::gateway::binary()).arg(command).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command}: {stderr}");
        assert!(stderr.contains("unrecognized subcommand"), "{command}: {stderr}");
    }
}
