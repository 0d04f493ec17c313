//! A model-based test of the store and the outbox: random sequences of enqueue,
//! lease, acknowledge, outcome (delivered, retry, dead), replay, the clock moving on,
//! and reopening the store, each run against the real store and against a naive model
//! in memory, and compared after every step: every job in exactly one of outbox or
//! dead letters with the same attempts and times, each destination's jobs in id
//! order, an acknowledged job gone, ids increasing across reopen, and a dossier's
//! second job never leased while its first is held. It runs against both backends:
//! sled, and PostgreSQL in a throwaway cluster. Failing seeds are kept in
//! `store_model.proptest-regressions` beside this file and run first every time.

// A test's helpers say "this cannot fail here" the way its test functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use motcua_schemas::DossierCode;
use motcua_simulators::postgres as support;
use motcua_store::StoreSection;
use motcua_store::outbox::{self, DeadLetter, DeliveryOutcome, Destination, InboxItem, Job, JobKind};
use motcua_store::{Store, StoreError, StoreMetrics, keys};
use proptest::prelude::*;

const DESKS: [&str; 2] = ["mc-a", "mc-b"];
const MAX_ATTEMPTS: u32 = 3;
const VISIBILITY: i64 = 10;

#[derive(Debug, Clone)]
enum Op {
    Enqueue { desk: usize, dossier: usize },
    Lease { desk: usize, max: usize },
    Ack { desk: usize, dossier: usize },
    Outcome { pick: usize, what: u8 },
    Replay { pick: usize },
    Advance { secs: i64 },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..3usize).prop_map(|(desk, dossier)| Op::Enqueue { desk, dossier }),
        3 => (0..2usize, 1..4usize).prop_map(|(desk, max)| Op::Lease { desk, max }),
        2 => (0..2usize, 0..3usize).prop_map(|(desk, dossier)| Op::Ack { desk, dossier }),
        3 => (0..8usize, 0..3u8).prop_map(|(pick, what)| Op::Outcome { pick, what }),
        1 => (0..4usize).prop_map(|pick| Op::Replay { pick }),
        2 => (1..15i64).prop_map(|secs| Op::Advance { secs }),
        1 => Just(Op::Reopen),
    ]
}

/// What the model keeps of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    desk: usize,
    dossier: usize,
    attempts: u32,
    not_before: Timestamp,
    leased_until: Option<Timestamp>,
}

#[derive(Default)]
struct Model {
    outbox: BTreeMap<u64, Kept>,
    dead: BTreeMap<u64, Kept>,
    acked: BTreeSet<(usize, usize)>,
    last_id: u64,
}

fn code(dossier: usize) -> DossierCode {
    format!("000.07.20.H38-261125-{:04}", dossier + 1).parse().unwrap()
}

fn kept(job: &Job) -> Kept {
    let Destination::Desk(desk) = &job.destination else { panic!("a desk job") };
    let desk = DESKS.iter().position(|d| d == desk).unwrap();
    let dossier = job.dossier.as_str()[job.dossier.as_str().len() - 4..].parse::<usize>().unwrap() - 1;
    Kept { desk, dossier, attempts: job.attempts, not_before: job.not_before, leased_until: job.leased_until }
}

/// The backend a run uses: sled, or PostgreSQL at this connection string.
#[derive(Clone)]
enum Under {
    Sled,
    Postgres(String),
}

fn open(dir: &std::path::Path, under: &Under) -> Store {
    let mut section = StoreSection::default();
    if let Under::Postgres(url) = under {
        section.backend = motcua_store::StoreBackend::Postgres;
        section.url = Some(url.clone());
    }
    Store::open(dir, &section, StoreMetrics::default(), Vec::new()).unwrap()
}

/// Empties the PostgreSQL database between runs (outside the async runtime: the
/// blocking client runs one of its own).
fn reset(url: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client.batch_execute("DROP TABLE IF EXISTS motcua_kv, motcua_dossiers, motcua_schema").unwrap();
}

async fn write<R: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&mut motcua_store::Tx<'_>) -> Result<R, StoreError> + Send + 'static,
) -> R {
    // Every command names the job sequence as a key it reads: on PostgreSQL the writer
    // fetches it before the batch runs, and a stale value would repeat a job's id.
    store.write_reading(vec![keys::job_seq()], f).await.unwrap().unwrap()
}

/// The store's outbox and dead letters, as the model keeps them.
fn observed(store: &Store) -> (BTreeMap<u64, Kept>, BTreeMap<u64, Kept>) {
    let mut queued = BTreeMap::new();
    for desk in DESKS {
        let mut last = 0;
        for (key, value) in store.scan_prefix(&Destination::Desk(desk.into()).prefix()).map(Result::unwrap) {
            let job: Job = motcua_store::decode(&key, &value).unwrap();
            assert!(job.id > last, "a destination's jobs are in id order");
            last = job.id;
            assert!(queued.insert(job.id, kept(&job)).is_none(), "a job queued twice");
        }
    }
    let mut dead = BTreeMap::new();
    for (key, value) in store.scan_prefix(&keys::dead_letters()).map(Result::unwrap) {
        let letter: DeadLetter = motcua_store::decode(&key, &value).unwrap();
        assert!(!queued.contains_key(&letter.job.id), "job {} both queued and dead", letter.job.id);
        dead.insert(letter.job.id, kept(&letter.job));
    }
    (queued, dead)
}

async fn run(ops: Vec<Op>, under: Under) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), &under);
    let mut model = Model::default();
    let mut now = Timestamp::from_second(1_790_000_000).unwrap();
    for op in ops {
        match op {
            Op::Enqueue { desk, dossier } => {
                let job = write(&store, move |tx| {
                    outbox::enqueue(tx, Destination::Desk(DESKS[desk].into()), JobKind::Deliver, &code(dossier), now)
                })
                .await;
                assert!(job.id > model.last_id, "ids only increase, across reopen too");
                model.last_id = job.id;
                let kept = Kept { desk, dossier, attempts: 0, not_before: now, leased_until: None };
                model.outbox.insert(job.id, kept);
            }
            Op::Lease { desk, max } => {
                let visibility = SignedDuration::from_secs(VISIBILITY);
                let leased = write(&store, move |tx| outbox::lease_inbox(tx, DESKS[desk], max, now, visibility)).await;
                let mut held = BTreeSet::new();
                let mut expected = Vec::new();
                for (id, job) in model.outbox.iter_mut().filter(|(_, j)| j.desk == desk) {
                    if expected.len() == max {
                        break;
                    }
                    let leased_now = job.leased_until.is_some_and(|t| t > now);
                    if leased_now || held.contains(&job.dossier) || job.not_before > now {
                        held.insert(job.dossier);
                        continue;
                    }
                    job.leased_until = Some(now + visibility);
                    job.attempts += 1;
                    held.insert(job.dossier);
                    expected.push(*id);
                }
                let got: Vec<u64> = leased.iter().map(|j| j.id).collect();
                assert_eq!(got, expected, "leased at {now}");
                let mut leased_dossiers = BTreeSet::new();
                for (_, job) in model.outbox.iter().filter(|(_, j)| j.desk == desk) {
                    if job.leased_until.is_some_and(|t| t > now) {
                        assert!(leased_dossiers.insert(job.dossier), "two jobs of one dossier held at once");
                    }
                }
            }
            Op::Ack { desk, dossier } => {
                let item = code(dossier).to_string();
                let got = write(&store, move |tx| outbox::acknowledge(tx, DESKS[desk], &item)).await;
                let first =
                    model.outbox.iter().find(|(_, j)| j.desk == desk && j.dossier == dossier).map(|(id, _)| *id);
                match (got, first) {
                    (InboxItem::Acknowledged(job), Some(id)) => {
                        assert_eq!(job.id, id);
                        model.outbox.remove(&id);
                        model.acked.insert((desk, dossier));
                    }
                    (InboxItem::AlreadyAcknowledged, None) => assert!(model.acked.contains(&(desk, dossier))),
                    (InboxItem::Unknown, None) => assert!(!model.acked.contains(&(desk, dossier))),
                    (got, first) => panic!("acknowledged {got:?}, the model expected job {first:?}"),
                }
            }
            Op::Outcome { pick, what } => {
                let Some((&id, job)) = model.outbox.iter().nth(pick % model.outbox.len().max(1)) else { continue };
                let key = outbox::key(&Destination::Desk(DESKS[job.desk].into()), id);
                let not_before = now + SignedDuration::from_secs(5);
                let outcome = match what {
                    0 => DeliveryOutcome::Delivered,
                    1 => DeliveryOutcome::Retry { error: "later".into(), not_before },
                    _ => DeliveryOutcome::Dead { error: "never".into() },
                };
                let before =
                    write(&store, move |tx| outbox::record_outcome(tx, &key, outcome, now, MAX_ATTEMPTS)).await;
                assert_eq!(before.map(|j| j.id), Some(id));
                let mut job = model.outbox.remove(&id).unwrap();
                job.attempts += 1;
                match what {
                    0 => {}
                    1 if job.attempts < MAX_ATTEMPTS => {
                        job.not_before = not_before;
                        model.outbox.insert(id, job);
                    }
                    _ => {
                        job.leased_until = None;
                        model.dead.insert(id, job);
                    }
                }
            }
            Op::Replay { pick } => {
                let Some((&id, _)) = model.dead.iter().nth(pick % model.dead.len().max(1)) else { continue };
                let replayed = write(&store, move |tx| outbox::replay(tx, id, now)).await;
                let new_id = replayed.map(|j| j.id).expect("the dead letter is replayed");
                assert!(new_id > model.last_id, "a replayed job goes to the tail under a new id");
                model.last_id = new_id;
                let mut job = model.dead.remove(&id).unwrap();
                job.attempts = 0;
                job.not_before = now;
                job.leased_until = None;
                model.outbox.insert(new_id, job);
            }
            Op::Advance { secs } => now += SignedDuration::from_secs(secs),
            Op::Reopen => {
                store.close().await;
                drop(store);
                store = open(dir.path(), &under);
            }
        }
        let (queued, dead) = observed(&store);
        assert_eq!(queued, model.outbox, "the outbox");
        assert_eq!(dead, model.dead, "the dead letters");
    }
    store.close().await;
}

fn block_on(run: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run);
}

/// The two runs take turns: starting PostgreSQL forks processes, and a fork made while
/// the sled run reopens its store would hold sled's lock file for a moment.
static TURNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_store_and_the_outbox_follow_the_model_on_sled(ops in proptest::collection::vec(op(), 1..40)) {
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        block_on(run(ops, Under::Sled));
    }
}

/// The same model on PostgreSQL, in a cluster of its own that stops with the test.
#[test]
fn the_store_and_the_outbox_follow_the_model_on_postgres() {
    let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    let cluster = support::Cluster::start();
    let url = cluster.url();
    let config = ProptestConfig { cases: 24, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        reset(&url);
        block_on(run(ops, Under::Postgres(url.clone())));
        Ok(())
    });
    drop(cluster);
    if let Err(e) = result {
        panic!("{e}");
    }
}
