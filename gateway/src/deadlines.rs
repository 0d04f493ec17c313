//! The deadline clock (docs/DOMAIN.md §6, §1): a task that fires the marks waiting in the
//! persisted schedule — due soon, overdue, explanation missing — as their time
//! comes, and catches up at start on everything that fell due while the gateway was
//! down.
//!
//! The schedule is a key space ordered by time (docs/ARCHITECTURE.md §3, after mini-redis's
//! `db.rs`): the task reads only its first entries, sleeps until the next one or
//! until a commit announces an earlier one. Firing a mark is one store command that
//! removes the entry and records the mark, so each mark happens exactly once, across
//! restarts too. A mark whose dossier has moved on (resolved, paused, due time
//! changed) is simply dropped: every save of a dossier re-plans its marks.

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;
use motcua_schemas::{DossierCode, EventType};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::core::Core;
use crate::dossiers::{
    DossierRecord, events,
    record::{MarkKind, ScheduledMark},
};
use crate::outbox::{self, NoticeKind};
use crate::settings::Settings;
use crate::store::{CommitNote, Key, Store, StoreError, Tx, keys};

/// Marks fired per store command.
const MARKS_PER_COMMAND: usize = 64;

fn parse_key(key: &Key) -> Option<(Timestamp, DossierCode, MarkKind)> {
    let (at, code, kind) = keys::parse_schedule(key)?;
    let at = Timestamp::from_second(at).ok()?;
    let kind = match kind {
        "due_soon" => MarkKind::DueSoon,
        "overdue" => MarkKind::Overdue,
        "explanation_missing" => MarkKind::ExplanationMissing,
        _ => return None,
    };
    Some((at, code.parse().ok()?, kind))
}

/// Fires one mark of the schedule, if it still stands.
fn fire(tx: &mut Tx<'_>, settings: &Settings, key: &Key, now: Timestamp) -> Result<(), StoreError> {
    tx.remove(key);
    let Some((at, code, kind)) = parse_key(key) else { return Ok(()) };
    let Some(mut record) = DossierRecord::load(tx, &code)? else { return Ok(()) };
    if !record.compliance.scheduled.contains(&ScheduledMark { kind, at }) {
        return Ok(());
    }
    record.compliance.scheduled.retain(|m| *m != ScheduledMark { kind, at });
    let desk = record.dossier.desk.clone();
    let centre = settings.deadlines.centre_desk.clone();
    match kind {
        MarkKind::DueSoon => {
            record.compliance.due_soon_sent = true;
            events::note(&mut record, now, "Hồ sơ sắp đến hạn trả kết quả".into(), json!({ "mark": "due_soon" }));
            outbox::notice(tx, &desk, NoticeKind::DueSoon, &record.dossier, now)?;
        }
        MarkKind::Overdue => {
            let apologized_in_time =
                record.dossier.history.iter().any(|h| h.kind == EventType::Apology && h.at <= record.dossier.due_at);
            record.dossier.overdue = true;
            record.compliance.overdue_at = Some(at);
            record.compliance.apology_missing = !apologized_in_time;
            let seq = events::note(
                &mut record,
                now,
                "Hồ sơ quá hạn giải quyết".into(),
                json!({ "mark": "overdue", "apologized": apologized_in_time }),
            );
            crate::peers::portal::marked(tx, settings, &record.dossier, seq, now)?;
            outbox::notice(tx, &desk, NoticeKind::Overdue, &record.dossier, now)?;
            if let Some(centre) = centre.filter(|c| *c != desk) {
                outbox::notice(tx, &centre, NoticeKind::Overdue, &record.dossier, now)?;
            }
        }
        MarkKind::ExplanationMissing => {
            record.compliance.explanation_missing = true;
            events::note(
                &mut record,
                now,
                "Chưa có báo cáo giải trình việc trễ hạn".into(),
                json!({ "mark": "explanation_missing" }),
            );
            if let Some(centre) = centre {
                outbox::notice(tx, &centre, NoticeKind::ExplanationMissing, &record.dossier, now)?;
            }
        }
    }
    record.save(tx, settings, now)
}

/// What one round of the clock did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fired {
    /// Schedule entries handled (fired, dropped as stale, or held).
    pub handled: usize,
    /// Entries that could not be fired, moved aside with the held items: each with
    /// its dossier code, mark and reason.
    pub held: Vec<(String, &'static str, String)>,
}

/// Fires every mark due at `now`, a batch of marks per store command. A mark that
/// cannot be fired (its dossier cannot be saved) fails alone: it is moved aside with
/// its reason and the others go on, so one dossier never stalls the clock.
pub async fn fire_due(store: &Store, settings: Arc<Settings>, now: Timestamp) -> Result<Fired, StoreError> {
    let mut fired = Fired::default();
    loop {
        let due: Vec<Key> = store
            .range(&keys::due_by(now.as_second()))
            .take(MARKS_PER_COMMAND)
            .map(|item| item.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        if due.is_empty() {
            return Ok(fired);
        }
        fired.handled += due.len();
        let settings = settings.clone();
        let held = store
            .write(move |tx| -> Result<_, StoreError> {
                let mut held = Vec::new();
                for key in &due {
                    if let Err(e) = tx.attempt(|tx| fire(tx, &settings, key, now)) {
                        tx.remove(key);
                        tx.put_json(&keys::held_mark(key), &json!({ "reason": e.to_string(), "at": now.to_string() }))?;
                        let (code, kind) = parse_key(key)
                            .map_or(("?".to_owned(), "?"), |(_, code, kind)| (code.to_string(), kind.as_str()));
                        held.push((code, kind, e.to_string()));
                    }
                }
                Ok(held)
            })
            .await??;
        fired.held.extend(held);
    }
}

/// When the next mark falls due, if any.
fn next_due(store: &Store) -> Option<Timestamp> {
    let (key, _) = store.scan_prefix(&keys::schedules()).next()?.ok()?;
    parse_key(&key).map(|(at, _, _)| at)
}

/// Starts the clock over the schedule, supervised; `notes` announce new entries.
pub fn start(
    app: Core,
    notes: mpsc::UnboundedReceiver<CommitNote>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let notes = Arc::new(tokio::sync::Mutex::new(notes));
    let (tasks, panics) = (app.tasks.clone(), app.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("deadline_clock", tasks, panics, stop, move || {
        let (app, notes, shutdown) = (app.clone(), notes.clone(), shutdown.clone());
        async move { run(app, &mut *notes.lock().await, shutdown).await }
    })
}

async fn run(app: Core, notes: &mut mpsc::UnboundedReceiver<CommitNote>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let now = app.clock.now();
        match fire_due(&app.store, app.settings(), now).await {
            Ok(fired) => {
                for (code, mark, reason) in fired.held {
                    app.metrics.marks_held.inc();
                    tracing::error!(%code, mark, %reason, "a deadline mark could not be fired; kept aside");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the deadline clock could not fire its marks; retrying shortly");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        }
        let wait = next_due(&app.store)
            .map(|at| Duration::try_from(at.duration_since(app.clock.now())).unwrap_or_default())
            .unwrap_or(Duration::from_secs(3600))
            .clamp(Duration::from_millis(10), Duration::from_secs(60));
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                note = notes.recv() => match note {
                    Some(CommitNote::Schedule(at)) if at <= app.clock.now().as_second() + wait.as_secs() as i64 => break,
                    Some(_) => {}
                    None => return,
                },
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }
}
