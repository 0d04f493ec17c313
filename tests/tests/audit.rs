//! The sealed history against the real binary, on sled and on PostgreSQL: dossiers
//! and desk events sealed, checkpoints signed every two seconds and published to a
//! directory; `motcua audit verify` passes on the store and on a backup, then names
//! one changed history entry, one removed entry and one replaced checkpoint, and sees
//! that the store's checkpoints no longer match the published ones.

use std::process::Command;

use motcua_gateway::{dossiers::DossierRecord, store};
use motcua_simulators::postgres::Cluster;
use motcua_tests::{Gateway, TestConfig, eventually, gateway::binary, tokens::token};
use serde_json::{Value, json};

/// Checkpoints every 2 s, made 1 s after their period ends, published to `published`.
fn config(published: &std::path::Path) -> TestConfig {
    TestConfig::sample()
        .set("audit.period_secs", 2)
        .set("audit.settle_secs", 1)
        .set("audit.publish_dir", published.display().to_string())
}

async fn event(gw: &Gateway, code: &str, id: &str, kind: &str) {
    let body = json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() });
    let (status, answer) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), "mc-yen-bai-dev", &body).await;
    assert_eq!(status, 200, "{kind}: {answer}");
}

/// Three dossiers with a few desk events each; returns their codes once every link
/// is in a signed checkpoint.
async fn sealed_dossiers(gw: &Gateway) -> Vec<String> {
    let mut codes = Vec::new();
    for i in 0..3 {
        let code = gw.submit_portal(&format!("AUDIT-{i}"), "04252").await;
        event(gw, &code, &format!("{i}-r"), "received").await;
        event(gw, &code, &format!("{i}-p"), "processing").await;
        codes.push(code);
    }
    // The supplement request issues a form (Mẫu 02): a sealed document link.
    let body = json!({ "event_id": "0-s", "type": "supplement_requested", "at": jiff::Timestamp::now().to_string(),
                       "items": ["Bản sao giấy khai sinh"] });
    let (status, answer) =
        gw.post_json(&format!("/v1/desk/dossiers/{}/events", codes[0]), "mc-yen-bai-dev", &body).await;
    assert_eq!(status, 200, "{answer}");
    let last = jiff::Timestamp::now().as_second();
    eventually(20, "a checkpoint closing the last event", || async {
        (gw.metric("motcua_audit_checkpoint_end_seconds").await as i64 > last + 1).then_some(())
    })
    .await;
    codes
}

fn verify(args: &[&str]) -> (bool, String) {
    let out = Command::new(binary()).arg("audit").arg("verify").args(args).output().expect("motcua runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Direct access to a stopped gateway's store, as someone with write access to its
/// files or database would have.
trait Backdoor {
    fn get(&mut self, key: &[u8]) -> Vec<u8>;
    fn put(&mut self, key: &[u8], value: Vec<u8>);
}

struct SledDoor(store::SledBackend);

impl Backdoor for SledDoor {
    fn get(&mut self, key: &[u8]) -> Vec<u8> {
        store::Reads::get(&self.0, key).unwrap().expect("the key is stored")
    }
    fn put(&mut self, key: &[u8], value: Vec<u8>) {
        store::Backend::commit(&self.0, &store::Overlay::from([(key.to_vec(), Some(value))]), &[]).unwrap();
    }
}

struct PostgresDoor(String);

impl PostgresDoor {
    /// The synchronous client runs a runtime of its own: on a thread of its own.
    fn with<R: Send>(&self, f: impl FnOnce(&mut postgres::Client) -> R + Send) -> R {
        std::thread::scope(|s| {
            s.spawn(|| f(&mut postgres::Client::connect(&self.0, postgres::NoTls).unwrap())).join().unwrap()
        })
    }
}

impl Backdoor for PostgresDoor {
    fn get(&mut self, key: &[u8]) -> Vec<u8> {
        self.with(|c| c.query_one("SELECT v FROM motcua_kv WHERE k = $1", &[&key]).expect("the key is stored").get(0))
    }
    fn put(&mut self, key: &[u8], value: Vec<u8>) {
        let updated = self.with(|c| c.execute("UPDATE motcua_kv SET v = $2 WHERE k = $1", &[&key, &value]).unwrap());
        assert_eq!(updated, 1);
    }
}

fn edit_record(door: &mut dyn Backdoor, code: &str, edit: impl FnOnce(&mut Value)) {
    let key = store::keys::dossier(code);
    let record: DossierRecord = store::decode(&key, &door.get(key.full())).unwrap();
    let mut value = serde_json::to_value(&record).unwrap();
    edit(&mut value);
    let record: DossierRecord = serde_json::from_value(value).unwrap();
    door.put(key.full(), store::encode_compressed(&record).unwrap());
}

/// Replaces the first checkpoint holding links with one of another root, signed by a
/// key that is not the gateway's.
fn replace_checkpoint(door: &mut dyn Backdoor, published: &std::path::Path) -> String {
    let first = std::fs::read_dir(published)
        .unwrap()
        .flatten()
        .map(|e| serde_json::from_slice::<Value>(&std::fs::read(e.path()).unwrap()).unwrap())
        .filter(|c| c["links"].as_u64().unwrap() > 0)
        .min_by_key(|c| c["start"].as_i64().unwrap())
        .expect("a checkpoint with links");
    let start = first["start"].as_i64().unwrap();
    let key = store::keys::checkpoint(start);
    let mut forged: Value = serde_json::from_slice(&door.get(key.full())).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    use ring::signature::KeyPair;
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    forged["root"] = hex(&[7u8; 32]).into();
    forged["key"] = hex(pair.public_key().as_ref()).into();
    let signed = format!(
        "motcua-checkpoint-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        forged["start"],
        forged["end"],
        forged["links"],
        forged["dossiers"],
        forged["root"].as_str().unwrap(),
        forged["prev"].as_str().unwrap(),
        forged["key"].as_str().unwrap()
    );
    forged["signature"] = hex(pair.sign(signed.as_bytes()).as_ref()).into();
    door.put(key.full(), serde_json::to_vec(&forged).unwrap());
    jiff::Timestamp::from_second(start).unwrap().to_string()
}

async fn seal_alter_and_verify(
    config: TestConfig,
    published: &std::path::Path,
    door: impl Fn(&Gateway) -> Box<dyn Backdoor>,
) {
    let mut gw = Gateway::start(config);
    let codes = sealed_dossiers(&gw).await;
    let snapshot = gw.dir().join("before.snapshot");
    let out = Command::new(binary())
        .args(["backup", "--to", &snapshot.display().to_string()])
        .arg("--config")
        .arg(gw.config_path())
        .arg("--url")
        .arg(gw.url(""))
        .arg("--cacert")
        .arg(gw.data_dir().join("tls/dev-ca.pem"))
        .env("MOTCUA_TOKEN", token("admin-dev"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    gw.stop();
    let config_arg = gw.config_path().display().to_string();
    let published_arg = published.display().to_string();

    let (ok, said) = verify(&["--config", &config_arg, "--published", &published_arg]);
    assert!(ok, "an unaltered store passes: {said}");
    assert!(said.contains("the sealed history matches its checkpoints"), "{said}");
    assert!(said.contains("3 dossiers (0 written before sealing)"), "{said}");
    let public = Command::new(binary()).args(["audit", "key", "--config", &config_arg]).output().unwrap();
    let public = String::from_utf8_lossy(&public.stdout).trim().to_owned();
    let (ok, said) = verify(&[
        "--store",
        &format!("snapshot:{}", snapshot.display()),
        "--public-key",
        &public,
        "--config",
        "/nonexistent",
    ]);
    assert!(ok, "its backup passes with the public key alone: {said}");

    let mut backdoor = door(&gw);
    let received = |r: &Value| r["dossier"]["history"].as_array().unwrap().iter().position(|h| h["type"] == "received");
    // One entry changed: the second dossier's "received" given another time.
    let mut changed_seq = 0;
    edit_record(backdoor.as_mut(), &codes[1], |r| {
        let i = received(r).unwrap();
        changed_seq = i + 1;
        r["dossier"]["history"][i]["at"] = "2026-01-01T01:00:00Z".into();
    });
    // One entry removed: the third dossier's "received".
    let mut removed_seq = 0;
    edit_record(backdoor.as_mut(), &codes[2], |r| {
        let i = received(r).unwrap();
        removed_seq = i + 1;
        r["dossier"]["history"].as_array_mut().unwrap().remove(i);
    });
    drop(backdoor);
    let (ok, said) = verify(&["--config", &config_arg]);
    assert!(!ok, "{said}");
    let line = |code: &str| said.lines().find(|l| l.contains(code)).unwrap_or_default().to_owned();
    let changed = line(&codes[1]);
    assert!(changed.contains(&format!("history entry {changed_seq}: was changed after it was sealed")), "{said}");
    let removed = line(&codes[2]);
    assert!(removed.contains(&format!("history entry {removed_seq}: was removed")), "{said}");
    assert!(!said.contains(&codes[0]), "the untouched dossier matches: {said}");
    assert!(
        said.contains("links of this period were changed, added or removed"),
        "the period's root no longer matches: {said}"
    );

    // One period's checkpoint replaced with one signed by another key.
    let start = replace_checkpoint(door(&gw).as_mut(), published);
    let (ok, said) = verify(&["--config", &config_arg, "--published", &published_arg]);
    assert!(!ok, "{said}");
    assert!(said.contains(&format!("NOT MATCHING  {start}  checkpoint: differs from the one published")), "{said}");
    assert!(said.contains(&format!("{start}  checkpoint: its signature is not by the gateway's key")), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_altered_sled_store_fails_audit_verify_at_the_altered_entries() {
    let published = tempfile::tempdir().unwrap();
    seal_alter_and_verify(config(published.path()), published.path(), |gw| Box::new(SledDoor(gw.open_store()))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_altered_postgres_store_fails_audit_verify_at_the_altered_entries() {
    let cluster = Cluster::start();
    let published = tempfile::tempdir().unwrap();
    let config = config(published.path()).set("store.backend", "postgres").set("store.url", cluster.url());
    let url = cluster.url();
    seal_alter_and_verify(config, published.path(), |_| Box::new(PostgresDoor(url.clone()))).await;
    drop(cluster);
}
