//! The single writer: takes every pending command, runs each against the batch so
//! far, commits the batch atomically, makes it durable, then answers.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use tokio::sync::{mpsc, watch};

use super::{Command, CommitNote, Completion, StoreError, StoreHealth, StoreMetrics, Tx, tx::Overlay};

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
                        // Commit what came before so the exclusive step sees it.
                        self.commit_batch(std::mem::take(&mut writes));
                        run(&*self.backend);
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
        let backend = self.backend.clone();
        let tree: &dyn super::Backend = &*backend;
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
        let outcome = self.make_durable(batch);
        self.health.committing_since_ms.store(0, Ordering::Release);
        if outcome.is_ok() {
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

    fn make_durable(&mut self, batch: Overlay) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let result = self.backend.commit(&batch);
        match result {
            Ok(()) => {
                self.metrics.sync_seconds.observe(started.elapsed().as_secs_f64());
                Ok(())
            }
            Err(e) => {
                // Retrying fsync after an error is unsafe: stop accepting writes.
                tracing::error!(error = %e, "the store could not make a batch durable; refusing writes from now on");
                self.health.failed.store(true, Ordering::Release);
                let _ = self.failed.send(true);
                Err(StoreError::Unavailable)
            }
        }
    }
}
