//! One push destination's window on the outbox: the jobs the dispatcher holds in
//! memory, their per-dossier order, and which of them may go now.
//!
//! The window holds the destination's oldest jobs, at most [`WINDOW`] of them; younger
//! jobs wait on disk and are paged in as the window empties. A desk that has been down
//! for a week with a million dossiers queued therefore costs a few megabytes, not a
//! gigabyte, and its jobs still go out in order: a dossier's older job always has the
//! lower id, so it is always in the window before its younger ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use motcua_schemas::DossierCode;

use crate::outbox::Job;
use crate::store::Key;

/// Jobs per destination held in memory.
pub const WINDOW: usize = 4096;

/// A job in the window.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Key,
    pub dossier: DossierCode,
    pub created_at: Timestamp,
    pub not_before: Timestamp,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Taken for delivery, its outcome not recorded yet: the dossier's next job waits.
    pub in_flight: bool,
    /// The call to the peer is in progress and holds one of the destination's slots.
    calling: bool,
    in_heads: bool,
}

/// One destination's window.
#[derive(Debug, Default)]
pub struct Queue {
    pub jobs: BTreeMap<u64, Entry>,
    chains: HashMap<DossierCode, BTreeSet<u64>>,
    /// Eligible jobs (the oldest of their dossier, not in flight) by due time.
    heads: BTreeSet<(Timestamp, u64)>,
    /// Calls to the peer in progress: what the destination's concurrency limits. A
    /// slot is free once the peer has answered, while the outcome is still being
    /// synced, so that the peer — not our own disk — sets the pace.
    pub in_flight: usize,
    /// The highest job id the window has taken in.
    pub horizon: u64,
    /// Jobs with ids above `horizon` wait on disk.
    pub spilled: bool,
    /// How many jobs wait on disk.
    pub beyond: usize,
    /// The highest id counted in `beyond`: a commit note may arrive after a refill
    /// already paged its job in, or after the start counted it.
    announced: u64,
}

/// What the window makes of a job it is told about.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Read it from the store and hold it.
    Take,
    /// It waits on disk until the window has room.
    Leave,
}

impl Queue {
    /// A window that starts empty and fills from the store, where `beyond` jobs wait,
    /// the youngest with id `announced`.
    pub fn spilled(beyond: usize, announced: u64) -> Queue {
        Queue { spilled: true, beyond, announced, ..Queue::default() }
    }

    /// Queued jobs, in memory and on disk.
    pub fn depth(&self) -> usize {
        self.jobs.len() + self.beyond
    }

    /// Whether the window should take the job `id` a commit announced. Ids only
    /// grow, so an id above every one seen is a new job; once the window is full, new
    /// jobs are left on disk and counted.
    pub fn admit(&mut self, id: u64) -> Admission {
        if self.jobs.contains_key(&id) || id <= self.horizon {
            return Admission::Take;
        }
        if self.spilled || self.jobs.len() >= WINDOW {
            self.spilled = true;
            if id > self.announced {
                self.beyond += 1;
                self.announced = id;
            }
            return Admission::Leave;
        }
        Admission::Take
    }

    /// Room to page jobs in, if some wait on disk and the window has run low.
    pub fn wants_refill(&self) -> Option<usize> {
        (self.spilled && self.jobs.len() <= WINDOW / 2).then(|| WINDOW - self.jobs.len())
    }

    /// Takes in jobs paged in from disk (ids above `horizon`, in order); `exhausted`
    /// when the store had no more.
    pub fn refilled(&mut self, jobs: Vec<(Key, Job)>, exhausted: bool) {
        let counted = jobs.iter().filter(|(_, job)| job.id <= self.announced).count();
        self.beyond = self.beyond.saturating_sub(counted);
        for (key, job) in jobs {
            self.upsert(&job, key);
        }
        if exhausted {
            self.spilled = false;
            self.beyond = 0;
        }
    }

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

    /// Holds `job` (stored at `key`), or takes in its new state.
    pub fn upsert(&mut self, job: &Job, key: Key) {
        self.horizon = self.horizon.max(job.id);
        if let Some(old) = self.jobs.get_mut(&job.id) {
            if old.in_heads {
                self.heads.remove(&(old.not_before, job.id));
                old.in_heads = false;
            }
            old.not_before = job.not_before;
            old.attempts = job.attempts;
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
                    last_error: job.last_error.clone(),
                    in_flight: false,
                    calling: false,
                    in_heads: false,
                },
            );
            self.chains.entry(job.dossier.clone()).or_default().insert(job.id);
        }
        self.refresh_chain(&job.dossier);
    }

    /// Drops job `id`, wherever it is.
    pub fn remove(&mut self, id: u64) {
        let Some(entry) = self.jobs.remove(&id) else {
            if id > self.horizon && id <= self.announced {
                self.beyond = self.beyond.saturating_sub(1);
            }
            return;
        };
        if entry.in_heads {
            self.heads.remove(&(entry.not_before, id));
        }
        if entry.calling {
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

    /// The next job due by `now`, marked in flight.
    pub fn take_due(&mut self, now: Timestamp) -> Option<(u64, Key)> {
        let &(due, id) = self.heads.first()?;
        if due > now {
            return None;
        }
        self.heads.remove(&(due, id));
        let entry = self.jobs.get_mut(&id)?;
        entry.in_heads = false;
        entry.in_flight = true;
        entry.calling = true;
        let (dossier, key) = (entry.dossier.clone(), entry.key.clone());
        self.in_flight += 1;
        self.refresh_chain(&dossier);
        Some((id, key))
    }

    /// When the earliest eligible job falls due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.heads.first().map(|(due, _)| *due)
    }

    /// The peer answered the call for job `id`; its outcome is being recorded.
    pub fn call_ended(&mut self, id: u64) {
        if let Some(entry) = self.jobs.get_mut(&id)
            && entry.calling
        {
            entry.calling = false;
            self.in_flight -= 1;
        }
    }

    /// A delivery ended: the job left the outbox (`next` is `None`) or waits until
    /// `next`.
    pub fn completed(&mut self, id: u64, next: Option<Timestamp>) {
        self.call_ended(id);
        let Some(entry) = self.jobs.get_mut(&id) else { return };
        entry.in_flight = false;
        match next {
            None => self.remove(id),
            Some(not_before) => {
                entry.not_before = not_before;
                let dossier = entry.dossier.clone();
                self.refresh_chain(&dossier);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{Destination, JobKind};

    fn job(id: u64, dossier: &str) -> Job {
        Job {
            id,
            destination: Destination::Desk("d".into()),
            kind: JobKind::Deliver,
            dossier: dossier.parse().unwrap(),
            created_at: Timestamp::UNIX_EPOCH,
            attempts: 0,
            not_before: Timestamp::UNIX_EPOCH,
            leased_until: None,
            last_error: None,
        }
    }

    const A: &str = "000.00.01.H26-261125-0001";
    const B: &str = "000.00.01.H26-261125-0002";

    #[test]
    fn only_the_oldest_job_of_a_dossier_goes() {
        let mut q = Queue::default();
        q.upsert(&job(1, A), job(1, A).key());
        q.upsert(&job(2, A), job(2, A).key());
        q.upsert(&job(3, B), job(3, B).key());
        let now = Timestamp::UNIX_EPOCH;
        let first = q.take_due(now).map(|(id, _)| id);
        let second = q.take_due(now).map(|(id, _)| id);
        assert_eq!((first, second), (Some(1), Some(3)));
        assert_eq!(q.take_due(now), None, "job 2 waits for job 1");
        q.completed(1, None);
        assert_eq!(q.take_due(now).map(|(id, _)| id), Some(2));
    }

    #[test]
    fn a_slot_frees_when_the_peer_answers_but_the_dossier_waits_for_the_record() {
        let mut q = Queue::default();
        q.upsert(&job(1, A), job(1, A).key());
        q.upsert(&job(2, A), job(2, A).key());
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(q.take_due(now).map(|(id, _)| id), Some(1));
        assert_eq!(q.in_flight, 1);
        q.call_ended(1);
        q.call_ended(1);
        assert_eq!(q.in_flight, 0, "the slot is free once, however often it is reported");
        assert_eq!(q.take_due(now), None, "job 2 waits until job 1's outcome is recorded");
        q.completed(1, None);
        assert_eq!(q.in_flight, 0);
        assert_eq!(q.take_due(now).map(|(id, _)| id), Some(2));
        assert_eq!(q.in_flight, 1);
        q.remove(2);
        assert_eq!(q.in_flight, 0, "a job that leaves during its call frees its slot");
    }

    #[test]
    fn a_full_window_leaves_new_jobs_on_disk_and_counts_them() {
        let mut q = Queue::default();
        for id in 1..=WINDOW as u64 {
            assert_eq!(q.admit(id), Admission::Take);
            q.upsert(&job(id, A), job(id, A).key());
        }
        assert_eq!(q.admit(WINDOW as u64 + 1), Admission::Leave);
        assert_eq!(q.admit(WINDOW as u64 + 2), Admission::Leave);
        assert_eq!(q.depth(), WINDOW + 2);
        assert_eq!(q.admit(5), Admission::Take, "an update of a held job is taken");
        assert_eq!(q.wants_refill(), None, "a full window does not page in");
        for id in 1..=(WINDOW / 2) as u64 {
            q.remove(id);
        }
        assert_eq!(q.wants_refill(), Some(WINDOW / 2));
        let paged = [job(WINDOW as u64 + 1, B), job(WINDOW as u64 + 2, B)].map(|j| (j.key(), j)).into();
        q.refilled(paged, true);
        assert!(!q.spilled);
        assert_eq!(q.depth(), WINDOW / 2 + 2);
        assert_eq!(q.admit(WINDOW as u64 + 3), Admission::Take, "with room again, new jobs come in");
    }

    #[test]
    fn a_job_gone_from_disk_leaves_the_count() {
        let mut q = Queue::spilled(3, 12);
        q.remove(10);
        assert_eq!(q.depth(), 2);
        assert_eq!(q.admit(11), Admission::Leave);
        assert_eq!(q.depth(), 2, "a job counted at the start is not counted again");
        q.refilled([job(11, A), job(13, A)].map(|j| (j.key(), j)).into(), false);
        assert_eq!(q.depth(), 3, "job 13 was paged in before its note: never counted");
    }
}
