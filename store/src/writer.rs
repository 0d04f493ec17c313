//! The node's writer: takes every pending command, starts a batch (which, on a shared
//! database, waits for other nodes' batches), runs each command against the batch so
//! far, commits the batch atomically, makes it durable, then answers.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use tokio::sync::{mpsc, watch};

use super::{
    Command, CommitNote, Completion, StoreError, StoreHealth, StoreMetrics, Tx, backend::CommitError, tx::Overlay,
};

pub(super) struct Writer {
    pub(super) backend: std::sync::Arc<dyn super::Backend>,
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) max_batch: usize,
    pub(super) health: Arc<StoreHealth>,
    pub(super) failed: watch::Sender<bool>,
    pub(super) metrics: StoreMetrics,
    pub(super) subscribers: Vec<mpsc::UnboundedSender<CommitNote>>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Writer {
    pub(super) fn run(mut self) {
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
                    Command::Write(run) => writes.push(run),
                    Command::Exclusive(run) => {
                        // Commit what came before so the exclusive step sees it; the
                        // step runs as an empty batch, so no node commits meanwhile.
                        self.commit_batch(std::mem::take(&mut writes));
                        self.exclusive(run);
                    }
                    Command::Stop => stop = true,
                }
            }
            self.commit_batch(writes);
            if stop {
                break;
            }
        }
        self.backend.close();
    }

    fn commit_batch(&mut self, writes: Vec<super::WriteFn>) {
        if writes.is_empty() {
            return;
        }
        if self.health.failed() {
            for run in writes {
                // Nothing runs after a failure: the command is answered unavailable.
                drop(run);
            }
            return;
        }
        self.health.committing_since_ms.store(now_ms(), Ordering::Release);
        if let Err(e) = self.backend.begin() {
            self.health.committing_since_ms.store(0, Ordering::Release);
            self.refuse(writes, e);
            return;
        }
        let backend = self.backend.clone();
        let tree = backend.writer_reads();
        let mut batch = Overlay::new();
        let mut notes = Vec::new();
        let mut completions: Vec<Completion> = Vec::with_capacity(writes.len());
        let count = writes.len();
        for run in writes {
            let mut tx = Tx { tree, batch: &mut batch, local: Overlay::new(), notes: Vec::new() };
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
        let outcome = self.make_durable(&batch, &notes);
        self.health.committing_since_ms.store(0, Ordering::Release);
        if outcome.is_ok() && written {
            self.metrics.commits.inc();
            self.metrics.batch_size.observe(count as f64);
            for note in notes {
                self.subscribers.retain(|s| s.send(note.clone()).is_ok());
            }
        }
        for completion in completions {
            completion(outcome.clone());
        }
    }

    /// Answers commands that were not run because no batch could be started.
    fn refuse(&mut self, writes: Vec<super::WriteFn>, e: CommitError) {
        if let CommitError::Fatal(_) = e {
            self.fail(&e);
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

    fn fail(&mut self, e: &CommitError) {
        // Retrying fsync after an error is unsafe: stop accepting writes.
        tracing::error!(error = %e, "the store could not make a batch durable; refusing writes from now on");
        self.health.failed.store(true, Ordering::Release);
        let _ = self.failed.send(true);
    }

    /// Commits the batch (an empty one too: it ends what `begin` started).
    fn make_durable(&mut self, batch: &Overlay, notes: &[CommitNote]) -> Result<(), StoreError> {
        let started = Instant::now();
        match self.backend.commit(batch, notes) {
            Ok(()) => {
                if !batch.is_empty() {
                    self.metrics.sync_seconds.observe(started.elapsed().as_secs_f64());
                }
                Ok(())
            }
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
}
