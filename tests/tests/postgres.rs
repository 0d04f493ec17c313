//! The real binary on PostgreSQL (one node): dossiers taken in are on the database
//! before they are acknowledged and survive a SIGKILL; a second node on the same
//! database is refused until the store can be shared (docs/STORAGE.md).

use motcua_simulators::postgres::Cluster;
use motcua_tests::{Gateway, TestConfig, gateway::binary};

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_keeps_its_dossiers_in_postgres_across_a_kill() {
    let cluster = Cluster::start();
    let config = TestConfig::sample().set("store.backend", "postgres").set("store.url", cluster.url());
    let mut gw = Gateway::start(config.clone());
    let mut codes = Vec::new();
    for i in 0..20 {
        codes.push(gw.submit_portal(&format!("PG-{i}"), "04606").await);
    }
    gw.kill();
    gw.relaunch();
    for code in &codes {
        let (status, dossier) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        assert_eq!((status, dossier["code"].as_str()), (200, Some(code.as_str())));
    }
    let (_, inbox) = gw.get_json("/v1/desk/inbox?max=50", "mc-tram-tau-dev").await;
    assert_eq!(inbox["items"].as_array().map(Vec::len), Some(20), "every dossier queued for its desk");

    // A second node on the same database is refused while the first holds it.
    let dir = tempfile::tempdir().unwrap();
    let second = config.set("gateway.data_dir", dir.path().join("data").display().to_string());
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, second.render()).unwrap();
    let out = std::process::Command::new(binary()).args(["serve", "--config"]).arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another running gateway"), "{err}");
    drop(gw);
    drop(cluster);
}
