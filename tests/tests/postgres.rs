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

fn migrate(from: &str, to: &str) -> (bool, String) {
    let out = std::process::Command::new(binary()).args(["migrate", "--from", from, "--to", to]).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sled_store_moves_into_postgres_and_back_without_losing_a_dossier() {
    let cluster = Cluster::start();
    let mut gw = Gateway::start(TestConfig::sample());
    let mut codes = Vec::new();
    for i in 0..5 {
        codes.push(gw.submit_portal(&format!("MOVE-{i}"), "04606").await);
    }
    gw.stop();
    let data = gw.data_dir();
    let (ok, said) = migrate(&format!("sled:{}", data.display()), &format!("postgres:{}", cluster.url()));
    assert!(ok, "{said}");
    let (again, refused) = migrate(&format!("sled:{}", data.display()), &format!("postgres:{}", cluster.url()));
    assert!(!again && refused.contains("migrate into an empty store"), "{refused}");

    // The same data directory (its blobs and certificate), now on PostgreSQL.
    let on_postgres = TestConfig::sample().set("store.backend", "postgres").set("store.url", cluster.url());
    gw.rewrite_config(on_postgres);
    gw.relaunch();
    for code in &codes {
        assert_eq!(gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.0, 200, "{code}");
    }
    gw.stop();

    // And back into an empty sled directory.
    let back = tempfile::tempdir().unwrap();
    let (ok, said) = migrate(&format!("postgres:{}", cluster.url()), &format!("sled:{}", back.path().display()));
    assert!(ok, "{said}");
    let copied: usize = said.split_whitespace().next().unwrap().parse().unwrap();
    assert!(copied > 5 * 3, "dossiers with their indexes, jobs and counters: {said}");
}
