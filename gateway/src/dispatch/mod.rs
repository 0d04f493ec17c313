//! The dispatcher: one task that drains the outbox (DESIGN §1, §3).
//!
//! It keeps a mirror of the outbox in memory — rebuilt from the store at start, kept
//! current by the store's commit notes — and for every push destination hands due
//! jobs to delivery tasks, at most the destination's concurrency at once. Only the
//! oldest queued job of a dossier is eligible at a destination, so one dossier's jobs
//! arrive in order; each destination has its own limit and every call its own
//! timeout, so a stuck desk holds up nobody else. Pull destinations are mirrored for
//! statistics only: their desks lease jobs themselves. A delivery in flight when the
//! process dies is just a queued job at the next start.

mod deliver;
pub mod outbound;
mod retry;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
    time::Duration,
};

use jiff::Timestamp;
use motcua_schemas::DossierCode;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};

use crate::app::App;
use crate::config::file::DeskMode;
use crate::outbox::{Destination, Job};
use crate::store::{CommitNote, Space, Store};
use deliver::Completion;
pub use outbound::Outbound;
pub use retry::backoff;

#[derive(Debug, Clone)]
struct Entry {
    key: Vec<u8>,
    dossier: DossierCode,
    created_at: Timestamp,
    not_before: Timestamp,
    attempts: u32,
    leased_until: Option<Timestamp>,
    last_error: Option<String>,
    in_flight: bool,
    in_heads: bool,
}

/// One destination's queued jobs.
#[derive(Debug, Default)]
struct Queue {
    push: bool,
    jobs: BTreeMap<u64, Entry>,
    chains: HashMap<DossierCode, BTreeSet<u64>>,
    /// Eligible jobs (the oldest of their dossier, not in flight) by due time.
    heads: BTreeSet<(Timestamp, u64)>,
    in_flight: usize,
}

impl Queue {
    fn refresh_chain(&mut self, dossier: &DossierCode) {
        let Some(chain) = self.chains.get(dossier) else { return };
        let first = chain.first().copied();
        for id in chain.iter().copied().collect::<Vec<_>>() {
            let Some(entry) = self.jobs.get_mut(&id) else { continue };
            let eligible = Some(id) == first && !entry.in_flight;
            if entry.in_heads && !eligible {
                self.heads.remove(&(entry.not_before, id));
                entry.in_heads = false;
            } else if eligible && !entry.in_heads {
                self.heads.insert((entry.not_before, id));
                entry.in_heads = true;
            }
        }
    }

    fn upsert(&mut self, job: &Job, key: Vec<u8>) {
        if let Some(old) = self.jobs.get_mut(&job.id) {
            if old.in_heads {
                self.heads.remove(&(old.not_before, job.id));
                old.in_heads = false;
            }
            old.not_before = job.not_before;
            old.attempts = job.attempts;
            old.leased_until = job.leased_until;
            old.last_error = job.last_error.clone();
        } else {
            self.jobs.insert(
                job.id,
                Entry {
                    key,
                    dossier: job.dossier.clone(),
                    created_at: job.created_at,
                    not_before: job.not_before,
                    attempts: job.attempts,
                    leased_until: job.leased_until,
                    last_error: job.last_error.clone(),
                    in_flight: false,
                    in_heads: false,
                },
            );
            self.chains.entry(job.dossier.clone()).or_default().insert(job.id);
        }
        self.refresh_chain(&job.dossier);
    }

    fn remove(&mut self, id: u64) {
        let Some(entry) = self.jobs.remove(&id) else { return };
        if entry.in_heads {
            self.heads.remove(&(entry.not_before, id));
        }
        if entry.in_flight {
            self.in_flight -= 1;
        }
        if let Some(chain) = self.chains.get_mut(&entry.dossier) {
            chain.remove(&id);
            if chain.is_empty() {
                self.chains.remove(&entry.dossier);
            }
        }
        self.refresh_chain(&entry.dossier);
    }
}

/// One destination in the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationStats {
    /// `desk:<id>`, `portal` or `postal`.
    pub destination: String,
    /// `push` or `pull`.
    pub mode: &'static str,
    /// Jobs queued.
    pub depth: usize,
    /// Age of the oldest queued job, in seconds.
    pub oldest_age_seconds: i64,
    /// Jobs being delivered now (push) or leased by the desk (pull).
    pub in_flight: usize,
    /// Attempts made on the queued jobs.
    pub attempts: u64,
    /// Dead letters.
    pub dead: usize,
    /// The oldest queued jobs, with their attempts and last error.
    pub oldest: Vec<JobStats>,
}

/// One queued job in the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct JobStats {
    /// Job id.
    pub id: u64,
    /// Its dossier.
    pub dossier: DossierCode,
    /// Attempts so far.
    pub attempts: u32,
    /// Next try.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub not_before: Timestamp,
    /// Last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

enum Query {
    Stats(oneshot::Sender<Vec<DestinationStats>>),
}

/// A handle to ask the dispatcher about its queues.
#[derive(Clone)]
pub struct DispatchHandle {
    queries: mpsc::Sender<Query>,
}

impl DispatchHandle {
    /// A handle to no dispatcher (it reports no queues).
    pub fn detached() -> DispatchHandle {
        let (queries, _) = mpsc::channel(1);
        DispatchHandle { queries }
    }

    /// Depth, oldest age, in flight and attempts per destination: push destinations
    /// from the dispatcher's mirror, pull desks and dead letters from the store.
    pub async fn stats(&self, app: &App) -> Vec<DestinationStats> {
        let store = &app.store;
        let (tx, rx) = oneshot::channel();
        let mut stats =
            if self.queries.send(Query::Stats(tx)).await.is_ok() { rx.await.unwrap_or_default() } else { Vec::new() };
        let now = app.clock.now();
        for desk in app.settings().network.desks().filter(|d| d.mode == DeskMode::Pull) {
            stats.push(pull_stats(store, &Destination::Desk(desk.id.clone()), now));
        }
        let mut dead: HashMap<String, usize> = HashMap::new();
        for (_, value) in store.scan_prefix(Space::Dead, b"").flatten() {
            if let Ok(letter) = serde_json::from_slice::<crate::outbox::DeadLetter>(&value) {
                *dead.entry(letter.job.destination.name()).or_default() += 1;
            }
        }
        for s in &mut stats {
            s.dead = dead.remove(&s.destination).unwrap_or(0);
        }
        for (destination, count) in dead {
            stats.push(DestinationStats {
                destination,
                mode: "push",
                depth: 0,
                oldest_age_seconds: 0,
                in_flight: 0,
                attempts: 0,
                dead: count,
                oldest: Vec::new(),
            });
        }
        stats.sort_by(|a, b| a.destination.cmp(&b.destination));
        stats
    }
}

/// A pull desk's inbox, read from the store.
fn pull_stats(store: &Store, destination: &Destination, now: Timestamp) -> DestinationStats {
    let jobs: Vec<Job> = store
        .scan_prefix(Space::Outbox, &destination.prefix())
        .filter_map(Result::ok)
        .filter_map(|(k, v)| crate::store::decode(Space::Outbox, &k, &v).ok())
        .collect();
    DestinationStats {
        destination: destination.name(),
        mode: "pull",
        depth: jobs.len(),
        oldest_age_seconds: jobs.first().map_or(0, |j| now.duration_since(j.created_at).as_secs().max(0)),
        in_flight: jobs.iter().filter(|j| j.leased_until.is_some_and(|t| t > now)).count(),
        attempts: jobs.iter().map(|j| u64::from(j.attempts)).sum(),
        dead: 0,
        oldest: jobs
            .iter()
            .take(20)
            .map(|j| JobStats {
                id: j.id,
                dossier: j.dossier.clone(),
                attempts: j.attempts,
                not_before: j.not_before,
                last_error: j.last_error.clone(),
            })
            .collect(),
    }
}

struct Dispatcher {
    app: Arc<App>,
    queues: HashMap<String, Queue>,
    by_key: HashMap<Vec<u8>, (String, u64)>,
    done_tx: mpsc::UnboundedSender<Completion>,
}

fn destination_of(key: &[u8]) -> Option<(String, u64)> {
    let split = key.iter().position(|b| *b == 0)?;
    let id = u64::from_be_bytes(key.get(split + 1..)?.try_into().ok()?);
    Some((String::from_utf8(key[..split].to_vec()).ok()?, id))
}

impl Dispatcher {
    fn queue(&mut self, destination: &str) -> &mut Queue {
        let push = self.app.outbound().route(destination).is_some();
        self.queues.entry(destination.to_owned()).or_insert_with(|| Queue { push, ..Queue::default() })
    }

    fn load(&mut self, key: &[u8]) {
        let Some((destination, id)) = destination_of(key) else { return };
        // Pull desks lease their jobs themselves; only push destinations are mirrored.
        if self.app.outbound().route(&destination).is_none() {
            self.forget(key);
            return;
        }
        match self.app.store.get_json::<Job>(Space::Outbox, key) {
            Ok(Some(job)) => {
                self.by_key.insert(key.to_vec(), (destination.clone(), id));
                self.queue(&destination).upsert(&job, key.to_vec());
            }
            Ok(None) => self.forget(key),
            Err(e) => tracing::error!(error = %e, "cannot read an outbox job"),
        }
    }

    fn forget(&mut self, key: &[u8]) {
        if let Some((destination, id)) = self.by_key.remove(key)
            && let Some(queue) = self.queues.get_mut(&destination)
        {
            queue.remove(id);
        }
    }

    fn rebuild(&mut self) {
        let keys: Vec<Vec<u8>> =
            self.app.store.scan_prefix(Space::Outbox, b"").filter_map(Result::ok).map(|(k, _)| k).collect();
        for key in keys {
            self.load(&key);
        }
    }

    fn launch(&mut self, now: Timestamp) {
        let outbound = self.app.outbound();
        // A reload may have turned a push desk into a pull desk: it leases its own.
        let gone: Vec<String> = self.queues.keys().filter(|d| outbound.route(d).is_none()).cloned().collect();
        for destination in gone {
            self.queues.remove(&destination);
            self.by_key.retain(|_, (d, _)| *d != destination);
        }
        for (destination, queue) in self.queues.iter_mut() {
            let Some(route) = outbound.route(destination) else { continue };
            while queue.in_flight < route.concurrency {
                let Some(&(due, id)) = queue.heads.first() else { break };
                if due > now {
                    break;
                }
                queue.heads.remove(&(due, id));
                let Some(entry) = queue.jobs.get_mut(&id) else { continue };
                entry.in_heads = false;
                entry.in_flight = true;
                queue.in_flight += 1;
                let dossier = entry.dossier.clone();
                queue.refresh_chain(&dossier);
                let key = queue.jobs[&id].key.clone();
                let (app, outbound, done) = (self.app.clone(), outbound.clone(), self.done_tx.clone());
                let destination = destination.clone();
                tokio::spawn(async move {
                    let completion = deliver::deliver(&app, &outbound, &destination, id, key).await;
                    let _ = done.send(completion);
                });
            }
        }
    }

    fn next_due(&self) -> Option<Timestamp> {
        self.queues
            .iter()
            .filter(|(d, q)| q.push && self.app.outbound().route(d).is_some_and(|r| q.in_flight < r.concurrency))
            .filter_map(|(_, q)| q.heads.first().map(|(due, _)| *due))
            .min()
    }

    fn complete(&mut self, done: Completion) {
        let Some(queue) = self.queues.get_mut(&done.destination) else { return };
        let Some(entry) = queue.jobs.get_mut(&done.id) else { return };
        if entry.in_flight {
            entry.in_flight = false;
            queue.in_flight -= 1;
        }
        match done.next {
            None => {
                let key = entry.key.clone();
                queue.remove(done.id);
                self.by_key.remove(&key);
            }
            Some(not_before) => {
                entry.not_before = not_before;
                let dossier = entry.dossier.clone();
                queue.refresh_chain(&dossier);
            }
        }
    }

    fn stats(&self, now: Timestamp) -> Vec<DestinationStats> {
        self.queues
            .iter()
            .map(|(destination, q)| DestinationStats {
                destination: destination.clone(),
                mode: "push",
                depth: q.jobs.len(),
                oldest_age_seconds: q
                    .jobs
                    .values()
                    .next()
                    .map_or(0, |e| now.duration_since(e.created_at).as_secs().max(0)),
                in_flight: q.in_flight,
                attempts: q.jobs.values().map(|e| u64::from(e.attempts)).sum(),
                dead: 0,
                oldest: q
                    .jobs
                    .iter()
                    .take(20)
                    .map(|(id, e)| JobStats {
                        id: *id,
                        dossier: e.dossier.clone(),
                        attempts: e.attempts,
                        not_before: e.not_before,
                        last_error: e.last_error.clone(),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Starts the dispatcher over the outbox, fed by the store's commit `notes`. It stops
/// taking new jobs when `shutdown` turns true and returns once deliveries in flight
/// have finished (at most `grace`).
pub fn start(
    app: Arc<App>,
    mut notes: mpsc::UnboundedReceiver<CommitNote>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) -> (tokio::task::JoinHandle<()>, DispatchHandle) {
    let (query_tx, mut queries) = mpsc::channel(16);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher { app, queues: HashMap::new(), by_key: HashMap::new(), done_tx };
    let task = tokio::spawn(async move {
        dispatcher.rebuild();
        loop {
            let now = dispatcher.app.clock.now();
            dispatcher.launch(now);
            let wait = match dispatcher.next_due() {
                Some(due) => Duration::try_from(due.duration_since(dispatcher.app.clock.now()))
                    .unwrap_or_default()
                    .max(Duration::from_millis(5)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                note = notes.recv() => match note {
                    Some(CommitNote::Job(key)) => dispatcher.load(&key),
                    Some(CommitNote::JobGone(key)) => dispatcher.forget(&key),
                    Some(_) => {}
                    None => break,
                },
                Some(done) = done_rx.recv() => dispatcher.complete(done),
                Some(Query::Stats(reply)) = queries.recv() => {
                    let _ = reply.send(dispatcher.stats(dispatcher.app.clock.now()));
                }
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        let busy: usize = dispatcher.queues.values().map(|q| q.in_flight).sum();
        let deadline = tokio::time::Instant::now() + grace;
        let mut remaining = busy;
        while remaining > 0 {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some(_)) => remaining -= 1,
                _ => break,
            }
        }
    });
    (task, DispatchHandle { queries: query_tx })
}
