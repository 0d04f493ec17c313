//! Operations against the real binary: metrics, configuration reload on SIGHUP, JSON
//! logs, the admin CLI, backup and restore, and every answer of a whole flow checked
//! against `schemas/openapi.yaml`.

use std::{process::Command, sync::Arc, time::Duration};

use axum::{http::StatusCode, response::IntoResponse};
use motcua_tests::{
    Gateway, TestConfig, eventually,
    gateway::binary,
    openapi::check_json,
    peers::{Peer, Received, postal_service},
    tokens::{claims, dev_client, sign, token},
};
use serde_json::{Value, json};

fn cli(gw: &Gateway, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .arg("--config")
        .arg(gw.config_path())
        .arg("--url")
        .arg(gw.url(""))
        .arg("--cacert")
        .arg(gw.data_dir().join("tls/dev-ca.pem"))
        .env("MOTCUA_TOKEN", token("admin-dev"))
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_served_to_scrapers_and_admins() {
    let gw = Gateway::start(TestConfig::sample().client(
        "portal-dev",
        "rate",
        toml::Value::Table(toml::toml! { per_second = 1
        burst = 1 }),
    ));
    gw.submit_portal("DVC-METRICS-1", "04606").await;
    let _ = gw.get_json("/v1/dossiers/000.07.20.H38-261126-9999", "portal-dev").await; // over the limit
    let scraped = reqwest::get(gw.admin_url("/metrics")).await.unwrap();
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = scraped.text().await.unwrap();
    for expected in [
        "motcua_http_requests_total{route=\"/v1/portal/dossiers\",method=\"POST\",status=\"201\"} 1",
        "motcua_http_request_duration_seconds_bucket{",
        "motcua_intake_dossiers_total{channel=\"portal\",outcome=\"created\"} 1",
        "motcua_store_commits_total",
        "motcua_store_commit_batch_size_bucket",
        "motcua_store_sync_duration_seconds_bucket",
        "motcua_outbox_depth{destination=\"desk:mc-tram-tau\"} 1",
        "motcua_outbox_oldest_age_seconds{destination=\"desk:mc-tram-tau\"}",
        "motcua_open_overdue_dossiers 0",
        "motcua_rate_limited_requests_total{client=\"portal-dev\"} 1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    // On the main listener, metrics need an admin token.
    assert_eq!(gw.http.get(gw.url("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(gw.http.get(gw.url("/metrics")).bearer_auth(token("admin-dev")).send().await.unwrap().status(), 200);
    let (ready, _) = (reqwest::get(gw.admin_url("/readyz")).await.unwrap().status(), ());
    assert_eq!(ready, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_a_valid_configuration_and_refuses_a_broken_one() {
    let mut gw = Gateway::start(TestConfig::sample());
    let old = token("admin-dev");
    assert_eq!(gw.get_json("/v1/admin/queue", "admin-dev").await.0, 200);

    // A broken configuration is refused with its reasons; the running one stays.
    let broken = TestConfig::sample().desk("mc-yen-bai", "agency_code", "not-a-code");
    gw.rewrite_config(broken);
    gw.signal(libc::SIGHUP);
    eventually(10, "the refusal in the log", || async { gw.logs().contains("configuration refused").then_some(()) })
        .await;
    assert!(gw.logs().contains("desks[1].agency_code"), "the reasons are logged");
    assert_eq!(gw.http.get(gw.url("/v1/admin/queue")).bearer_auth(&old).send().await.unwrap().status(), 200);

    // The admin's key is rotated: the configuration now trusts another key, so a token
    // of the old key — even one verified before — is refused from now on.
    let rotated = TestConfig::sample().client(
        "admin-dev",
        "key_file",
        motcua_tests::repo().join("config/dev/mc-yen-bai-dev.pub.pem").display().to_string(),
    );
    gw.rewrite_config(rotated);
    gw.signal(libc::SIGHUP);
    eventually(10, "the reload", || async { gw.logs().contains("configuration reloaded").then_some(()) }).await;
    let refused = gw.http.get(gw.url("/v1/admin/queue")).bearer_auth(&old).send().await.unwrap();
    assert_eq!(refused.status(), 401, "a token of a rotated-out key is refused");
    let mut new_key = dev_client("mc-yen-bai-dev");
    let admin = dev_client("admin-dev");
    new_key.issuer = admin.issuer.clone();
    let mut c = claims(&admin);
    c["sub"] = "admin-dev".into();
    assert_eq!(
        gw.http.get(gw.url("/v1/admin/queue")).bearer_auth(sign(&new_key, &c)).send().await.unwrap().status(),
        200
    );
    assert!(gw.running());
    gw.stop();
}

/// A reload applies what it may and keeps, saying so, what only a restart changes:
/// the log names the key, `check-config` on the same file says RESTART NEEDED, and
/// the running listener still accepts as it started.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_keeps_and_names_what_only_a_restart_changes() {
    let gw = Gateway::start(TestConfig::sample());
    assert_eq!(gw.get_json("/v1/admin/queue", "postal-dev").await.0, 403);

    // One connection per address from now on (restart-only), and the postal partner's
    // client removed (applied at once).
    let changed = TestConfig::sample().set("limits.max_connections_per_ip", 1).edit(|t| {
        let clients = t.get_mut("clients").and_then(|c| c.as_array_mut()).unwrap();
        clients.retain(|c| c.get("id").and_then(|i| i.as_str()) != Some("postal-dev"));
    });
    gw.rewrite_config(changed);
    gw.signal(libc::SIGHUP);
    eventually(10, "the reload", || async { gw.logs().contains("configuration reloaded").then_some(()) }).await;
    assert!(
        gw.logs().contains("limits (connections and their timeouts) changes only with a restart"),
        "the kept setting is named: {}",
        gw.logs()
    );
    assert_eq!(gw.get_json("/v1/admin/queue", "postal-dev").await.0, 401, "the reloadable part is applied");

    // Two clients, two connections from 127.0.0.1 at once: the running limit is the old one.
    let (first, second) = (gw.client_builder().build().unwrap(), gw.client_builder().build().unwrap());
    let ask = |c: &reqwest::Client| c.get(gw.url("/healthz")).send();
    let (a, b) = tokio::join!(ask(&first), ask(&second));
    assert_eq!((a.unwrap().status().as_u16(), b.unwrap().status().as_u16()), (200, 200));
    let (a, b) = tokio::join!(ask(&first), ask(&second));
    assert_eq!((a.unwrap().status().as_u16(), b.unwrap().status().as_u16()), (200, 200));

    let check = Command::new(binary()).arg("check-config").arg(gw.config_path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{stderr}");
    assert!(stderr.contains("RESTART NEEDED: limits (connections and their timeouts) differs"), "{stderr}");
    assert!(!stderr.contains("RESTART NEEDED: gateway.listen"), "only what differs is named: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_can_be_json_lines_with_one_line_per_request() {
    let mut gw = Gateway::start(TestConfig::sample());
    gw.stop();
    // Restart the same gateway with JSON logs.
    let out = Command::new(binary()).args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--log-format"));
    let child = Command::new(binary())
        .args(["serve", "--log-format", "json", "--config"])
        .arg(gw.config_path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(lines.iter().any(|l| l["message"].as_str().is_some_and(|m| m.contains("shutting down"))), "{stderr}");
    // The start-up lines too, and the warnings about development keys among them.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let announced: Vec<Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(announced.iter().any(|l| l["message"] == "ready"), "{stdout}");
    assert!(lines.iter().any(|l| l["warning"].as_str().is_some_and(|w| w.contains("published development key"))));
    // Logs written to a file carry no colour codes.
    assert!(!gw.logs().contains('\u{1b}'), "no ANSI escapes in a log file");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_cli_shows_queues_dead_letters_and_overdue_dossiers() {
    let desk = Peer::answering(StatusCode::BAD_REQUEST).await;
    let gw = Gateway::start(TestConfig::fast_retries().desk("mc-yen-bai", "url", desk.url()));
    let code = gw.submit_portal("DVC-CLI-1", "04252").await;
    gw.submit_portal("DVC-CLI-2", "04606").await;
    eventually(10, "a dead letter", || async {
        let (_, d) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
        (d["dead_letters"].as_array().is_some_and(|l| !l.is_empty())).then_some(())
    })
    .await;

    let (ok, table, err) = cli(&gw, &["admin", "queue"]);
    assert!(ok, "{err}");
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("DESTINATION") && header.contains("DEPTH") && header.contains("DEAD"), "{table}");
    let pull = table.lines().find(|l| l.starts_with("desk:mc-tram-tau")).unwrap();
    assert_eq!(pull.find("pull"), header.find("MODE"), "columns are aligned:\n{table}");

    let (ok, letters, _) = cli(&gw, &["admin", "dead-letters", "--json"]);
    assert!(ok);
    let letters: Value = serde_json::from_str(&letters).unwrap();
    let id = letters["dead_letters"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(letters["dead_letters"][0]["job"]["dossier"], code.as_str());
    let (_, table, _) = cli(&gw, &["admin", "dead-letters"]);
    assert!(table.contains(&id) && table.contains("HTTP 400"), "{table}");
    // The log says why the delivery failed, without the desk's own words.
    assert!(
        gw.logs().lines().any(|l| l.contains("delivery attempt failed") && l.contains("cause=HTTP 400")),
        "{}",
        gw.logs()
    );

    desk.script(Arc::new(|_: &[Received]| StatusCode::CREATED.into_response()));
    let (ok, replayed, err) = cli(&gw, &["admin", "dead-letters", "--replay", &id]);
    assert!(ok, "{err}");
    assert!(replayed.contains(&id) && replayed.contains("desk:mc-yen-bai"), "names its destination: {replayed}");
    eventually(10, "the replay delivered", || async { (desk.received().len() >= 2).then_some(()) }).await;

    let (ok, dossiers, _) = cli(&gw, &["admin", "dossiers", "--overdue", "--json"]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&dossiers).unwrap()["dossiers"], json!([]));
    let (ok, dossiers, _) = cli(&gw, &["admin", "dossiers", "--status", "1"]);
    assert!(ok && dossiers.lines().count() == 3, "{dossiers}");
    // Pages: one dossier a page, with a pointer to the next.
    let (ok, first, _) = cli(&gw, &["admin", "dossiers", "--status", "1", "--limit", "1"]);
    let next = first.lines().last().unwrap().rsplit(' ').next().unwrap().to_owned();
    assert!(ok && first.contains("more dossiers follow: run again with --after"), "{first}");
    let (ok, second, _) = cli(&gw, &["admin", "dossiers", "--status", "1", "--limit", "1", "--after", &next]);
    assert!(ok && !second.contains(&next) && second.lines().count() == 2, "{second}");
    // An unknown unit is an error, said once.
    let (ok, _, err) = cli(&gw, &["admin", "dossiers", "--unit", "99999"]);
    assert!(!ok && err.contains("no such unit"), "{err}");
    assert_eq!(err.lines().filter(|l| l.contains("no such unit")).count(), 1, "{err}");
    let (ok, _, err) = Command::new(binary())
        .args(["admin", "queue", "--url", &gw.url(""), "--token", "x", "--cacert"])
        .arg(gw.data_dir().join("tls/dev-ca.pem"))
        .arg("--config")
        .arg(gw.config_path())
        .output()
        .map(|o| (o.status.success(), (), String::from_utf8_lossy(&o.stderr).into_owned()))
        .unwrap();
    assert!(!ok && err.contains("401"), "a bad token fails clearly: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restored_store_serves_the_same_dossiers_and_resumes_its_outbox() {
    let mut gw = Gateway::start(TestConfig::fast_retries());
    // Desk mc-yen-bai is down (nothing listens on its sample URL): jobs stay queued.
    let mut codes = Vec::new();
    for i in 0..3 {
        codes.push(gw.submit_portal(&format!("DVC-BACKUP-{i}"), "04252").await);
    }
    let mut body = motcua_tests::samples::portal("DVC-BACKUP-INLINE");
    body["TaiLieuNop"][0] = json!({"TenTepDinhKem": "don.txt", "NoiDung": "aGVsbG8="});
    body["MaDonViNhan"] = "04252".into();
    let (status, inline) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201);
    codes.push(inline["code"].as_str().unwrap().to_owned());
    let snapshot = gw.dir().join("snapshot.bin");
    let (ok, out, err) = cli(&gw, &["backup", "--to", snapshot.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("1 blobs"), "{out}");
    // Readable by the gateway's user only; never overwritten; --json answers in JSON.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&snapshot).unwrap().permissions().mode() & 0o777, 0o600);
    let (ok, _, err) = cli(&gw, &["backup", "--to", snapshot.to_str().unwrap()]);
    assert!(!ok && err.contains("exists already"), "{err}");
    assert_eq!(err.matches("exists already").count(), 1, "the error is printed once: {err}");
    let second = gw.dir().join("snapshot-2.bin");
    let (ok, out, err) = cli(&gw, &["backup", "--json", "--to", second.to_str().unwrap()]);
    assert!(ok, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(summary["blobs"], 1, "{summary}");
    let mut before = Vec::new();
    for code in &codes {
        before.push(gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await.1);
    }

    // A new data directory rebuilt from the snapshot, and the desk now up.
    gw.kill();
    for dir in ["store", "blobs"] {
        std::fs::remove_dir_all(gw.data_dir().join(dir)).unwrap();
    }
    let restore = || {
        Command::new(binary()).args(["restore", "--from"]).arg(&snapshot).arg("--data-dir").arg(gw.data_dir()).output()
    };
    let out = restore().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = restore().unwrap();
    assert!(!again.status.success(), "restoring over a store is refused");
    let desk = Peer::answering(StatusCode::CREATED).await;
    gw.rewrite_config(TestConfig::fast_retries().desk("mc-yen-bai", "url", desk.url()));
    gw.restart();
    for (code, was) in codes.iter().zip(&before) {
        let (_, now) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
        assert_eq!(now["code"], was["code"]);
        assert_eq!(now["applicant"], was["applicant"]);
        assert_eq!(now["documents"], was["documents"]);
    }
    eventually(20, "the restored outbox delivered", || async {
        let keys: std::collections::BTreeSet<String> =
            desk.received().iter().filter_map(|r| r.header("idempotency-key")).collect();
        codes.iter().all(|c| keys.contains(c)).then_some(())
    })
    .await;
    // A damaged snapshot is refused.
    let mut damaged = std::fs::read(&snapshot).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    std::fs::write(&snapshot, damaged).unwrap();
    let out = Command::new(binary())
        .args(["restore", "--from"])
        .arg(&snapshot)
        .arg("--data-dir")
        .arg(gw.dir().join("elsewhere"))
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("checksum"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_of_a_whole_flow_matches_the_openapi_document() {
    let (desk, portal, post) = (
        Peer::answering(StatusCode::CREATED).await,
        Peer::answering(StatusCode::OK).await,
        Peer::start(postal_service()).await,
    );
    let gw = Gateway::start(TestConfig::fast_retries().peers(
        Some(&portal.url()),
        Some(&post.url()),
        &[("mc-yen-bai", &desk.url())],
    ));
    let served = gw.http.get(gw.url("/openapi.yaml")).send().await.unwrap().text().await.unwrap();
    assert_eq!(served, motcua_gateway::http::openapi::document());
    // Self-contained: every reference points into the document itself, and resolves.
    let doc: Value = serde_yaml_ng::from_str(&served).unwrap();
    let mut pending = vec![&doc];
    while let Some(node) = pending.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {reference}"));
                    assert!(doc.pointer(pointer).is_some(), "{reference} does not resolve");
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }

    let (status, created) =
        gw.post_json("/v1/portal/dossiers", "portal-dev", &motcua_tests::samples::portal("DVC-OAS-1")).await;
    check_json("/v1/portal/dossiers", "post", status, &created);
    let (status, repeated) =
        gw.post_json("/v1/portal/dossiers", "portal-dev", &motcua_tests::samples::portal("DVC-OAS-1")).await;
    check_json("/v1/portal/dossiers", "post", status, &repeated);
    let mut bad = motcua_tests::samples::portal("DVC-OAS-2");
    bad["MucDo"] = 7.into();
    let (status, invalid) = gw.post_json("/v1/portal/dossiers", "portal-dev", &bad).await;
    check_json("/v1/portal/dossiers", "post", status, &invalid);
    let code = created["code"].as_str().unwrap().to_owned();
    let path = format!("/v1/dossiers/{code}");
    let (status, dossier) = gw.get_json(&path, "admin-dev").await;
    check_json("/v1/dossiers/{code}", "get", status, &dossier);
    let (status, missing) = gw.get_json(&path, "mc-yen-bai-dev").await;
    check_json("/v1/dossiers/{code}", "get", status, &missing);
    let unauthorized: Value = gw.http.get(gw.url(&path)).send().await.unwrap().json().await.unwrap();
    check_json("/v1/dossiers/{code}", "get", 401, &unauthorized);

    let (status, inbox) = gw.get_json("/v1/desk/inbox?max=5", "mc-tram-tau-dev").await;
    check_json("/v1/desk/inbox", "get", status, &inbox);
    let (status, ack) = gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), "mc-tram-tau-dev", &json!({})).await;
    check_json("/v1/desk/inbox/{item}/ack", "post", status, &ack);
    let event = |id: &str, kind: &str| json!({"event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string()});
    let events_path = format!("/v1/desk/dossiers/{code}/events");
    let (status, received) = gw.post_json(&events_path, "mc-tram-tau-dev", &event("o1", "received")).await;
    check_json("/v1/desk/dossiers/{code}/events", "post", status, &received);
    let (status, refused) = gw.post_json(&events_path, "mc-tram-tau-dev", &event("o2", "returned_at_desk")).await;
    check_json("/v1/desk/dossiers/{code}/events", "post", status, &refused);
    let mut ready = event("o3", "result_ready");
    ready["result_documents"] = json!([{ "name": "Giấy khai sinh" }]);
    let (status, ready) = gw.post_json(&events_path, "mc-tram-tau-dev", &ready).await;
    check_json("/v1/desk/dossiers/{code}/events", "post", status, &ready);

    let (status, rating) =
        gw.post_json(&format!("/v1/portal/dossiers/{code}/rating"), "portal-dev", &json!({"level": 3})).await;
    check_json("/v1/portal/dossiers/{code}/rating", "post", status, &rating);
    let lookup = gw.http.get(gw.url(&format!("/v1/public/lookup?code={code}&id_last4=1234"))).send().await.unwrap();
    check_json("/v1/public/lookup", "get", lookup.status().as_u16(), &lookup.json().await.unwrap());
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    let (status, stats) = gw.get_json(&format!("/v1/stats?unit=15&from={today}&to={today}"), "admin-dev").await;
    check_json("/v1/stats", "get", status, &stats);
    // The province's figures with one part per commune that has any: the dossier of
    // Xã Trạm Tấu, resolved on time, is in the province's total and in its own part.
    let part = stats["children"].as_array().unwrap().iter().find(|p| p["unit"] == "04606").cloned();
    let part = part.unwrap_or_else(|| panic!("a part for Xã Trạm Tấu: {stats}"));
    assert_eq!((part["name"].as_str(), part["resolved"].as_u64()), (Some("Xã Trạm Tấu"), Some(1)), "{stats}");
    let received: u64 = stats["children"].as_array().unwrap().iter().filter_map(|p| p["received"].as_u64()).sum();
    assert_eq!(Some(received), stats["received"].as_u64(), "the parts add up to the whole");
    let (status, listed) = gw.get_json("/v1/admin/dossiers?status=9", "admin-dev").await;
    check_json("/v1/admin/dossiers", "get", status, &listed);
    let (status, queue) = gw.get_json("/v1/admin/queue", "admin-dev").await;
    check_json("/v1/admin/queue", "get", status, &queue);
    let (status, dead) = gw.get_json("/v1/admin/dead-letters", "admin-dev").await;
    check_json("/v1/admin/dead-letters", "get", status, &dead);
    let (status, forbidden) = gw.get_json("/v1/admin/queue", "portal-dev").await;
    check_json("/v1/admin/queue", "get", status, &forbidden);
    let health: Value = gw.http.get(gw.url("/healthz")).send().await.unwrap().json().await.unwrap();
    check_json("/healthz", "get", 200, &health);
    let ready: Value = gw.http.get(gw.url("/readyz")).send().await.unwrap().json().await.unwrap();
    check_json("/readyz", "get", 200, &ready);
    let jwks: Value = gw.http.get(gw.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    check_json("/.well-known/jwks.json", "get", 200, &jwks);

    // What the gateway sent its peers matches the webhooks it documents.
    eventually(10, "the portal's status calls", || async { (!portal.received().is_empty()).then_some(()) }).await;
    let status_call = portal.received()[0].json();
    motcua_tests::openapi::check_schema("PortalStatus", &status_call);
    let _ = post;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_gateway_on_the_same_data_directory_says_so() {
    let gw = Gateway::start(TestConfig::sample());
    let out = Command::new(binary()).args(["serve", "--config"]).arg(gw.config_path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("in use by another running gateway"), "{stderr}");
    assert_eq!(stderr.matches("in use by another").count(), 1, "said once: {stderr}");
}
