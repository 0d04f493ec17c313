//! Outbox operations, each run inside a store command: queue a job, record what a
//! delivery attempt came to, lease a pull desk's inbox, acknowledge, replay a dead
//! letter.

use jiff::{SignedDuration, Timestamp};
use motcua_schemas::DossierCode;

use super::job::{DeadLetter, Destination, Job, JobKind, Notice, NoticeKind, key};
use crate::{CommitNote, Key, Prefix, StoreError, Tx, keys};

/// A destination's queue read a page at a time, so that a long backlog costs only
/// the entries actually looked at.
struct Pages {
    prefix: Prefix,
    page: std::vec::IntoIter<Entry>,
    last: Option<Key>,
    done: bool,
}

/// A key and its value.
type Entry = (Key, Vec<u8>);

/// Entries read from the store at a time.
const PAGE: usize = 64;

impl Pages {
    fn new(prefix: Prefix) -> Pages {
        Pages { prefix, page: Vec::new().into_iter(), last: None, done: false }
    }

    fn next(&mut self, tx: &Tx<'_>) -> Result<Option<Entry>, StoreError> {
        if let Some(entry) = self.page.next() {
            self.last = Some(entry.0.clone());
            return Ok(Some(entry));
        }
        if self.done {
            return Ok(None);
        }
        let page = tx.scan_prefix_after(&self.prefix, self.last.as_ref(), PAGE)?;
        self.done = page.len() < PAGE;
        self.page = page.into_iter();
        let entry = self.page.next();
        if let Some((key, _)) = &entry {
            self.last = Some(key.clone());
        }
        Ok(entry)
    }
}

/// Queues a notice of `kind` about `dossier` for `desk` (docs/CONTRACT.md §5).
pub fn notice(
    tx: &mut Tx<'_>,
    desk: &str,
    kind: NoticeKind,
    dossier: &motcua_schemas::Dossier,
    now: Timestamp,
) -> Result<(), StoreError> {
    let notice = Notice { kind, code: dossier.code.clone(), due_at: dossier.due_at };
    enqueue(tx, Destination::Desk(desk.to_owned()), JobKind::Notice { notice }, &dossier.code, now).map(drop)
}

/// Queues a job for `dossier` in the same batch as the caller's other writes.
pub fn enqueue(
    tx: &mut Tx<'_>,
    destination: Destination,
    kind: JobKind,
    dossier: &DossierCode,
    now: Timestamp,
) -> Result<Job, StoreError> {
    let id = tx.next_counter(&keys::job_seq())?;
    let job = Job {
        id,
        destination,
        kind,
        dossier: dossier.clone(),
        created_at: now,
        attempts: 0,
        not_before: now,
        leased_until: None,
        last_error: None,
    };
    let key = job.key();
    tx.put_json(&key, &job)?;
    tx.note(CommitNote::Job(key));
    Ok(job)
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The peer has it.
    Delivered,
    /// Try again, not before the given time.
    Retry {
        /// Why it failed.
        error: String,
        /// When to try again.
        not_before: Timestamp,
    },
    /// Never retry.
    Dead {
        /// Why.
        error: String,
    },
}

fn bury(tx: &mut Tx<'_>, mut job: Job, error: String, now: Timestamp) -> Result<(), StoreError> {
    let key = job.key();
    tx.remove(&key);
    job.last_error = Some(error.clone());
    job.leased_until = None;
    let letter = DeadLetter { job, error, died_at: now };
    tx.put_json(&keys::dead(letter.job.id), &letter)?;
    tx.put(&keys::dead_of(letter.job.dossier.as_str(), letter.job.id), Vec::new());
    tx.note(CommitNote::JobGone(key));
    Ok(())
}

/// Records an attempt of the job at `key`: removed when delivered, rescheduled on a
/// retryable failure (dead after `max_attempts`), dead-lettered on a permanent one.
/// Returns the job as it was, or `None` if it is no longer queued.
pub fn record_outcome(
    tx: &mut Tx<'_>,
    key: &Key,
    outcome: DeliveryOutcome,
    now: Timestamp,
    max_attempts: u32,
) -> Result<Option<Job>, StoreError> {
    let Some(mut job) = tx.get_json::<Job>(key)? else { return Ok(None) };
    let before = job.clone();
    job.attempts += 1;
    match outcome {
        DeliveryOutcome::Delivered => {
            tx.remove(key);
            tx.note(CommitNote::JobGone(key.clone()));
        }
        DeliveryOutcome::Dead { error } => bury(tx, job, error, now)?,
        DeliveryOutcome::Retry { error, .. } if job.attempts >= max_attempts => {
            bury(tx, job, format!("{error} (gave up after {max_attempts} attempts)"), now)?
        }
        DeliveryOutcome::Retry { error, not_before } => {
            job.last_error = Some(error);
            job.not_before = not_before;
            tx.put_json(key, &job)?;
            tx.note(CommitNote::Job(key.clone()));
        }
    }
    Ok(Some(before))
}

/// Leases up to `max` of a pull desk's jobs for `visibility`, oldest first. A job
/// whose dossier already has an earlier job leased waits, so one dossier's jobs
/// reach the desk in order.
pub fn lease_inbox(
    tx: &mut Tx<'_>,
    desk: &str,
    max: usize,
    now: Timestamp,
    visibility: SignedDuration,
) -> Result<Vec<Job>, StoreError> {
    let destination = Destination::Desk(desk.to_owned());
    let mut held: std::collections::HashSet<DossierCode> = std::collections::HashSet::new();
    let mut leased = Vec::new();
    let mut pages = Pages::new(destination.prefix());
    while leased.len() < max
        && let Some((key, value)) = pages.next(tx)?
    {
        let mut job: Job = crate::decode(&key, &value)?;
        if job.leased_until.is_some_and(|until| until > now) {
            held.insert(job.dossier.clone());
            continue;
        }
        if held.contains(&job.dossier) || job.not_before > now {
            held.insert(job.dossier.clone());
            continue;
        }
        job.leased_until = Some(now + visibility);
        job.attempts += 1;
        tx.put_json(&key, &job)?;
        tx.note(CommitNote::Job(key));
        // Its dossier's later jobs wait for this one, in this lease too.
        held.insert(job.dossier.clone());
        leased.push(job);
    }
    Ok(leased)
}

/// What an acknowledgement found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxItem {
    /// The job was removed now.
    Acknowledged(Job),
    /// It had been acknowledged before.
    AlreadyAcknowledged,
    /// The desk has no such item.
    Unknown,
}

fn ack_mark(desk: &str, item: &str) -> Key {
    keys::ack(desk, item)
}

/// Acknowledges a pull desk's item: a dossier by its code, a notice by its id. The
/// queued item is looked for first, so a dossier that comes back to a desk (forwarded
/// away and back) is acknowledged again; only an item no longer queued is checked
/// against the acknowledgements made before.
pub fn acknowledge(tx: &mut Tx<'_>, desk: &str, item: &str) -> Result<InboxItem, StoreError> {
    let mark = ack_mark(desk, item);
    let destination = Destination::Desk(desk.to_owned());
    let by_id = item.parse::<u64>().ok();
    let mut found = None;
    let mut pages = Pages::new(destination.prefix());
    while let Some((key, value)) = pages.next(tx)? {
        let job: Job = crate::decode(&key, &value)?;
        let matches = match by_id {
            Some(id) => job.id == id && !job.acknowledged_by_code(),
            None => job.acknowledged_by_code() && job.dossier.as_str() == item,
        };
        if matches {
            found = Some((key, job));
            break;
        }
    }
    let Some((key, job)) = found else {
        return Ok(if tx.get(&mark)?.is_some() { InboxItem::AlreadyAcknowledged } else { InboxItem::Unknown });
    };
    tx.remove(&key);
    tx.note(CommitNote::JobGone(key));
    tx.put(&mark, Vec::new());
    Ok(InboxItem::Acknowledged(job))
}

/// Removes dead letter `id` of dossier `code` (replayed, or made good by a later sync).
pub fn forget_dead(tx: &mut Tx<'_>, id: u64, code: &str) {
    tx.remove(&keys::dead(id));
    tx.remove(&keys::dead_of(code, id));
}

/// Puts dead letter `id` back into the outbox with a fresh attempt count, at the tail
/// under a new id: behind whatever its dossier has queued since, so that a dossier's
/// jobs still go one at a time (kept under its old id, it would be leased while a newer
/// job of its dossier is held — a case the store's model test found).
pub fn replay(tx: &mut Tx<'_>, id: u64, now: Timestamp) -> Result<Option<Job>, StoreError> {
    let Some(letter) = tx.get_json::<DeadLetter>(&keys::dead(id))? else { return Ok(None) };
    forget_dead(tx, id, letter.job.dossier.as_str());
    let mut job = letter.job;
    job.id = tx.next_counter(&keys::job_seq())?;
    job.attempts = 0;
    job.not_before = now;
    job.leased_until = None;
    let key = key(&job.destination, job.id);
    tx.put_json(&key, &job)?;
    tx.note(CommitNote::Job(key));
    Ok(Some(job))
}
