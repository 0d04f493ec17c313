//! The pull of dossiers the national portal only lists (docs/PEERS.md §1.10, pull):
//! every round, for each configured unit, log in, list the dossiers received from the
//! cursor's day (less a look-back) to today (`DanhSachHoSo`), and for each one not yet
//! taken fetch its details (`TraCuuHoSo`) and documents (`LayTaiLieuHoSo`) and take it
//! in. The portal's code is the idempotency key, so a dossier is taken once whichever
//! way it came; the cursor, kept in the store, moves to today only when every listed
//! dossier of the window is settled, so a restart neither skips nor repeats.

use std::sync::Arc;

use jiff::civil::Date;
use motcua_adapters::dvcqg::{DvcqgClient, SyncOutcome};
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::app::App;
use crate::dossiers::{intake::IntakeError, portal_intake};
use crate::metrics::IntakeLabels;
use crate::settings::dvcqg::PullSettings;
use crate::store::Space;

/// What one round of one unit came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Dossiers listed.
    pub listed: usize,
    /// Dossiers taken in now.
    pub taken: usize,
    /// Dossiers refused (invalid; not asked for again).
    pub refused: usize,
    /// The cursor moved to today.
    pub advanced: bool,
}

use crate::store::keys::{pull_cursor as cursor_key, pull_refused as refused_key};

fn text(item: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| item.get(*k)?.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned))
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

/// Fetches the details of `code` with its documents' contents.
async fn details(client: &DvcqgClient, unit: &str, code: &str) -> Result<Option<Map<String, Value>>, String> {
    let found = client.list("TraCuuHoSo", params(&[("mahoso", code.into()), ("donViXuLy", unit.into())])).await;
    let Some(Value::Object(mut detail)) = found.map_err(reason)?.into_iter().next() else { return Ok(None) };
    if let Some(Value::Array(documents)) = detail.get_mut("TaiLieuNop") {
        for doc in documents.iter_mut() {
            let Some(doc) = doc.as_object_mut() else { continue };
            let path = doc.get("DuongDanTaiTepTin").and_then(Value::as_str).map(str::to_owned);
            if doc.contains_key("Base64") || path.is_none() {
                continue;
            }
            let query = params(&[("donViXuLy", unit.into()), ("duongdanteptin", path.unwrap_or_default())]);
            let files = client.list("LayTaiLieuHoSo", query).await.map_err(reason)?;
            if let Some(data) = files.first().and_then(|f| f.get("Base64")).and_then(Value::as_str) {
                doc.insert("Base64".into(), data.into());
            }
        }
    }
    Ok(Some(detail))
}

/// One round for one unit.
pub async fn round(app: &App, client: &DvcqgClient, pull: &PullSettings, unit: &str) -> Result<Round, String> {
    let today = motcua_schemas::time::to_vn(app.clock.now()).date();
    let cursor: Option<Date> = app
        .store
        .get(Space::Meta, &cursor_key(unit))
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
    for item in &listed {
        let Some(code) = text(item, &["MaHoSo", "maHoSo"]) else { continue };
        let procedure = text(item, &["MaTTHC", "maTTHC"]);
        if !pull.procedures.is_empty() && procedure.as_ref().is_some_and(|p| !pull.procedures.contains(p)) {
            continue;
        }
        let taken = app.store.get(Space::Idempotency, format!("dvcqg:{code}").as_bytes()).map_err(|e| e.to_string())?;
        let refused = app.store.get(Space::Meta, &refused_key(&code)).map_err(|e| e.to_string())?;
        if taken.is_some() || refused.is_some() {
            continue;
        }
        let Some(detail) = details(client, unit, &code).await? else {
            return Err(format!("the portal lists {code} but has no details of it"));
        };
        match take(app, &detail, unit).await {
            Ok(()) => round.taken += 1,
            Err(Taken::Refused(why)) => {
                // Named by code only: the reasons may quote the applicant.
                tracing::warn!(dossier = %code, "a pulled dossier was refused");
                app.store
                    .write({
                        let key = refused_key(&code);
                        move |tx| -> Result<(), crate::store::StoreError> {
                            tx.put(Space::Meta, &key, why.into_bytes());
                            Ok(())
                        }
                    })
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                round.refused += 1;
            }
            Err(Taken::Failed(why)) => return Err(why),
        }
    }
    if cursor != Some(today) {
        let (key, value) = (cursor_key(unit), today.to_string().into_bytes());
        app.store
            .write(move |tx| -> Result<(), crate::store::StoreError> {
                tx.put(Space::Meta, &key, value);
                Ok(())
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    round.advanced = true;
    Ok(round)
}

enum Taken {
    Refused(String),
    Failed(String),
}

async fn take(app: &App, detail: &Map<String, Value>, unit: &str) -> Result<(), Taken> {
    let settings = app.settings();
    match portal_intake::take(&app.store, settings, app.clock.clone(), detail, Some(unit), "dvcqg-pull").await {
        Ok(outcome) => {
            let labels =
                IntakeLabels { channel: "dvcqg_pull".to_owned(), outcome: portal_intake::label(&outcome).to_owned() };
            app.metrics.intake.get_or_create(&labels).inc();
            Ok(())
        }
        Err(IntakeError::Invalid(errors)) => Err(Taken::Refused(portal_intake::describe(&errors))),
        Err(IntakeError::Conflict(message)) => Err(Taken::Refused(message)),
        Err(e) => Err(Taken::Failed(e.to_string())),
    }
}

/// Starts the poller, supervised, when the portal is pulled from.
pub fn start(app: Arc<App>, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (tasks, panics) = (app.tasks.clone(), app.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("dvcqg_pull", tasks, panics, stop, move || {
        let (app, shutdown) = (app.clone(), shutdown.clone());
        async move { run(app, shutdown).await }
    })
}

async fn run(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let settings = app.settings();
        let dvcqg = settings.portal.as_ref().and_then(|p| p.dvcqg.as_ref());
        let pull = dvcqg.and_then(|d| d.pull.as_ref());
        let outbound = app.outbound();
        let wait = pull.map_or(std::time::Duration::from_secs(60), |p| p.interval);
        if let (Some(pull), Some(client)) = (pull, outbound.dvcqg()) {
            for unit in &pull.units {
                match round(&app, client, pull, unit).await {
                    Ok(r) if r.taken + r.refused > 0 => {
                        tracing::info!(
                            unit,
                            listed = r.listed,
                            taken = r.taken,
                            refused = r.refused,
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
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
