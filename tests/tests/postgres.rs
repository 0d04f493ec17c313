//! The real binary on PostgreSQL: dossiers taken in are on the database before they
//! are acknowledged and survive a SIGKILL; two nodes share one database (codes issued
//! once and in sequence, each dossier delivered once, a deadline mark fired once, one
//! node killed under load while the other goes on); a primary with a synchronous
//! standby is killed under load and the nodes find the promoted standby on their own
//! (docs/STORAGE.md).

use std::{collections::BTreeSet, time::Duration};

use axum::http::StatusCode;
use futures_util::future::join_all;
use motcua_simulators::postgres::Cluster;
use motcua_tests::{Gateway, TestConfig, eventually, gateway::binary, peers::Peer};

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

    drop(gw);
    drop(cluster);
}

/// The sample on a shared database, with fast retries and no rate limit.
fn shared(url: &str) -> TestConfig {
    TestConfig::fast_retries().unthrottled().set("store.backend", "postgres").set("store.url", url)
}

/// Submits a portal dossier for Xã Yên Bái (04252, a push desk); the code when the
/// gateway acknowledged it.
async fn submit(gw: &Gateway, id: String) -> Option<String> {
    let mut body = motcua_tests::samples::portal(&id);
    body["MaDonViNhan"] = "04252".into();
    let response = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(motcua_tests::tokens::token("portal-dev"))
        .json(&body)
        .send()
        .await
        .ok()?;
    if response.status() != 201 {
        return None;
    }
    let created: serde_json::Value = response.json().await.ok()?;
    created["code"].as_str().map(str::to_owned)
}

/// The dossier codes a desk peer took, one per delivery.
fn delivered(desk: &Peer) -> Vec<String> {
    desk.received()
        .iter()
        .filter(|r| r.uri.path() == "/v1/dossiers")
        .filter_map(|r| r.json()["code"].as_str().map(str::to_owned))
        .collect()
}

/// The day's number of a dossier code (`…-YYMMDD-NNNN`).
fn number(code: &str) -> u32 {
    code.rsplit('-').next().and_then(|n| n.parse().ok()).expect("a numbered code")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_on_one_database_issue_each_code_once_and_deliver_each_dossier_once() {
    let cluster = Cluster::start();
    let (desk, portal) = (Peer::answering(StatusCode::CREATED).await, Peer::answering(StatusCode::OK).await);
    let config = shared(&cluster.url()).peers(Some(&portal.url()), None, &[("mc-yen-bai", &desk.url())]);
    let (a, b) = (Gateway::start(config.clone()), Gateway::start(config));

    // Sixty dossiers at once, half through each node.
    let nodes = [&a, &b];
    let codes: Vec<String> = join_all((0..60).map(|i| submit(nodes[i % 2], format!("TWO-{i}"))))
        .await
        .into_iter()
        .map(|code| code.expect("both nodes take dossiers"))
        .collect();
    let numbers: BTreeSet<u32> = codes.iter().map(|c| number(c)).collect();
    assert_eq!(numbers, (1..=60).collect(), "one agency's codes of the day: each once, none skipped: {codes:?}");
    eventually(30, "every dossier at its desk", || async { (delivered(&desk).len() >= 60).then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut at_desk = delivered(&desk);
    at_desk.sort();
    let mut expected = codes.clone();
    expected.sort();
    assert_eq!(at_desk, expected, "each dossier delivered once, by one node");

    // The same submission through either node is one dossier.
    let mut again = motcua_tests::samples::portal("TWO-0");
    again["MaDonViNhan"] = "04252".into();
    let (status, created) = b.post_json("/v1/portal/dossiers", "portal-dev", &again).await;
    let first = codes.first().expect("a first code");
    assert_eq!((status, created["code"].as_str()), (200, Some(first.as_str())), "taken by node a, repeated to b");

    // A pull desk's lease taken through one node holds on the other.
    let pulled = a.submit_portal("TWO-PULL", "04606").await;
    let (_, leased) = b.get_json("/v1/desk/inbox?max=10", "mc-tram-tau-dev").await;
    let items = leased["items"].as_array().cloned().unwrap_or_default();
    assert!(items.iter().any(|i| i["code"] == pulled.as_str()), "{leased}");
    let (_, other) = a.get_json("/v1/desk/inbox?max=10", "mc-tram-tau-dev").await;
    assert_eq!(other["items"].as_array().map(Vec::len), Some(0), "leased through b, so not handed out by a: {other}");

    // One node SIGKILLed under load; the other goes on and delivers what was acknowledged.
    let load = join_all((0..80).map(|i| submit(nodes[i % 2], format!("KILL-{i}"))));
    let kill = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.signal(libc::SIGKILL);
    };
    let (acknowledged, ()) = tokio::join!(load, kill);
    let acknowledged: Vec<String> = acknowledged.into_iter().flatten().collect();
    assert!(acknowledged.len() >= 40, "the surviving node took its share: {}", acknowledged.len());
    for code in &acknowledged {
        let (status, _) = b.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        assert_eq!(status, 200, "{code} was acknowledged, so it is on the database");
    }
    eventually(30, "every acknowledged dossier delivered", || async {
        let at_desk: BTreeSet<String> = delivered(&desk).into_iter().collect();
        acknowledged.iter().all(|c| at_desk.contains(c)).then_some(())
    })
    .await;
    drop((a, b));
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deadline_mark_fires_once_with_two_nodes() {
    let cluster = Cluster::start();
    let (desk, portal) = (Peer::answering(StatusCode::CREATED).await, Peer::answering(StatusCode::OK).await);
    let config = shared(&cluster.url())
        .all_day()
        .edit(|t| {
            let procedure: toml::Table = toml::from_str(
                "code = \"1.999001\"\nname = \"Thủ tục thử nghiệm thời hạn\"\nlevels = [\"xa\"]\nprocessing = \"4s\"",
            )
            .unwrap();
            t["procedures"].as_array_mut().unwrap().push(toml::Value::Table(procedure));
        })
        .peers(Some(&portal.url()), None, &[("mc-yen-bai", &desk.url())]);
    let (a, b) = (Gateway::start(config.clone()), Gateway::start(config));
    let mut codes = Vec::new();
    for (i, gw) in [&a, &b, &a, &b].into_iter().enumerate() {
        let mut body = motcua_tests::samples::portal(&format!("MARK-{i}"));
        body["MaTTHC"] = "1.999001".into();
        body["MaDonViNhan"] = "04252".into();
        let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
        assert_eq!(status, 201, "{created}");
        codes.push(created["code"].as_str().unwrap().to_owned());
    }
    let overdue = || -> Vec<String> {
        desk.received()
            .iter()
            .filter(|r| r.uri.path() == "/v1/notices")
            .map(|r| r.json())
            .filter(|n| n["kind"] == "overdue")
            .filter_map(|n| n["code"].as_str().map(str::to_owned))
            .collect()
    };
    eventually(20, "every overdue notice", || async { (overdue().len() >= codes.len()).then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut fired = overdue();
    fired.sort();
    codes.sort();
    assert_eq!(fired, codes, "each dossier's overdue mark fired once in the cluster");
    drop((a, b));
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_primary_fails_over_to_its_synchronous_standby_without_losing_an_acknowledged_dossier() {
    let (primary, standby) = Cluster::start_replicated();
    let (desk, portal) = (Peer::answering(StatusCode::CREATED).await, Peer::answering(StatusCode::OK).await);
    let url = Cluster::failover_url(&primary, &standby);
    let config = shared(&url).peers(Some(&portal.url()), None, &[("mc-yen-bai", &desk.url())]);
    let (a, b) = (Gateway::start(config.clone()), Gateway::start(config));
    let nodes = [&a, &b];

    // Load through both nodes while the primary is SIGKILLed and the standby promoted.
    let load = async {
        let mut acknowledged = Vec::new();
        for round in 0..40 {
            let batch = join_all((0..4).map(|i| submit(nodes[i % 2], format!("FAIL-{round}-{i}")))).await;
            acknowledged.extend(batch.into_iter().flatten());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        acknowledged
    };
    let fail_over = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        primary.kill();
        // While no primary takes writes, no node says it is ready.
        eventually(10, "every node unready without a primary", || async {
            let mut unready = 0;
            for gw in nodes {
                let ready = gw.http.get(gw.url("/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                unready += usize::from(ready == 503);
            }
            (unready == 2).then_some(())
        })
        .await;
        standby.promote();
    };
    let (acknowledged, ()) = tokio::join!(load, fail_over);
    assert!(acknowledged.len() >= 40, "dossiers were taken before and after the failover: {}", acknowledged.len());

    // The nodes found the new primary on their own.
    for gw in nodes {
        eventually(20, "the node ready on the new primary", || async {
            let ready = gw.http.get(gw.url("/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            (ready == 200).then_some(())
        })
        .await;
    }
    assert!(submit(&b, "FAIL-AFTER".into()).await.is_some(), "a node takes dossiers again after the failover");
    // Every acknowledged dossier is on the new primary, as a queryable row.
    let rows = tokio::task::spawn_blocking({
        let (url, codes) = (standby.url(), acknowledged.clone());
        move || {
            let mut client = postgres_client(&url);
            client
                .query_one("SELECT count(*) FROM motcua_dossiers WHERE code = ANY($1)", &[&codes])
                .map(|row| row.get::<_, i64>(0))
                .expect("the new primary answers")
        }
    })
    .await
    .unwrap();
    assert_eq!(usize::try_from(rows).unwrap(), acknowledged.len(), "every acknowledged dossier survived the failover");
    drop((a, b));
    drop((primary, standby));
}

fn postgres_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("the database accepts")
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
