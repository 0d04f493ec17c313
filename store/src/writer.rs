//! The node's writer: takes every pending command, starts a batch (which, on a shared
//! database, waits for other nodes' batches), runs each command against the batch so
//! far, commits the batch atomically, makes it durable, then answers.
//!
//! On a backend that pipelines (sled), the commit is split: the writer applies the
//! batch and goes on with the next one while the syncer thread makes every batch
//! applied so far durable with one flush and `fdatasync`, and only then answers them
//! (docs/ARCHITECTURE.md §3).

use std::{
    collections::BTreeSet,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::Ordering, mpsc as std_mpsc},
    time::Instant,
};

use tokio::sync::{mpsc, watch};

use super::{
    Command, CommitNote, Completion, StoreError, StoreHealth, StoreMetrics, Tx, Write,
    backend::{CommitError, Reads},
    tx::{Overlay, ReadAhead},
};

/// Batches applied but not yet durable that the writer may run ahead of the syncer.
const APPLIED_AHEAD: usize = 64;

pub(super) struct Writer {
    pub(super) backend: std::sync::Arc<dyn super::Backend>,
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) max_batch: usize,
    pub(super) durable: Durable,
}

/// What follows a batch's commit, wherever it is made durable: the metrics, the
/// subscribers' notes and the answers.
pub(super) struct Durable {
    pub(super) health: Arc<StoreHealth>,
    pub(super) failed: Arc<watch::Sender<bool>>,
    pub(super) metrics: StoreMetrics,
    pub(super) subscribers: Vec<mpsc::UnboundedSender<CommitNote>>,
}

/// A batch that was run and applied, waiting for the sync that makes it durable.
struct Applied {
    completions: Vec<Completion>,
    notes: Vec<CommitNote>,
    commands: usize,
    written: bool,
}

enum ToSyncer {
    Batch(Applied),
    /// Answered once every batch sent before is durable (or refused).
    Barrier(std_mpsc::Sender<()>),
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Writer {
    pub(super) fn run(mut self) {
        if self.backend.pipelines() {
            let (to_syncer, from_writer) = std_mpsc::sync_channel(APPLIED_AHEAD);
            let backend = self.backend.clone();
            let durable = self.durable.clone_for_syncer();
            let syncer = std::thread::Builder::new()
                .name("motcua-store-syncer".into())
                .spawn(move || sync_loop(&*backend, durable, from_writer));
            match syncer {
                Ok(syncer) => {
                    self.command_loop(Some(&to_syncer));
                    drop(to_syncer);
                    let _ = syncer.join();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start the store's syncer; committing batch by batch");
                    self.command_loop(None);
                }
            }
        } else {
            self.command_loop(None);
        }
        self.backend.close();
    }

    fn command_loop(&mut self, syncer: Option<&std_mpsc::SyncSender<ToSyncer>>) {
        while let Some(first) = self.commands.blocking_recv() {
            let mut pending = vec![first];
            while pending.len() < self.max_batch {
                match self.commands.try_recv() {
                    Ok(command) => pending.push(command),
                    Err(_) => break,
                }
            }
            let mut writes = Vec::new();
            let mut stop = false;
            for command in pending {
                match command {
                    Command::Write(write) => writes.push(write),
                    Command::Exclusive(run) => {
                        // Commit what came before so the exclusive step sees it; the
                        // step runs as an empty batch, so no node commits meanwhile.
                        self.commit_batch(std::mem::take(&mut writes), syncer);
                        wait_durable(syncer);
                        self.exclusive(run);
                    }
                    Command::Stop => stop = true,
                }
            }
            self.commit_batch(writes, syncer);
            if stop {
                break;
            }
        }
        wait_durable(syncer);
    }

    fn commit_batch(&mut self, writes: Vec<Write>, syncer: Option<&std_mpsc::SyncSender<ToSyncer>>) {
        if writes.is_empty() {
            return;
        }
        if self.durable.health.failed() {
            for run in writes {
                // Nothing runs after a failure: the command is answered unavailable.
                drop(run);
            }
            return;
        }
        if syncer.is_none() {
            self.durable.health.committing_since_ms.store(now_ms(), Ordering::Release);
        }
        if let Err(e) = self.backend.begin() {
            self.durable.health.committing_since_ms.store(0, Ordering::Release);
            self.refuse(writes, e);
            return;
        }
        let backend = self.backend.clone();
        let tree = backend.writer_reads();
        let read_ahead = if backend.reads_ahead() { read_ahead(tree, &writes) } else { ReadAhead::new() };
        let mut batch = Overlay::new();
        let mut notes = Vec::new();
        let mut completions: Vec<Completion> = Vec::with_capacity(writes.len());
        let commands = writes.len();
        for Write { run, .. } in writes {
            let mut tx =
                Tx { tree, read_ahead: &read_ahead, batch: &mut batch, local: Overlay::new(), notes: Vec::new() };
            match catch_unwind(AssertUnwindSafe(|| run(&mut tx))) {
                Ok(completion) => {
                    let (local, mut own_notes) = (std::mem::take(&mut tx.local), std::mem::take(&mut tx.notes));
                    batch.extend(local);
                    notes.append(&mut own_notes);
                    completions.push(completion);
                }
                Err(_) => {
                    tracing::error!("a store command panicked; its writes were discarded");
                }
            }
        }
        let written = !batch.is_empty();
        let applied = Applied { completions, notes, commands, written };
        match syncer {
            Some(syncer) => {
                if let Err(e) = if written { self.backend.apply(&batch) } else { Ok(()) } {
                    self.durable.fail(&e);
                    self.durable.finish(vec![applied], Err(StoreError::Unavailable));
                    return;
                }
                if let Err(std_mpsc::SendError(ToSyncer::Batch(lost))) = syncer.send(ToSyncer::Batch(applied)) {
                    // The syncer is gone (it panicked): nothing more is made durable.
                    self.durable.fail(&CommitError::Fatal("the store's syncer stopped".into()));
                    self.durable.finish(vec![lost], Err(StoreError::Unavailable));
                }
            }
            None => {
                let outcome = self.make_durable(&batch, &applied.notes);
                self.durable.health.committing_since_ms.store(0, Ordering::Release);
                self.durable.finish(vec![applied], outcome);
            }
        }
    }

    /// Answers commands that were not run because no batch could be started.
    fn refuse(&mut self, writes: Vec<Write>, e: CommitError) {
        if let CommitError::Fatal(_) = e {
            self.durable.fail(&e);
        } else {
            tracing::warn!(error = %e, "the store cannot start a batch; its commands are answered unavailable");
        }
        // A command dropped unrun answers its caller unavailable.
        drop(writes);
    }

    fn exclusive(&mut self, run: super::ExclusiveFn) {
        match self.backend.begin() {
            Ok(()) => {
                run(self.backend.writer_reads());
                if let Err(e) = self.backend.commit(&Overlay::new(), &[]) {
                    tracing::warn!(error = %e, "the store could not end an exclusive step");
                }
            }
            // The step's caller sees its reply dropped: the store is unavailable.
            Err(e) => tracing::warn!(error = %e, "the store cannot start an exclusive step"),
        }
    }

    /// Commits the batch (an empty one too: it ends what `begin` started).
    fn make_durable(&mut self, batch: &Overlay, notes: &[CommitNote]) -> Result<(), StoreError> {
        let started = Instant::now();
        let outcome = self.backend.commit(batch, notes);
        if outcome.is_ok() && !batch.is_empty() {
            self.durable.metrics.sync_seconds.observe(started.elapsed().as_secs_f64());
        }
        self.durable.outcome(outcome)
    }
}

/// Fetches at once what a batch's commands said they would read. A failure leaves each
/// command to read for itself, and to meet the error there.
fn read_ahead(tree: &dyn Reads, writes: &[Write]) -> ReadAhead {
    let keys: BTreeSet<&[u8]> = writes.iter().flat_map(|w| w.reads.iter().map(|key| key.full())).collect();
    if keys.is_empty() {
        return ReadAhead::new();
    }
    let keys: Vec<&[u8]> = keys.into_iter().collect();
    match tree.get_many(&keys) {
        Ok(values) => keys.into_iter().map(<[u8]>::to_vec).zip(values).collect(),
        Err(e) => {
            tracing::debug!(error = %e, "a batch's reads could not be fetched at once; its commands read them one by one");
            ReadAhead::new()
        }
    }
}

/// Waits until every batch handed to the syncer is durable or refused.
fn wait_durable(syncer: Option<&std_mpsc::SyncSender<ToSyncer>>) {
    if let Some(syncer) = syncer {
        let (done, wait) = std_mpsc::channel();
        if syncer.send(ToSyncer::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

/// The syncer: takes every batch applied since its last sync and makes them durable
/// with one sync, then answers them in order. After a failed sync it syncs nothing
/// again and refuses every batch still coming.
fn sync_loop(backend: &dyn super::Backend, mut durable: Durable, from_writer: std_mpsc::Receiver<ToSyncer>) {
    while let Ok(first) = from_writer.recv() {
        let mut batches = Vec::new();
        let mut barriers = Vec::new();
        for message in std::iter::once(first).chain(from_writer.try_iter()) {
            match message {
                ToSyncer::Batch(applied) => batches.push(applied),
                ToSyncer::Barrier(done) => barriers.push(done),
            }
        }
        if durable.health.failed() {
            durable.finish(batches, Err(StoreError::Unavailable));
        } else if batches.iter().any(|b| b.written) {
            durable.health.committing_since_ms.store(now_ms(), Ordering::Release);
            let started = Instant::now();
            let outcome = backend.sync();
            if outcome.is_ok() {
                durable.metrics.sync_seconds.observe(started.elapsed().as_secs_f64());
            }
            let outcome = durable.outcome(outcome);
            durable.health.committing_since_ms.store(0, Ordering::Release);
            durable.finish(batches, outcome);
        } else {
            durable.finish(batches, Ok(()));
        }
        for done in barriers {
            let _ = done.send(());
        }
    }
}

impl Durable {
    /// The syncer's share: it alone answers and notifies from then on, so the writer
    /// keeps only what it needs to refuse a batch.
    fn clone_for_syncer(&mut self) -> Durable {
        Durable {
            health: self.health.clone(),
            failed: self.failed.clone(),
            metrics: self.metrics.clone(),
            subscribers: std::mem::take(&mut self.subscribers),
        }
    }

    fn outcome(&mut self, outcome: Result<(), CommitError>) -> Result<(), StoreError> {
        match outcome {
            Ok(()) => Ok(()),
            Err(e @ CommitError::Fatal(_)) => {
                self.fail(&e);
                Err(StoreError::Unavailable)
            }
            Err(e @ CommitError::Transient(_)) => {
                tracing::warn!(error = %e, "a batch was not committed; its commands are answered unavailable");
                Err(StoreError::Unavailable)
            }
        }
    }

    fn fail(&mut self, e: &CommitError) {
        // Retrying fsync after an error is unsafe: stop accepting writes.
        tracing::error!(error = %e, "the store could not make a batch durable; refusing writes from now on");
        self.health.failed.store(true, Ordering::Release);
        let _ = self.failed.send(true);
    }

    /// Counts the batches' commit, tells their notes once durable, and answers them.
    fn finish(&mut self, batches: Vec<Applied>, outcome: Result<(), StoreError>) {
        let written: Vec<&Applied> = batches.iter().filter(|b| b.written).collect();
        if outcome.is_ok() && !written.is_empty() {
            self.metrics.commits.inc();
            self.metrics.batch_size.observe(written.iter().map(|b| b.commands).sum::<usize>() as f64);
        }
        for applied in batches {
            if outcome.is_ok() {
                for note in applied.notes {
                    self.subscribers.retain(|s| s.send(note.clone()).is_ok());
                }
            }
            for completion in applied.completions {
                completion(outcome.clone());
            }
        }
    }
}
