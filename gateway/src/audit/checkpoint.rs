//! Checkpoints: each closed period's links of the whole store, reduced to a count and
//! a root hash, chained to the checkpoint before and signed with the gateway's
//! Ed25519 key; made by the leading node once the period has settled, kept in the
//! store, and published (a file per period, a POST to a configured address) so that
//! a later rewrite of the whole store is found too.

use jiff::Timestamp;
use tokio::sync::watch;

use super::key::AuditKey;
pub use super::signed::{Checkpoint, Leaves, decode_hex};
use super::{Periods, hex};
use crate::core::Core;
use crate::dossiers::DossierRecord;
use crate::store::{StoreError, keys};

/// The stored checkpoints, oldest first.
pub fn stored(store: &crate::store::Store) -> Result<Vec<Checkpoint>, StoreError> {
    store
        .scan_prefix(&keys::checkpoints())
        .map(|item| {
            let (key, bytes) = item?;
            crate::store::decode(&key, &bytes)
        })
        .collect()
}

/// Builds and signs the checkpoint of the period starting at `start`, after `prev`;
/// also says how many dossiers' chains did not match (sealed as found).
pub fn build(
    store: &crate::store::Store,
    key: &AuditKey,
    periods: Periods,
    start: i64,
    prev: Option<&Checkpoint>,
) -> Result<(Checkpoint, u64), StoreError> {
    let mut breaks = 0;
    let end = start + periods.length;
    let mut leaves = Leaves::new();
    for item in store.scan_prefix(&keys::sealed_in_period(start)) {
        let (index_key, _) = item?;
        let Some(code) = keys::parse_sealed_in(&index_key, &keys::sealed_in_period(start)) else { continue };
        let Some(record) = store.get_json::<DossierRecord>(&keys::dossier(code))? else { continue };
        let links = match super::verify::walk(&record) {
            Ok(links) => links,
            Err(f) => {
                // Sealed as found: the break stays for `audit verify` to name.
                tracing::error!(dossier = %f.at, link = %f.link, problem = %f.problem, "a dossier's sealed history does not match");
                breaks += 1;
                Vec::new()
            }
        };
        let mut first = true;
        for link in links.iter().filter(|l| (start..end).contains(&l.time.as_second())) {
            leaves.add(code, &link.hash, first);
            first = false;
        }
    }
    let (links, dossiers, root) = leaves.finish();
    let prev = prev.map_or_else(|| hex(&[0u8; 32]), |p| hex(&p.digest()));
    let mut checkpoint = Checkpoint {
        start,
        end,
        links,
        dossiers,
        root: hex(&root),
        prev,
        key: key.public_hex(),
        signature: String::new(),
        published: false,
    };
    checkpoint.signature = hex(&key.sign(&checkpoint.signed_bytes()));
    Ok((checkpoint, breaks))
}

/// Writes the checkpoint to `dir` as `<start>.json` (the period's start in Vietnam's
/// time, `2026-12-01T00-00-00.json`), replacing nothing already there.
pub fn publish_file(dir: &std::path::Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    let start = Timestamp::from_second(checkpoint.start).map_err(std::io::Error::other)?;
    let name = motcua_schemas::time::to_vn(start).strftime("%Y-%m-%dT%H-%M-%S.json").to_string();
    let path = dir.join(name);
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let bytes = serde_json::to_vec_pretty(checkpoint).map_err(std::io::Error::other)?;
    let partial = dir.join(format!(".{}.partial", checkpoint.start));
    std::fs::write(&partial, bytes)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(partial, path)
}

/// Closes every settled period after the newest checkpoint, publishes what is not yet
/// published, and returns how many checkpoints it made.
pub async fn round(core: &Core, key: &AuditKey) -> Result<usize, StoreError> {
    let settings = core.settings();
    let audit = &settings.audit;
    let periods = audit.periods;
    let now = core.clock.now().as_second();
    let existing = stored(&core.store)?;
    let mut last = existing.last().cloned();
    if let Some(c) = &last {
        core.metrics.audit_checkpoint_end.set(c.end);
    }
    let mut made = 0;
    // The first period is the one of the oldest sealed link; a store without any
    // starts with the current period.
    let mut next = match &last {
        Some(c) => c.end,
        None => first_sealed_period(&core.store)?.unwrap_or_else(|| periods.start_of(core.clock.now())),
    };
    // Before the first checkpoint the gauge shows where it will start, so that the alert
    // on stalled checkpoints also covers a store that never made one.
    core.metrics.audit_checkpoint_end.set(next);
    core.metrics.audit_period.set(periods.length.saturating_add(periods.settle));
    while next + periods.length + periods.settle <= now && made < 1000 {
        let (checkpoint, breaks) = build(&core.store, key, periods, next, last.as_ref())?;
        core.metrics.audit_breaks.inc_by(breaks);
        let stored = checkpoint.clone();
        let written = core
            .store
            .write(move |tx| {
                let at = keys::checkpoint(stored.start);
                if tx.get(&at)?.is_some() {
                    return Ok::<bool, StoreError>(false);
                }
                tx.put_json(&at, &stored)?;
                Ok(true)
            })
            .await??;
        if !written {
            break;
        }
        core.metrics.audit_checkpoint_end.set(checkpoint.end);
        tracing::info!(start = %checkpoint.start_text(), links = checkpoint.links, root = %checkpoint.root, "checkpoint signed");
        next = checkpoint.end;
        last = Some(checkpoint);
        made += 1;
    }
    publish(core, audit).await?;
    Ok(made)
}

fn first_sealed_period(store: &crate::store::Store) -> Result<Option<i64>, StoreError> {
    let prefix = keys::sealed_in_period_all();
    match store.scan_prefix(&prefix).next() {
        Some(item) => {
            let (key, _) = item?;
            Ok(keys::parse_sealed_period(&key))
        }
        None => Ok(None),
    }
}

async fn publish(core: &Core, audit: &crate::settings::audit::AuditSettings) -> Result<(), StoreError> {
    for checkpoint in stored(&core.store)? {
        if let Some(dir) = &audit.publish_dir
            && let Err(e) = publish_file(dir, &checkpoint)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot publish a checkpoint to its directory");
        }
        if checkpoint.published {
            continue;
        }
        let Some(target) = &audit.publish_url else { continue };
        let sent = target.client.post(&target.url).json(&checkpoint).send().await;
        match sent.map(|r| r.status()) {
            Ok(status) if status.is_success() => {
                let start = checkpoint.start;
                core.store
                    .write(move |tx| {
                        let at = keys::checkpoint(start);
                        if let Some(mut c) = tx.get_json::<Checkpoint>(&at)? {
                            c.published = true;
                            tx.put_json(&at, &c)?;
                        }
                        Ok::<(), StoreError>(())
                    })
                    .await??;
            }
            Ok(status) => {
                tracing::warn!(start = %checkpoint.start_text(), %status, "the checkpoint address refused a checkpoint");
                break;
            }
            Err(e) => {
                tracing::warn!(start = %checkpoint.start_text(), error = %e, "cannot reach the checkpoint address");
                break;
            }
        }
    }
    Ok(())
}

/// Runs the checkpoint rounds on the leading node until `shutdown`.
pub fn start(core: Core, mut shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(key) = core.audit_key() else { return };
        loop {
            if let Err(e) = round(&core, &key).await {
                tracing::warn!(error = %e, "the checkpoint round failed; it runs again");
            }
            let every = core.settings().audit.periods.length.clamp(1, 60) as u64;
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(every)) => {}
            }
        }
    })
}
