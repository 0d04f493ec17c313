//! Crash safety of intake: clients submit concurrently, the gateway is killed with
//! SIGKILL mid-load, and the store — opened directly while the gateway is down —
//! holds every dossier that was answered 201, exactly once, with its delivery job,
//! and no code was issued twice. After a restart the same dossiers are served.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use motcua_gateway::{
    dossiers::DossierRecord,
    outbox::Job,
    store::{Key, Prefix, SledBackend, backend, decode, keys},
};
use motcua_tests::{Gateway, TestConfig, samples::portal, tokens::token};
use reqwest::StatusCode;
use serde_json::Value;

const CLIENTS: usize = 8;

fn entries(db: &SledBackend, prefix: &Prefix) -> Vec<(Key, Vec<u8>)> {
    backend::scan_prefix(db, prefix.full()).map(|item| item.unwrap()).map(|(k, v)| (Key::from_full(k), v)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_dossier_survives_sigkill_exactly_once() {
    let mut gw = Gateway::start(TestConfig::sample());
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (http, url, acknowledged, stop) =
            (gw.http.clone(), gw.url("/v1/portal/dossiers"), acknowledged.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let bearer = token("portal-dev");
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let id = format!("DVC-CRASH-{client}-{n}");
                let Ok(response) = http.post(&url).bearer_auth(&bearer).json(&portal(&id)).send().await else {
                    continue;
                };
                if response.status() == StatusCode::CREATED
                    && let Ok(body) = response.json::<Value>().await
                {
                    acknowledged.lock().unwrap().push((id, body["code"].as_str().unwrap().to_owned()));
                }
            }
        }));
    }
    // Let the load run, then kill the gateway while requests are in flight.
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gw.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let codes: HashSet<&str> = acknowledged.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(codes.len(), acknowledged.len(), "no dossier code was issued twice");

    {
        let db = gw.open_store();
        let dossiers: HashMap<String, DossierRecord> = entries(&db, &keys::dossiers())
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k.within().to_vec()).unwrap(), decode(&k, &v).unwrap()))
            .collect();
        let jobs: Vec<Job> = entries(&db, &keys::jobs()).into_iter().map(|(k, v)| decode(&k, &v).unwrap()).collect();
        let mut jobs_per_dossier: HashMap<String, usize> = HashMap::new();
        for job in &jobs {
            *jobs_per_dossier.entry(job.dossier.to_string()).or_default() += 1;
        }
        let by_ref: HashMap<&str, usize> = dossiers.values().fold(HashMap::new(), |mut m, r| {
            *m.entry(r.dossier.external_ref.as_str()).or_default() += 1;
            m
        });
        for (id, code) in &acknowledged {
            let record = dossiers.get(code).unwrap_or_else(|| panic!("acknowledged dossier {code} ({id}) is missing"));
            assert_eq!(&record.dossier.external_ref, id);
            assert_eq!(by_ref[id.as_str()], 1, "{id} is stored exactly once");
            assert_eq!(jobs_per_dossier.get(code), Some(&1), "{code} has its delivery job");
        }
        // Whatever was stored but not acknowledged is still whole: one job each.
        for code in dossiers.keys() {
            assert_eq!(jobs_per_dossier.get(code), Some(&1), "{code} has its delivery job");
        }
        assert_eq!(by_ref.values().copied().max(), Some(1), "no submission is stored twice");
    }

    gw.restart();
    let (id, code) = &acknowledged[acknowledged.len() / 2];
    let stored: Value = gw
        .http
        .get(gw.url(&format!("/v1/dossiers/{code}")))
        .bearer_auth(token("admin-dev"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["external_ref"], id.as_str());
    let repeat = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(token("portal-dev"))
        .json(&portal(id))
        .send()
        .await
        .unwrap();
    assert_eq!(repeat.status(), StatusCode::OK, "a retry after the crash finds its dossier");
    assert_eq!(repeat.json::<Value>().await.unwrap()["code"], code.as_str());
    let fresh: Value = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(token("portal-dev"))
        .json(&portal("DVC-CRASH-AFTER"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!codes.contains(fresh["code"].as_str().unwrap()), "codes continue after the restart without reuse");
}
