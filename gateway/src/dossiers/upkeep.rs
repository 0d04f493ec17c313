//! Saving a dossier record, and what follows from its state, kept in step each time
//! it is saved:
//! its entries in the deadline schedule, its secondary indexes, and the statistics.
//! Each is derived by comparing the new state with a small summary of the state last
//! saved, so no caller has to remember which counters an event moves.

use jiff::Timestamp;
use motcua_schemas::{Status, time::to_vn};

use super::json::DossierJson;
use super::record::{DossierRecord, MAX_RECORD_BYTES, MarkKind, ScheduledMark, Summary};
use crate::settings::Settings;
use crate::stats;
use crate::store::{CommitNote, Key, StoreError, Tx, keys};

impl DossierRecord {
    /// Writes the record and keeps what depends on it in step (schedule, indexes,
    /// statistics).
    pub fn save(&mut self, tx: &mut Tx<'_>, settings: &Settings, now: Timestamp) -> Result<(), StoreError> {
        self.save_within(tx, settings, now, MAX_RECORD_BYTES)
    }

    /// As `save`, refusing a record larger than `limit` bytes as stored (intake uses
    /// a lower limit than later saves, so that every record has room to grow).
    pub fn save_within(
        &mut self,
        tx: &mut Tx<'_>,
        settings: &Settings,
        now: Timestamp,
        limit: usize,
    ) -> Result<(), StoreError> {
        self.save_keeping_json(tx, settings, now, limit).map(drop)
    }

    /// As `save_within`, keeping the JSON the record was written with, so that the
    /// dossier can be answered without being serialized again.
    pub fn save_keeping_json(
        &mut self,
        tx: &mut Tx<'_>,
        settings: &Settings,
        now: Timestamp,
        limit: usize,
    ) -> Result<Option<DossierJson>, StoreError> {
        super::seal::seal(tx, self, settings.audit.periods, now)?;
        before_save(tx, settings, self, now)?;
        let json = crate::store::encode_record_json(self)?;
        let bytes = crate::store::compress_json(&json);
        if bytes.len() > limit {
            return Err(StoreError::TooLarge { bytes: bytes.len(), limit });
        }
        tx.put(&keys::dossier(self.dossier.code.as_str()), bytes);
        Ok(DossierJson::within(json))
    }
}

/// The schedule key of a mark: big-endian seconds, then the dossier code and kind.
pub fn schedule_key(at: Timestamp, code: &str, kind: MarkKind) -> Key {
    keys::schedule(at.as_second(), code, kind.as_str())
}

/// The mark the dossier should have waiting in the schedule now: only the next one,
/// since firing a mark saves the dossier and so plans the mark after it. One entry
/// per dossier rather than one per mark keeps a store of a million dossiers a million
/// keys smaller.
pub fn desired_marks(record: &DossierRecord, settings: &Settings) -> Vec<ScheduledMark> {
    let (d, c, cal) = (&record.dossier, &record.compliance, &settings.calendar);
    let mut marks = Vec::new();
    let running = d.status.is_open() && !record.deadline.is_paused();
    if running && c.overdue_at.is_none() {
        if !c.due_soon_sent {
            let lead = settings.deadlines.due_soon_lead.to_duration(cal);
            let warn = motcua_schemas::time::from_vn(cal.sub(to_vn(d.due_at), lead));
            // When the whole processing time lies within the lead there is nothing
            // "soon" to warn of: the overdue mark follows.
            if warn > d.received_at {
                marks.push(ScheduledMark { kind: MarkKind::DueSoon, at: warn });
            }
        }
        marks.push(ScheduledMark { kind: MarkKind::Overdue, at: d.due_at });
    }
    if c.overdue_at.is_some() && !c.explained && !c.explanation_missing {
        let grace = settings.deadlines.explanation_grace.to_duration(cal);
        let at = motcua_schemas::time::from_vn(cal.add(to_vn(d.due_at), grace));
        marks.push(ScheduledMark { kind: MarkKind::ExplanationMissing, at });
    }
    marks.truncate(1);
    marks
}

fn plan_schedule(tx: &mut Tx<'_>, settings: &Settings, record: &mut DossierRecord) {
    let desired = desired_marks(record, settings);
    let code = record.dossier.code.to_string();
    for old in &record.compliance.scheduled {
        if !desired.contains(old) {
            tx.remove(&schedule_key(old.at, &code, old.kind));
        }
    }
    for new in &desired {
        if !record.compliance.scheduled.contains(new) {
            tx.put(&schedule_key(new.at, &code, new.kind), Vec::new());
            tx.note(CommitNote::Schedule(new.at.as_second()));
        }
    }
    record.compliance.scheduled = desired;
}

fn index_keys(code: &str, s: &Summary) -> Vec<Key> {
    let mut index = vec![keys::status(s.status.code(), code)];
    if s.open_overdue() {
        index.push(keys::overdue(code));
    }
    index
}

/// The time a resolution is judged by: the one the desk reported, unless it was
/// reported more than `tolerance` after it, then the time it reached the gateway (and
/// `true`, so that such reports are counted).
fn judged_time(reported: Timestamp, received: Timestamp, tolerance: jiff::SignedDuration) -> (Timestamp, bool) {
    match received.duration_since(reported) {
        delay if delay > tolerance => (received, true),
        _ => (reported, false),
    }
}

/// How a resolution at `at` compares with the due time (docs/DOMAIN.md §8).
fn resolution(at: Timestamp, due: Timestamp) -> fn(&mut stats::DayStats) {
    if at > due {
        |d| d.resolved_late += 1
    } else if to_vn(at).date() < to_vn(due).date() {
        |d| d.resolved_before_due += 1
    } else {
        |d| d.resolved_on_due += 1
    }
}

fn update_stats(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &DossierRecord,
    old: Option<&Summary>,
    new: &Summary,
    now: Timestamp,
) -> Result<(), StoreError> {
    let today = to_vn(now).date();
    let tolerance =
        jiff::SignedDuration::from_secs(i64::try_from(settings.deadlines.report_tolerance_secs).unwrap_or(i64::MAX));
    let d = &record.dossier;
    let Some(old) = old else {
        stats::update(tx, &new.unit, to_vn(d.received_at).date(), |s| {
            s.received += 1;
            s.add_agency(d.code.agency().as_ref());
            if new.status.is_open() {
                s.open_change += 1;
            }
            s.digitized_dossiers += u64::from(new.digitized);
        })?;
        return Ok(());
    };
    // State counters move with the dossier: out of the old state, into the new.
    let (was_open, is_open) = (old.status.is_open(), new.status.is_open());
    let (was_overdue, is_overdue) = (old.open_overdue(), new.open_overdue());
    if old.unit != new.unit {
        // A dossier forwarded here is found in this unit's log book by its code.
        stats::update(tx, &new.unit, to_vn(d.received_at).date(), |s| s.add_agency(d.code.agency().as_ref()))?;
    }
    if was_open != is_open || old.unit != new.unit || was_overdue != is_overdue {
        stats::update(tx, &old.unit, today, |s| {
            s.open_change -= i64::from(was_open);
            s.open_overdue_change -= i64::from(was_overdue);
        })?;
        stats::update(tx, &new.unit, today, |s| {
            s.open_change += i64::from(is_open);
            s.open_overdue_change += i64::from(is_overdue);
        })?;
    }
    if old.status != new.status {
        match new.status {
            Status::Processed => {
                let (at, late_report) = d
                    .history
                    .iter()
                    .rev()
                    .find(|h| h.status_after == Status::Processed)
                    .map_or((now, false), |h| judged_time(h.at, h.recorded_at, tolerance));
                stats::update(tx, &new.unit, to_vn(at).date(), resolution(at, d.due_at))?;
                if late_report {
                    stats::update(tx, &new.unit, today, |s| s.late_reports += 1)?;
                }
            }
            Status::NotReceived => stats::update(tx, &new.unit, today, |s| s.refused += 1)?,
            Status::Withdrawn => stats::update(tx, &new.unit, today, |s| s.withdrawn += 1)?,
            Status::Stopped => stats::update(tx, &new.unit, today, |s| s.stopped += 1)?,
            _ => {}
        }
    }
    if new.apologies > old.apologies {
        let more = u64::from(new.apologies - old.apologies);
        stats::update(tx, &new.unit, today, |s| s.apologies += more)?;
    }
    if new.apology_missing && !old.apology_missing {
        stats::update(tx, &new.unit, today, |s| s.apologies_missing += 1)?;
    }
    if new.explanation_missing && !old.explanation_missing {
        stats::update(tx, &new.unit, today, |s| s.explanations_missing += 1)?;
    }
    if new.digitized && !old.digitized {
        stats::update(tx, &new.unit, today, |s| s.digitized_dossiers += 1)?;
    }
    if new.results_digitized && !old.results_digitized {
        stats::update(tx, &new.unit, today, |s| s.digitized_results += 1)?;
    }
    if let (None, Some(level)) = (old.rating, new.rating)
        && (1..=3).contains(&level)
    {
        stats::update(tx, &new.unit, today, |s| s.ratings[usize::from(level - 1)] += 1)?;
    }
    Ok(())
}

/// Brings the schedule, indexes and statistics in step with `record` before it is
/// written.
pub fn before_save(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &mut DossierRecord,
    now: Timestamp,
) -> Result<(), StoreError> {
    plan_schedule(tx, settings, record);
    let code = record.dossier.code.to_string();
    let old = record.saved.take();
    let new = Summary::of(record);
    record.saved = Some(new.clone());
    if old.as_ref() == Some(&new) {
        return Ok(());
    }
    if let Some(old) = &old {
        for key in index_keys(&code, old) {
            tx.remove(&key);
        }
    }
    for key in index_keys(&code, &new) {
        tx.put(&key, new.unit.as_str().as_bytes().to_vec());
    }
    update_stats(tx, settings, record, old.as_ref(), &new, now)
}
