//! The monthly satisfaction summary to the national portal (`DongBoDanhGia`,
//! docs/PORTAL.md "Ratings"): once a month has ended and settled, one row per desk —
//! its agency code and name, the month's ratings of the units it serves — sent on the
//! leading node and settled by the portal's answer; a month refused is sent again
//! next round, and an operator may send any month again (`POST /v1/admin/portal/ratings`).

use jiff::{Timestamp, civil::Date};
use motcua_adapters::dvcqg::{
    client::SyncOutcome,
    ratings::{MonthRatings, row},
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::core::Core;
use crate::network::Network;
use crate::store::{StoreError, keys};

/// Where a month's summary stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthState {
    /// Sent and taken by the portal.
    pub sent: bool,
    /// When it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "motcua_schemas::time::rfc3339::option")]
    pub sent_at: Option<Timestamp>,
    /// Rows sent.
    #[serde(default)]
    pub rows: usize,
    /// Why the last try failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `YYYYMM` of a month.
pub fn month_key(month: Date) -> String {
    month.strftime("%Y%m").to_string()
}

/// The desk that serves `unit`: its own, or its nearest parent's.
fn desk_of<'a>(network: &'a Network, unit: &motcua_schemas::UnitCode) -> Option<&'a str> {
    let mut at = network.unit(unit);
    for _ in 0..8 {
        let u = at?;
        if let Some(desk) = &u.desk {
            return Some(desk.as_str());
        }
        at = u.parent.as_ref().and_then(|p| network.unit(p));
    }
    None
}

/// The rows of `month` (its first day): one per desk with any rating.
pub fn rows(core: &Core, month: Date, subject: &str) -> Result<Vec<serde_json::Value>, StoreError> {
    let settings = core.settings();
    let network = &settings.network;
    let last = month.last_of_month();
    let mut per_desk: std::collections::BTreeMap<&str, [u64; 3]> = std::collections::BTreeMap::new();
    // A unit may be listed once per period of its validity: each code counts once.
    let codes: std::collections::BTreeSet<&motcua_schemas::UnitCode> = network.units().map(|u| &u.code).collect();
    for code in codes {
        let Some(desk) = desk_of(network, code) else { continue };
        let [not, satisfied, very] = crate::stats::ratings_of(&core.store, code, month, last)?;
        let counts = per_desk.entry(desk).or_default();
        counts[0] += very;
        counts[1] += satisfied;
        counts[2] += not;
    }
    Ok(per_desk
        .into_iter()
        .filter(|(_, counts)| counts.iter().sum::<u64>() > 0)
        .filter_map(|(desk, counts)| {
            let desk = network.desk(desk)?;
            let r = MonthRatings {
                month: month.month(),
                year: month.year(),
                unit: desk.agency.to_string(),
                name: desk.name.clone(),
                counts,
            };
            Some(row(&r, subject))
        })
        .collect())
}

/// Marks `month` to be sent (again) next round.
pub async fn queue(core: &Core, month: Date) -> Result<(), StoreError> {
    let key = keys::ratings_month(&month_key(month));
    core.store
        .write(move |tx| {
            tx.put_json(&key, &MonthState { sent: false, sent_at: None, rows: 0, last_error: None })?;
            Ok::<(), StoreError>(())
        })
        .await?
}

async fn round(core: &Core) -> Result<(), StoreError> {
    let settings = core.settings();
    let (Some(d), Some(client)) = (settings.dvcqg(), core.outbound().dvcqg().cloned()) else { return Ok(()) };
    let Some(r) = &d.ratings else { return Ok(()) };
    let now = core.clock.now();
    // The month before the one `after_secs` ago is due once, on its own.
    let settled = now - jiff::SignedDuration::from_secs(i64::try_from(r.after_secs).unwrap_or(3600));
    let previous = motcua_schemas::time::to_vn(settled).date().first_of_month().yesterday().map(|d| d.first_of_month());
    if let Ok(previous) = previous
        && core.store.get(&keys::ratings_month(&month_key(previous)))?.is_none()
    {
        queue(core, previous).await?;
    }
    for item in core.store.scan_prefix(&keys::ratings_months()).collect::<Vec<_>>() {
        let (key, value) = item?;
        let state: MonthState = crate::store::decode(&key, &value)?;
        if state.sent {
            continue;
        }
        let Some(month) = std::str::from_utf8(key.after(&keys::ratings_months()))
            .ok()
            .and_then(|m| Date::strptime("%Y%m%d", format!("{m}01")).ok())
        else {
            continue;
        };
        let rows = rows(core, month, &r.subject)?;
        let outcome =
            if rows.is_empty() { SyncOutcome::Done { updated: false } } else { client.sync_ratings(&rows).await };
        let (label, next) = match outcome {
            SyncOutcome::Done { .. } => (
                if rows.is_empty() { "nothing_rated" } else { "sent" },
                MonthState { sent: true, sent_at: Some(core.clock.now()), rows: rows.len(), last_error: None },
            ),
            SyncOutcome::Retry { reason, .. } | SyncOutcome::Rejected { reason } => {
                tracing::warn!(month = %month_key(month), reason = %motcua_adapters::outbound::loggable_cause(&reason), "the portal did not take the month's ratings; sent again next round");
                ("refused", MonthState { sent: false, sent_at: None, rows: rows.len(), last_error: Some(reason) })
            }
        };
        core.metrics.ratings_syncs.get_or_create(&crate::metrics::CallbackLabels { outcome: label.into() }).inc();
        core.store
            .write(move |tx| {
                tx.put_json(&key, &next)?;
                Ok::<(), StoreError>(())
            })
            .await??;
    }
    Ok(())
}

/// Runs the rounds on the leading node until `shutdown`.
pub fn start(core: Core, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (tasks, panics) = (core.tasks.clone(), core.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("portal_ratings", tasks, panics, stop, move || {
        let (core, mut shutdown) = (core.clone(), shutdown.clone());
        async move {
            loop {
                if let Err(e) = round(&core).await {
                    tracing::warn!(error = %e, "the ratings round failed; it runs again");
                }
                let every = core.settings().dvcqg().and_then(|d| d.ratings.as_ref()).map_or(600, |r| r.every_secs);
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(every.max(1))) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
        }
    })
}
