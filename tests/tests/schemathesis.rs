//! schemathesis against the OpenAPI document the gateway serves, with the token of
//! each role and without one: no undocumented status, content type or header, no
//! answer outside its schema, no 500 (`.ci/schemathesis.sh` does the work).

use std::process::Command;

use motcua_tests::{gateway::binary, repo};

#[test]
fn schemathesis_finds_nothing_for_any_role() {
    let out = Command::new("bash")
        .arg(repo().join(".ci/schemathesis.sh"))
        .env("MOTCUA_BIN", binary())
        .output()
        .expect("bash runs the schemathesis script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("6 runs, nothing found"), "{stdout}");
}
