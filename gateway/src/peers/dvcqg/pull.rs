//! The pull of dossiers the national portal only lists (docs/PORTAL.md, "Pull"):
//! every round, for each configured unit, list the dossiers received from the cursor's
//! day (less a look-back) to today (`DanhSachHoSo`), and for each one not yet taken
//! fetch its details (`TraCuuHoSo`) and the files its row names (`LayTaiLieuHoSo`),
//! merge row, details and files into one record, and take it in. The pull services
//! have their own URL, account and session (`Outbound::dvcqg_pull`).
//!
//! The portal's code is the idempotency key, so a dossier is taken once whichever way
//! it came. One listed dossier never holds up the others: one the gateway refuses, one
//! listed or detailed under another unit, one whose details name another dossier, or
//! one the portal gives no details or files of, is set aside with why (`crate::aside`)
//! and tried again later, and the round goes on; the cursor, kept in the store, moves
//! to today once the list has been read through.

use jiff::civil::Date;
use motcua_adapters::dvcqg::{DvcqgClient, SyncOutcome, pulled};
use serde_json::{Map, Value};
use tokio::sync::watch;

use super::intake as portal_intake;
use crate::aside::{self, Kind, SetAside, Source};
use crate::core::Core;
use crate::dossiers::intake::IntakeError;
use crate::metrics::IntakeLabels;
use crate::settings::dvcqg::PullSettings;
use crate::store::keys::{self, pull_cursor as cursor_key};

/// Items set aside tried again per round and unit, at most.
const RETRIED_PER_ROUND: usize = 100;

/// What one round of one unit came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Dossiers listed.
    pub listed: usize,
    /// Dossiers taken in now.
    pub taken: usize,
    /// Dossiers set aside now (refused, or failed).
    pub set_aside: usize,
    /// Rows skipped for want of a date (read again next round).
    pub undated: usize,
    /// The cursor moved to today.
    pub advanced: bool,
}

fn text(item: &Map<String, Value>, key: &str) -> Option<String> {
    item.get(key)?.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn params(pairs: &[(&str, String)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect()
}

fn reason(outcome: SyncOutcome) -> String {
    match outcome {
        SyncOutcome::Retry { reason, .. } | SyncOutcome::Rejected { reason } => reason,
        SyncOutcome::Done { .. } => "no answer".into(),
    }
}

/// Why one listed dossier was not taken.
enum NotTaken {
    /// The gateway will not take it as it is.
    Refused(String),
    /// It could not be taken now.
    Failed(String),
}

/// Fetches the details of `code`, listed under `unit`.
async fn details(client: &DvcqgClient, unit: &str, code: &str) -> Result<Map<String, Value>, NotTaken> {
    let found = client.list("TraCuuHoSo", params(&[("donViXuLy", unit.into()), ("mahoso", code.into())])).await;
    let found = found.map_err(|o| NotTaken::Failed(format!("the details could not be fetched: {}", reason(o))))?;
    let Some(Value::Object(detail)) = found.into_iter().next() else {
        return Err(NotTaken::Failed("the portal lists the dossier but gives no details of it".into()));
    };
    // The details must be those of the dossier listed: a detail naming another
    // dossier would otherwise rewrite that one.
    let named = text(&detail, "MaHoSo");
    if named.as_deref() != Some(code) {
        return Err(NotTaken::Refused(format!(
            "the details name another dossier ({}) than the one listed",
            named.unwrap_or_else(|| "none".into())
        )));
    }
    Ok(detail)
}

/// Refuses a row or detail naming another unit than the one it was listed under: a
/// unit's list may only bring that unit's dossiers.
fn same_unit(obj: &Map<String, Value>, unit: &str, what: &str) -> Result<(), NotTaken> {
    match pulled::named_unit(obj) {
        Some(named) if named != unit => {
            Err(NotTaken::Refused(format!("listed under {unit}, its {what} names another unit ({named})")))
        }
        _ => Ok(()),
    }
}

/// Fetches the contents of the files a listed row names.
async fn files(
    client: &DvcqgClient,
    unit: &str,
    row: &Map<String, Value>,
) -> Result<Vec<(pulled::ListedFile, String)>, NotTaken> {
    let listed = pulled::listed_files(row).map_err(NotTaken::Refused)?;
    let mut contents = Vec::with_capacity(listed.len());
    for file in listed {
        let query = params(&[("donViXuLy", unit.into()), ("duongdanteptin", file.path.clone())]);
        let answer = client
            .list("LayTaiLieuHoSo", query)
            .await
            .map_err(|o| NotTaken::Failed(format!("a document could not be fetched: {}", reason(o))))?;
        let Some(content) = pulled::file_content(&answer) else {
            return Err(NotTaken::Failed(format!("the portal gave no content for the document {}", file.name)));
        };
        contents.push((file, content));
    }
    Ok(contents)
}

/// Whether the configuration takes the procedure of `detail` (every one when none
/// are named); a procedure is named by its national code or in full.
fn wanted(pull: &PullSettings, detail: &Map<String, Value>) -> bool {
    if pull.procedures.is_empty() {
        return true;
    }
    let Some(code) = text(detail, "MaTTHC") else { return true };
    let national = code.parse::<motcua_schemas::ProcedureCode>().ok().map(|c| c.national().to_owned());
    pull.procedures.iter().any(|p| *p == code || Some(p) == national.as_ref())
}

async fn take(app: &Core, detail: &Map<String, Value>, unit: &str, client_id: &str) -> Result<(), NotTaken> {
    let settings = app.settings();
    match portal_intake::take(&app.store, settings, app.clock.clone(), detail, Some(unit), client_id, true).await {
        Ok(outcome) => {
            let labels =
                IntakeLabels { channel: "dvcqg_pull".to_owned(), outcome: portal_intake::label(&outcome).to_owned() };
            app.metrics.intake.get_or_create(&labels).inc();
            Ok(())
        }
        Err(IntakeError::Invalid(errors)) => Err(NotTaken::Refused(portal_intake::describe(&errors))),
        Err(IntakeError::Conflict(message)) => Err(NotTaken::Refused(message)),
        Err(IntakeError::NotYours) => {
            app.metrics.foreign_updates.inc();
            Err(NotTaken::Refused("the portal's code names a dossier another client submitted".into()))
        }
        Err(e) => Err(NotTaken::Failed(e.to_string())),
    }
}

/// Takes one listed dossier: its details, its files, then intake. `Ok(false)`: a
/// procedure the configuration does not take.
async fn pull_one(
    app: &Core,
    client: &DvcqgClient,
    pull: &PullSettings,
    unit: &str,
    code: &str,
    row: &Value,
) -> Result<bool, NotTaken> {
    let Some(row) = row.as_object() else { return Err(NotTaken::Refused("the listed row is not an object".into())) };
    same_unit(row, unit, "row")?;
    let detail = details(client, unit, code).await?;
    same_unit(&detail, unit, "details")?;
    if !wanted(pull, &detail) {
        return Ok(false);
    }
    let contents = files(client, unit, row).await?;
    let record = pulled::merge(row, &detail, &contents);
    take(app, &record, unit, &pull.client).await.map(|()| true)
}

/// Sets `code` aside (or counts another try of it), or forgets it once taken.
async fn settle(
    app: &Core,
    unit: &str,
    code: &str,
    row: &Value,
    outcome: Result<bool, NotTaken>,
) -> Result<bool, String> {
    let settings = app.settings();
    let now = app.clock.now();
    let network_unit = settings
        .dvcqg()
        .and_then(|d| motcua_adapters::dvcqg::inbound::UnitMap::unit(&d.units, unit))
        .map(|u| u.to_string());
    let (code, row, digest, unit) = (code.to_owned(), row.clone(), settings.digest.clone(), unit.to_owned());
    let aside = match outcome {
        Ok(_) => None,
        Err(NotTaken::Refused(reason)) => Some((Kind::Refused, reason)),
        Err(NotTaken::Failed(reason)) => Some((Kind::Failed, reason)),
    };
    let taken = aside.is_none();
    if let Some((kind, _)) = &aside {
        // Named by code only: the reasons may quote the applicant.
        tracing::warn!(dossier = %code, ?kind, "a pulled dossier was set aside");
        app.metrics.aside(Source::DvcqgPull, *kind);
    }
    app.store
        .write(move |tx| -> Result<(), crate::store::StoreError> {
            match aside {
                None => aside::remove(tx, Source::DvcqgPull, &code),
                Some((kind, reason)) => {
                    let entry = SetAside {
                        source: Source::DvcqgPull,
                        id: &code,
                        kind,
                        reason: &reason,
                        unit: network_unit,
                        item: serde_json::json!({ "unit": unit, "row": row }),
                        settings: &digest,
                    };
                    aside::put(tx, entry, now)?;
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(taken)
}

/// Tries again the dossiers of `unit` set aside whose time has come.
async fn retry_set_aside(app: &Core, client: &DvcqgClient, pull: &PullSettings, unit: &str) -> Result<usize, String> {
    let settings = app.settings();
    let due = aside::due(&app.store, Source::DvcqgPull, app.clock.now(), &settings.digest, usize::MAX)
        .map_err(|e| e.to_string())?;
    let mut taken = 0;
    for item in
        due.into_iter().filter(|a| a.item.get("unit").and_then(Value::as_str) == Some(unit)).take(RETRIED_PER_ROUND)
    {
        let row = item.item.get("row").cloned().unwrap_or(Value::Null);
        let outcome = pull_one(app, client, pull, unit, &item.id, &row).await;
        if settle(app, unit, &item.id, &row, outcome).await? {
            taken += 1;
        }
    }
    Ok(taken)
}

/// One round for one unit.
pub async fn round(app: &Core, client: &DvcqgClient, pull: &PullSettings, unit: &str) -> Result<Round, String> {
    let today = motcua_schemas::time::to_vn(app.clock.now()).date();
    let cursor: Option<Date> = app
        .store
        .get(&cursor_key(unit))
        .map_err(|e| e.to_string())?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|d| d.parse().ok());
    let start = cursor.unwrap_or(today);
    let from = start.checked_sub(jiff::Span::new().days(i64::from(pull.lookback_days))).unwrap_or(start);
    let query = params(&[
        ("donViXuLy", unit.into()),
        ("ngayNhan1", from.strftime("%Y-%m-%d").to_string()),
        ("ngayNhan2", today.strftime("%Y-%m-%d").to_string()),
    ]);
    let listed = client.list("DanhSachHoSo", query).await.map_err(reason)?;
    let mut round = Round { listed: listed.len(), ..Round::default() };
    round.taken += retry_set_aside(app, client, pull, unit).await?;
    for item in &listed {
        let row = item.as_object();
        let code =
            row.and_then(pulled::listed_code).filter(|c| motcua_adapters::portal::inbound::valid_submission_id(c));
        let (Some(row), Some(code)) = (row, code) else {
            app.metrics.pull_skipped.inc();
            continue;
        };
        // A row without its date is skipped as the portal's own clients skip it: it is
        // listed again next round, and holds up neither the round nor the cursor.
        if !pulled::is_dated(row) {
            app.metrics.pull_skipped.inc();
            round.undated += 1;
            continue;
        }
        let taken = app.store.get(&keys::portal_submission(&code)).map_err(|e| e.to_string())?;
        if taken.is_some() || aside::contains(&app.store, Source::DvcqgPull, &code).map_err(|e| e.to_string())? {
            continue;
        }
        let outcome = pull_one(app, client, pull, unit, &code, item).await;
        let wanted = !matches!(outcome, Ok(false));
        match settle(app, unit, &code, item, outcome).await? {
            true if wanted => round.taken += 1,
            true => {}
            false => round.set_aside += 1,
        }
    }
    if cursor != Some(today) {
        let (key, value) = (cursor_key(unit), today.to_string().into_bytes());
        app.store
            .write(move |tx| -> Result<(), crate::store::StoreError> {
                tx.put(&key, value);
                Ok(())
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    round.advanced = true;
    Ok(round)
}

/// Starts the poller, supervised, when the portal is pulled from.
pub fn start(app: Core, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (tasks, panics) = (app.tasks.clone(), app.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("dvcqg_pull", tasks, panics, stop, move || {
        let (app, shutdown) = (app.clone(), shutdown.clone());
        async move { run(app, shutdown).await }
    })
}

async fn run(app: Core, mut shutdown: watch::Receiver<bool>) {
    // The alert on a stalled pull counts from the task's start until a round succeeds.
    let mut started = true;
    loop {
        let settings = app.settings();
        let dvcqg = settings.dvcqg();
        let pull = dvcqg.and_then(|d| d.pull.as_ref());
        let outbound = app.outbound();
        let wait = pull.map_or(std::time::Duration::from_secs(60), |p| p.interval);
        if let (Some(pull), Some(client)) = (pull, outbound.dvcqg_pull()) {
            let mut every_unit_pulled = true;
            for unit in &pull.units {
                let outcome = round(&app, client, pull, unit).await;
                every_unit_pulled &= outcome.is_ok();
                match outcome {
                    Ok(r) if r.taken + r.set_aside + r.undated > 0 => {
                        tracing::info!(
                            unit,
                            listed = r.listed,
                            taken = r.taken,
                            set_aside = r.set_aside,
                            undated = r.undated,
                            "pulled the portal's dossiers"
                        );
                    }
                    Ok(_) => {}
                    Err(why) => {
                        let cause = motcua_adapters::outbound::loggable_cause(&why).to_owned();
                        tracing::warn!(unit, %cause, "the portal's dossiers could not be pulled; the cursor stays");
                    }
                }
            }
            if every_unit_pulled || started {
                app.metrics.round_ok(crate::aside::Source::DvcqgPull, app.clock.now().as_second(), wait);
            }
            started = false;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
