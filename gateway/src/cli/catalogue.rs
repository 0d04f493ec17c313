//! `motcua catalogue sync`: the national catalogue read through the provincial
//! connector (`[catalogue_sync]`, docs/CATALOGUE.md) and written as the reviewed
//! `[[procedures]]` file; what changed since the file in force is printed, and the new
//! file waits beside it (`.new`) until a person accepts it (`--accept`).

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use motcua_adapters::dvcqg::catalogue;
use motcua_gateway::catalogue::national;
use motcua_gateway::config::file::{CatalogueSyncSection, ConfigFile};

/// What `motcua catalogue` does.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogueCommand {
    /// Read the national catalogue and write the reviewed procedures file.
    Sync {
        /// The configuration file (its `[catalogue_sync]`).
        #[arg(long, default_value = super::DEFAULT_CONFIG)]
        config: PathBuf,
        /// Put the new file in force now, instead of writing it beside as `.new`.
        #[arg(long)]
        accept: bool,
    },
}

/// Largest answer read from the connector.
const MAX_ANSWER: usize = 16 << 20;

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let response = http.get(url).send().await.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body = motcua_adapters::outbound::read_capped(response, MAX_ANSWER)
        .await
        .map_err(|o| anyhow::anyhow!("{url}: {o:?}"))?;
    if !status.is_success() {
        bail!("{url} answered HTTP {status}");
    }
    Ok(body.to_vec())
}

async fn fetch(sync: &CatalogueSyncSection) -> anyhow::Result<(Vec<national::Entry>, Vec<String>)> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(sync.timeout_secs.max(1))).build()?;
    let base = sync.url.trim_end_matches('/');
    let listed = catalogue::list(&get(&http, &format!("{base}{}", sync.list_path)).await?)
        .map_err(|e| anyhow::anyhow!("the list: {e}"))?;
    let wanted = |code: &str| {
        sync.procedures.is_empty()
            || code
                .parse::<motcua_schemas::ProcedureCode>()
                .is_ok_and(|c| sync.procedures.iter().any(|p| p == c.national() || p == c.as_str()))
    };
    let (mut entries, mut review) = (Vec::new(), Vec::new());
    for item in listed.iter().filter(|l| wanted(&l.code)) {
        let mut url = reqwest::Url::parse(&format!("{base}{}", sync.detail_path))?;
        url.query_pairs_mut().append_pair("maTTHC", &item.code);
        match catalogue::detail(&get(&http, url.as_str()).await?) {
            Ok(p) => {
                let (entry, notes) = national::entry(&p, sync);
                entries.push(entry);
                review.extend(notes);
            }
            // One procedure the catalogue cannot describe does not stop the others.
            Err(e) => review.push(format!("{}: not written ({e})", item.code)),
        }
    }
    Ok((entries, review))
}

/// Runs a catalogue command.
pub fn run(command: CatalogueCommand) -> anyhow::Result<ExitCode> {
    let CatalogueCommand::Sync { config, accept } = command;
    let text = std::fs::read_to_string(&config).with_context(|| format!("cannot read {}", config.display()))?;
    let file: ConfigFile = toml::from_str(&text).with_context(|| format!("cannot parse {}", config.display()))?;
    let Some(sync) = file.catalogue_sync else { bail!("{} has no [catalogue_sync] section", config.display()) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (mut entries, review) = runtime.block_on(fetch(&sync))?;
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date().to_string();
    let written = national::render(&mut entries, &sync.url, &today, &review).map_err(|e| anyhow::anyhow!(e))?;
    let target = config.parent().unwrap_or(std::path::Path::new(".")).join(&sync.file);
    let in_force = std::fs::read_to_string(&target).unwrap_or_default();
    let changes = national::diff(&in_force, &written);
    for line in &changes {
        println!("{}", motcua_schemas::text::printable(line));
    }
    for line in &review {
        eprintln!("to settle: {}", motcua_schemas::text::printable(line));
    }
    let path = if accept { target.clone() } else { target.with_extension("toml.new") };
    if changes.is_empty() && !accept {
        println!("{}: {} procedures, nothing changed", target.display(), entries.len());
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&path, written).with_context(|| format!("cannot write {}", path.display()))?;
    if accept {
        let _ = std::fs::remove_file(target.with_extension("toml.new"));
        println!(
            "{}: {} procedures, {} changes in force; reload the gateway",
            path.display(),
            entries.len(),
            changes.len()
        );
    } else {
        println!(
            "{}: {} procedures, {} changes to review; run again with --accept to put them in force",
            path.display(),
            entries.len(),
            changes.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
