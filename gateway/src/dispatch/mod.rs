//! The dispatcher: one task that drains the outbox (docs/ARCHITECTURE.md §1, §3).
//!
//! For every push destination it keeps a window on the outbox in memory — the oldest
//! jobs, paged in from the store at start and as the window empties, kept current by
//! the store's commit notes — and hands due jobs to delivery tasks, with at most the
//! destination's concurrency of calls to it at once (a slot frees when the peer
//! answers; the outcome is synced after). Only the oldest queued job of a dossier
//! whose earlier outcome is recorded is eligible at a destination, so one dossier's
//! jobs arrive in order; each destination has its own limit and every call its own
//! timeout, so a stuck desk holds up nobody else. Pull desks lease their jobs
//! themselves and are not held here. A delivery in flight when the process dies is
//! just a queued job at the next start.

mod deliver;
pub(crate) mod jobs;
mod queue;
mod retry;

use std::{collections::HashMap, sync::Arc, time::Duration};

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot, watch};

use crate::core::Core;
use crate::network::DeskMode;
use crate::outbound::Outbound;
use crate::outbox::{Destination, DestinationStats, Job, JobStats};
use crate::store::{CommitNote, Key, Store};
use deliver::Progress;
use queue::{Admission, Queue};

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
    pub async fn stats(&self, app: &Core) -> Vec<DestinationStats> {
        let store = &app.store;
        let (tx, rx) = oneshot::channel();
        let mut stats =
            if self.queries.send(Query::Stats(tx)).await.is_ok() { rx.await.unwrap_or_default() } else { Vec::new() };
        let now = app.clock.now();
        for desk in app.settings().network.desks().filter(|d| d.mode == DeskMode::Pull) {
            stats.push(pull_stats(store, &Destination::Desk(desk.id.clone()), now));
        }
        let mut dead: HashMap<String, usize> = HashMap::new();
        match crate::outbox::dead_letters(store, crate::outbox::DeadFilter::All, usize::MAX) {
            Ok(letters) => {
                for letter in letters {
                    *dead.entry(letter.job.destination.name()).or_default() += 1;
                }
            }
            Err(e) => tracing::error!(error = %e, "the dead letters could not be counted"),
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

/// How many of a pull desk's oldest jobs its statistics read.
const PULL_HEAD: usize = 4096;

/// A pull desk's inbox, read from the store. A desk leases its oldest jobs first, so
/// its leases lie at the head of the inbox: leases and attempts are read from the
/// oldest [`PULL_HEAD`] jobs, and a longer inbox — a desk that has not polled for
/// days — is only counted, so that a scrape stays cheap however far behind it is.
fn pull_stats(store: &Store, destination: &Destination, now: Timestamp) -> DestinationStats {
    let prefix = destination.prefix();
    let jobs: Vec<Job> = store
        .scan_prefix(&prefix)
        .take(PULL_HEAD)
        .filter_map(Result::ok)
        .filter_map(|(k, v)| crate::store::decode(&k, &v).ok())
        .collect();
    let depth = if jobs.len() < PULL_HEAD { jobs.len() } else { store.count_prefix(&prefix).unwrap_or(jobs.len()) };
    DestinationStats {
        destination: destination.name(),
        mode: "pull",
        depth,
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
    app: Core,
    /// Push destinations only: pull desks lease their jobs themselves.
    queues: HashMap<String, Queue>,
    progress_tx: mpsc::UnboundedSender<Progress>,
    /// The routes the windows were last matched to; a reload replaces them.
    routes: Option<Arc<Outbound>>,
    /// Delivery tasks not yet done.
    running: usize,
}

use crate::store::keys::{job_range, parse_job as destination_of};

impl Dispatcher {
    /// Keeps one window per push route: a route that appeared (at start, or a desk
    /// turned from pull to push by a reload) starts spilled and pages its jobs in; a
    /// route that went away leaves its jobs to the store.
    fn follow_routes(&mut self) {
        let outbound = self.app.outbound();
        if self.routes.as_ref().is_some_and(|seen| Arc::ptr_eq(seen, &outbound)) {
            return;
        }
        self.queues.retain(|destination, _| outbound.route(destination).is_some());
        for destination in outbound.destinations() {
            if self.queues.contains_key(destination) {
                continue;
            }
            let (mut count, mut youngest) = (0, 0);
            for (key, _) in self.app.store.range(&job_range(destination, 0)).flatten() {
                count += 1;
                youngest = destination_of(&key).map_or(youngest, |(_, id)| id);
            }
            self.queues.insert(destination.to_owned(), Queue::spilled(count, youngest));
        }
        self.routes = Some(outbound);
    }

    /// Takes in the job a commit announced, if the window has room for it.
    fn load(&mut self, key: &Key) {
        let Some((destination, id)) = destination_of(key) else { return };
        let Some(queue) = self.queues.get_mut(destination) else { return };
        if queue.admit(id) == Admission::Leave {
            return;
        }
        match self.app.store.get_json::<Job>(key) {
            Ok(Some(job)) => queue.upsert(&job, key.clone()),
            Ok(None) => queue.remove(id),
            Err(e) => tracing::error!(error = %e, "cannot read an outbox job"),
        }
    }

    fn forget(&mut self, key: &Key) {
        if let Some((destination, id)) = destination_of(key)
            && let Some(queue) = self.queues.get_mut(destination)
        {
            queue.remove(id);
        }
    }

    /// Pages jobs in from disk where a window has run low.
    fn refill(&mut self) {
        for (destination, queue) in self.queues.iter_mut() {
            let Some(room) = queue.wants_refill() else { continue };
            let range = job_range(destination, queue.horizon.saturating_add(1));
            let mut paged = Vec::with_capacity(room.min(1024));
            let mut failed = false;
            for item in self.app.store.range(&range).take(room) {
                match item.and_then(|(key, value)| Ok((crate::store::decode::<Job>(&key, &value)?, key))) {
                    Ok((job, key)) => paged.push((key, job)),
                    Err(e) => {
                        tracing::error!(error = %e, destination = %destination, "cannot page outbox jobs in");
                        failed = true;
                        break;
                    }
                }
            }
            let exhausted = !failed && paged.len() < room;
            queue.refilled(paged, exhausted);
        }
    }

    fn launch(&mut self, now: Timestamp) {
        self.follow_routes();
        self.refill();
        let outbound = self.app.outbound();
        for (destination, queue) in self.queues.iter_mut() {
            let Some(route) = outbound.route(destination) else { continue };
            while queue.in_flight < route.concurrency {
                let Some((id, key)) = queue.take_due(now) else { break };
                let (app, outbound, progress) = (self.app.clone(), outbound.clone(), self.progress_tx.clone());
                let destination = destination.clone();
                self.running += 1;
                tokio::spawn(async move {
                    let completion = deliver::deliver(&app, &outbound, &destination, id, key, &progress).await;
                    let _ = progress.send(Progress::Done(completion));
                });
            }
        }
    }

    fn next_due(&self) -> Option<Timestamp> {
        let outbound = self.app.outbound();
        self.queues
            .iter()
            .filter(|(d, q)| outbound.route(d).is_some_and(|r| q.in_flight < r.concurrency))
            .filter_map(|(_, q)| q.next_due())
            .min()
    }

    fn progress(&mut self, progress: Progress) {
        match progress {
            Progress::CallEnded { destination, id } => {
                if let Some(queue) = self.queues.get_mut(&destination) {
                    queue.call_ended(id);
                }
            }
            Progress::Done(done) => {
                self.running = self.running.saturating_sub(1);
                if let Some(queue) = self.queues.get_mut(&done.destination) {
                    queue.completed(done.id, done.next);
                }
            }
        }
    }

    fn stats(&self, now: Timestamp) -> Vec<DestinationStats> {
        self.queues
            .iter()
            .map(|(destination, q)| DestinationStats {
                destination: destination.clone(),
                mode: "push",
                depth: q.depth(),
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
    app: Core,
    notes: mpsc::UnboundedReceiver<CommitNote>,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
) -> (tokio::task::JoinHandle<()>, DispatchHandle) {
    let (query_tx, queries) = mpsc::channel(16);
    let (progress_tx, progress_rx) = mpsc::unbounded_channel();
    // The inputs outlive a panicking run: the next run takes them over, with a
    // dispatcher rebuilt from the store.
    let inputs = Arc::new(tokio::sync::Mutex::new(Inputs { notes, queries, progress_rx, progress_tx }));
    let (tasks, panics) = (app.tasks.clone(), app.metrics.task_panics.clone());
    let stop = shutdown.clone();
    let task = crate::supervise::spawn("dispatcher", tasks, panics, stop, move || {
        let (app, inputs, shutdown) = (app.clone(), inputs.clone(), shutdown.clone());
        async move { run(app, &mut *inputs.lock().await, shutdown, grace).await }
    });
    (task, DispatchHandle { queries: query_tx })
}

/// What the dispatcher listens to.
struct Inputs {
    notes: mpsc::UnboundedReceiver<CommitNote>,
    queries: mpsc::Receiver<Query>,
    progress_rx: mpsc::UnboundedReceiver<Progress>,
    progress_tx: mpsc::UnboundedSender<Progress>,
}

async fn run(app: Core, inputs: &mut Inputs, mut shutdown: watch::Receiver<bool>, grace: Duration) {
    let progress_tx = inputs.progress_tx.clone();
    let mut dispatcher = Dispatcher { app, queues: HashMap::new(), progress_tx, routes: None, running: 0 };
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
            note = inputs.notes.recv() => match note {
                Some(CommitNote::Job(key)) => dispatcher.load(&key),
                Some(CommitNote::JobGone(key)) => dispatcher.forget(&key),
                Some(_) => {}
                None => break,
            },
            Some(progress) = inputs.progress_rx.recv() => dispatcher.progress(progress),
            Some(Query::Stats(reply)) = inputs.queries.recv() => {
                let _ = reply.send(dispatcher.stats(dispatcher.app.clock.now()));
            }
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    let deadline = tokio::time::Instant::now() + grace;
    while dispatcher.running > 0 {
        match tokio::time::timeout_at(deadline, inputs.progress_rx.recv()).await {
            Ok(Some(progress)) => dispatcher.progress(progress),
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::StoreSection;
    use crate::outbox::{JobKind, enqueue, lease_inbox};
    use crate::store::StoreMetrics;
    use motcua_schemas::DossierCode;

    #[tokio::test]
    async fn a_long_pull_inbox_is_counted_whole_and_read_at_its_head() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &StoreSection::default(), StoreMetrics::default(), Vec::new()).unwrap();
        let now = Timestamp::UNIX_EPOCH;
        let total = PULL_HEAD + 10;
        store
            .write(move |tx| -> Result<(), crate::store::StoreError> {
                for n in 0..total {
                    let code: DossierCode = format!("000.07.20.H38-261125-{:04}", n + 1).parse().unwrap();
                    enqueue(tx, Destination::Desk("mc".into()), JobKind::Deliver, &code, now)?;
                }
                lease_inbox(tx, "mc", 3, now, jiff::SignedDuration::from_secs(60))?;
                Ok(())
            })
            .await
            .unwrap()
            .unwrap();
        let stats = pull_stats(&store, &Destination::Desk("mc".into()), now);
        assert_eq!(stats.depth, total);
        assert_eq!(stats.in_flight, 3);
        assert_eq!(stats.attempts, 3);
        assert_eq!(stats.oldest.len(), 20);
    }
}
